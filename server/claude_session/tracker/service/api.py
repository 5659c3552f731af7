"""The tracker's JSON API: ``/api/...`` routes, bearer-key auth, JSON errors.

    POST /api/sessions           create, or for a known id update, a session record
    GET  /api/sessions           ?application=NAME&since=ISO&until=ISO&limit=N&cursor=C
                                 (paging is by cursor: the previous page's next_cursor)
    GET  /api/sessions/{id}      one record with its maintenance runs
    GET  /api/applications       the caller's applications
    GET  /api/health             {"status": "ok"}
    GET  /api/openapi.json       this API as an OpenAPI 3.1 document (openapi.py)

Every error is ``{"error": message}`` (plus ``field`` for a refused record): 400 unreadable
body, 401 missing or unknown key, 404 unknown or another user's id, 409 an id owned by
another account, 413 body over the limit, 422 a record the model refuses, 503 database down.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

import pydantic
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from claude_session.errors import BadCursor, InvalidRecord, SessionConflict
from claude_session.models import SessionRecord
from claude_session.tracker.store.auth import User
from claude_session.tracker.store.history import Cursor
from claude_session.tracker.store.limits import API_BODY, check_moment, text_problem
from claude_session.tracker.store.search import Filters
from claude_session.tracker.store.storage import Store
from claude_session.vocab import RECORD_ENDS

MAX_BODY = API_BODY
MAX_LIMIT = 500


class ApiError(Exception):
    """An error answered as ``{"error": message[, "field": name]}`` with ``status``."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.message}
        if self.field is not None:
            body["field"] = self.field
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        # ASCII JSON: a message that quotes a lone surrogate still encodes.
        return Response(
            json.dumps(body),
            status_code=self.status,
            headers=headers,
            media_type="application/json",
        )


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def bearer_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401,
            "Send an API key as 'Authorization: Bearer <key>' (create one "
            "with `claude-session tracker token create --user NAME`).",
        )
    return key.strip()


UNKNOWN_KEY = "The API key is not known to this tracker."


async def authenticate(request: Request) -> User:
    """The user whose API key is in the Authorization header."""
    user = await run_in_threadpool(store_of(request).auth.user_for_api_key, bearer_key(request))
    if user is None:
        raise ApiError(401, UNKNOWN_KEY)
    return user


async def read_body(request: Request) -> bytes:
    """The body, refused past ``MAX_BODY`` before it is all read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, f"The body is larger than {MAX_BODY} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, f"The body is larger than {MAX_BODY} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_record(body: bytes) -> SessionRecord:
    """The body as a session record; 400 for unreadable JSON, 422 naming the bad field."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"The body is not JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise ApiError(422, "The body must be a JSON object (a session record).")
    try:
        return SessionRecord.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise ApiError(422, f"{field}: {first['msg']}" if field else first["msg"], field) from exc


async def post_session(request: Request) -> JSONResponse:
    user = await authenticate(request)
    record = parse_record(await read_body(request))
    store = store_of(request)
    try:
        created = await run_in_threadpool(store.records.save, user, record)
    except InvalidRecord as exc:
        raise ApiError(422, str(exc), exc.field) from exc
    except SessionConflict as exc:
        raise ApiError(409, str(exc), "id") from exc
    return JSONResponse({"id": record.id}, status_code=201 if created else 200)


def check_query(request: Request) -> None:
    """400 naming the first query parameter that no column could hold (NUL, ...)."""
    for name, value in request.query_params.multi_items():
        problem = text_problem(value)
        if problem is not None:
            raise ApiError(400, f"{name} {problem}.", name)


def _int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, f"{name} must be an integer.", name) from exc
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}.", name)
    return value


def _time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return check_moment(_MOMENT.validate_python(raw), name)
    except pydantic.ValidationError as exc:
        raise ApiError(400, f"{name} must be an ISO-8601 date or time.", name) from exc
    except InvalidRecord as exc:
        raise ApiError(400, str(exc), name) from exc


_MOMENT = pydantic.TypeAdapter(datetime)


def _cursor_param(request: Request) -> Cursor | None:
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    try:
        return Cursor.decode(raw)
    except BadCursor as exc:
        raise ApiError(400, str(exc), "cursor") from exc


def filters_of(request: Request) -> Filters:
    """The list's search and filters from the query: ``q`` (words of the text), ``branch``,
    ``machine``, ``end_mode``, ``since`` and ``until`` (ISO-8601)."""
    params = request.query_params
    mode = params.get("end_mode") or None
    if mode is not None and mode not in RECORD_ENDS:
        raise ApiError(400, f"end_mode must be one of {', '.join(RECORD_ENDS)}.", "end_mode")
    return Filters(
        text=params.get("q") or None,
        branch=params.get("branch") or None,
        machine=params.get("machine") or None,
        end_mode=mode,
        since=_time_param(request, "since"),
        until=_time_param(request, "until"),
    )


async def list_sessions(request: Request) -> Response:
    user = await authenticate(request)
    check_query(request)
    limit = _int_param(request, "limit", 50, low=0, high=MAX_LIMIT)
    after = _cursor_param(request)
    filters = filters_of(request)
    page = await run_in_threadpool(
        lambda: store_of(request).history.list_sessions(
            user,
            application=request.query_params.get("application"),
            application_id=request.query_params.get("application_id"),
            limit=limit,
            after=after,
            filters=filters,
        )
    )
    if request.query_params.get("format") == "csv":
        from claude_session.tracker.service.export import csv_response

        return csv_response(page.sessions)
    return JSONResponse(
        {
            "sessions": [s.model_dump(mode="json") for s in page.sessions],
            "total": page.total,
            "total_capped": page.capped,
            "next_cursor": page.last.encode() if page.older and page.last else None,
        }
    )


async def get_session(request: Request) -> JSONResponse:
    user = await authenticate(request)
    found = await run_in_threadpool(
        store_of(request).history.get_session, user, request.path_params["session_id"]
    )
    if found is None:
        raise ApiError(404, "No such session.")
    return JSONResponse(found.model_dump(mode="json"))


async def list_applications(request: Request) -> JSONResponse:
    user = await authenticate(request)
    apps = await run_in_threadpool(store_of(request).history.applications, user)
    return JSONResponse({"applications": [a.model_dump(mode="json") for a in apps]})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


@functools.cache
def _openapi() -> dict[str, Any]:
    from claude_session import __version__
    from claude_session.tracker.service.openapi import document

    return document(__version__)


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(_openapi())


routes = [
    Route("/api/health", health, methods=["GET"]),
    Route("/api/openapi.json", openapi, methods=["GET"]),
    Route("/api/sessions", post_session, methods=["POST"]),
    Route("/api/sessions", list_sessions, methods=["GET"]),
    Route("/api/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/api/applications", list_applications, methods=["GET"]),
]
