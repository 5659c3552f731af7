"""A filtered list of records as a file to take away: CSV (one row a record, the fields people
total and search by) or JSON (the records whole). The API's ``format=csv`` and the UI's export
link use it; the CLI writes the same columns (``claude-session history --csv``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from starlette.responses import Response

from claude_session.models import SessionRecord

COLUMNS = (
    "id",
    "application_name",
    "started_at",
    "ended_at",
    "duration_minutes",
    "starting_branch",
    "ending_branch",
    "machine",
    "end_mode",
    "commits_count",
    "tokens_input",
    "tokens_output",
    "tokens_cache_creation",
    "tokens_cache_read",
    "cost_usd",
    "models",
    "continues",
    "summary",
    "next_steps",
)
#: a cell that a spreadsheet would run as a formula starts with one of these
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    # spreadsheets run =, +, -, @ as formulas: text from a record is only text
    return "'" + text if text.startswith(_FORMULA) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(records: Iterable[SessionRecord]) -> str:
    """The records as CSV, a header first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for record in records:
        data = record.model_dump(mode="json")
        writer.writerow([_cell(data.get(name)) for name in COLUMNS])
    return out.getvalue()


def csv_response(records: Iterable[SessionRecord]) -> Response:
    return Response(
        to_csv(records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sessions.csv"'},
    )
