"""A filtered list of records as CSV, one row a record with the fields people total and
search by: the API's ``format=csv``, the UI's export link and ``claude-session history --csv``
write the same columns. Text from a record never becomes a spreadsheet formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

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
