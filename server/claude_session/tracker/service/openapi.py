"""The API's OpenAPI 3.1 document, built from the pydantic models the API reads and writes.

Served at ``GET /api/openapi.json`` (no key needed). What a JSON Schema cannot say is in the
descriptions: text must hold no NUL and no lone surrogate, moments fall between 1970 and 9999
in UTC, JSON documents nest at most 64 levels; the API answers 422 naming the field otherwise.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from claude_session.models import Model, SessionRecord
from claude_session.tracker.store.history import Application, TrackedSession
from claude_session.tracker.store.limits import EARLIEST, LATEST, MAX_DEPTH
from claude_session.tracker.store.listing import COUNT_LIMIT

TITLE = "claude-session tracker"


class Created(Model):
    id: str


class SessionPage(Model):
    sessions: list[TrackedSession]
    total: int = Field(
        description=f"How many sessions match, counted up to {COUNT_LIMIT:,}: past that, "
        f"`total` is {COUNT_LIMIT:,} and `total_capped` is true (more than {COUNT_LIMIT:,})."
    )
    total_capped: bool = Field(
        default=False, description=f"More than `total` ({COUNT_LIMIT:,}) sessions match."
    )
    next_cursor: str | None = None


class Applications(Model):
    applications: list[Application]


class Health(Model):
    status: str


class Error(Model):
    error: str
    field: str | None = None


LIMITS = (
    f"Text holds no NUL (\\u0000) and no lone surrogate; moments fall between "
    f"{EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} in UTC; integers fit 64 bits; JSON values "
    f"nest at most {MAX_DEPTH} levels. Anything else is refused with 422 naming the field."
)


def document(version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the tracker's API."""
    models: list[type[BaseModel]] = [
        SessionRecord,
        TrackedSession,
        SessionPage,
        Applications,
        Health,
        Error,
        Created,
    ]
    _, schemas = models_json_schema(
        [(m, "validation" if m is SessionRecord else "serialization") for m in models],
        ref_template="#/components/schemas/{model}",
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": version, "description": LIMITS},
        "paths": _paths(),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`claude-session tracker token create --user NAME`",
                }
            },
        },
        "security": [{"bearer": []}],
    }


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _answer(description: str, schema: str = "Error") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*codes: int) -> dict[str, Any]:
    meaning = {
        400: "A parameter or body the tracker cannot read (names the field)",
        401: "No API key, or one this tracker does not know or has revoked",
        404: "No such session for this key's user",
        408: "The body arrived too slowly",
        409: "The id belongs to another account",
        413: "The body is larger than 1 MB",
        422: "A record the tracker refuses (names the field)",
        503: "The tracker's database is unavailable; retry later",
    }
    return {str(code): _answer(meaning[code]) for code in codes}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _paths() -> dict[str, Any]:
    listing = [
        _query("application", {"type": "string"}, "only this application name"),
        _query("application_id", {"type": "string"}, "only this application id"),
        _query("since", {"type": "string", "format": "date-time"}, "sessions started at or after"),
        _query("until", {"type": "string", "format": "date-time"}, "sessions started before"),
        _query(
            "limit", {"type": "integer", "minimum": 0, "maximum": 500, "default": 50}, "page size"
        ),
        _query("cursor", {"type": "string"}, "the previous page's next_cursor"),
    ]
    return {
        "/api/health": {
            "get": {
                "operationId": "health",
                "summary": "The tracker answers",
                "security": [],
                "responses": {"200": _answer("Up", "Health")},
            }
        },
        "/api/sessions": {
            "post": {
                "operationId": "saveSession",
                "summary": "Create, or for a known id update, a session record",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("SessionRecord")}},
                },
                "responses": {
                    "201": _answer("Created", "Created"),
                    "200": _answer("Updated (the id was known)", "Created"),
                    **_errors(400, 401, 408, 409, 413, 422, 503),
                },
            },
            "get": {
                "operationId": "listSessions",
                "summary": "The caller's sessions, newest first",
                "parameters": listing,
                "responses": {
                    "200": _answer("A page of sessions", "SessionPage"),
                    **_errors(400, 401, 503),
                },
            },
        },
        "/api/sessions/{session_id}": {
            "get": {
                "operationId": "getSession",
                "summary": "One session with its maintenance runs",
                "parameters": [
                    {
                        "name": "session_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": _answer("The session", "TrackedSession"),
                    **_errors(401, 404, 503),
                },
            }
        },
        "/api/applications": {
            "get": {
                "operationId": "listApplications",
                "summary": "The caller's applications",
                "responses": {"200": _answer("Applications", "Applications"), **_errors(401, 503)},
            }
        },
    }
