"""The export of a filtered list over HTTP: ``GET /api/sessions?format=csv``, and the UI's links
``/export.csv`` and ``/export.json`` (the list's search and filters, every page up to
``EXPORT_LIMIT`` records)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from claude_session.models import SessionRecord
from claude_session.tracker.export import to_csv


def csv_response(records: Iterable[SessionRecord]) -> Response:
    return Response(
        to_csv(records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sessions.csv"'},
    )


EXPORT_LIMIT = 10_000


async def _filtered(request: Request) -> list[Any] | Response:
    """The signed-in user's records the UI's search names (or the log-in page)."""
    from claude_session.tracker.service import ui

    user = await ui.signed_in(request)
    if user is None:
        return ui._to_login(request)
    _query, filters = ui._filters(request)
    app_id = request.query_params.get("application_id") or None
    page = await run_in_threadpool(
        lambda: ui._store(request).history.list_sessions(
            user, application_id=app_id, limit=EXPORT_LIMIT, filters=filters
        )
    )
    return list(page.sessions)


async def export_csv(request: Request) -> Response:
    found = await _filtered(request)
    return found if isinstance(found, Response) else csv_response(found)


async def export_json(request: Request) -> Response:
    found = await _filtered(request)
    if isinstance(found, Response):
        return found
    return JSONResponse(
        {"sessions": [s.model_dump(mode="json") for s in found], "total": len(found)},
        headers={"Content-Disposition": 'attachment; filename="sessions.json"'},
    )


routes: list[BaseRoute] = [
    Route("/export.csv", export_csv, methods=["GET"]),
    Route("/export.json", export_json, methods=["GET"]),
]
