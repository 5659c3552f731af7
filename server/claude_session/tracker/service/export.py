"""The export of a filtered list over HTTP (``GET /api/sessions?format=csv``, the UI's link)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import Response

from claude_session.models import SessionRecord
from claude_session.tracker.export import to_csv


def csv_response(records: Iterable[SessionRecord]) -> Response:
    return Response(
        to_csv(records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sessions.csv"'},
    )
