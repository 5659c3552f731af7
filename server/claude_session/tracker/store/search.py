"""Finding records: the text search and the filters of the list, as conditions on
``claude_sessions`` for ``History.list_sessions`` and the totals.

The text search uses each database's own full-text index, made by migration 0002 over the
summary, accomplishments, next steps, branches and changed files: SQLite's FTS5 table (kept in
step by triggers) and PostgreSQL's generated ``tsvector`` column (GIN index). What the person
typed is never passed as query syntax: it is cut into words, each matched as a word (a prefix
for the last one, as one types), all of them required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from claude_session.tracker.store.schema import claude_sessions

#: the longest search text and the most words taken from it
MAX_QUERY = 200
MAX_WORDS = 12
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; None (or empty) is no narrowing."""

    text: str | None = None
    branch: str | None = None  # the starting or the ending branch
    machine: str | None = None
    end_mode: str | None = None
    since: datetime | None = None  # started at or after
    until: datetime | None = None  # started before

    def any(self) -> bool:
        return any(v not in (None, "") for v in self.__dict__.values())


def words(text: str | None) -> list[str]:
    """The words of a search text, as the indexes cut them (letters, digits, underscore)."""
    return _WORD.findall((text or "")[:MAX_QUERY])[:MAX_WORDS]


def conditions(filters: Filters | None, dialect: str) -> list[Any]:
    """The filters as SQL conditions on ``claude_sessions`` (a text with no word in it
    matches nothing)."""
    if filters is None:
        return []
    found: list[Any] = []
    c = claude_sessions.c
    if filters.branch:
        found.append(sa.or_(c.ending_branch == filters.branch, c.starting_branch == filters.branch))
    if filters.machine:
        found.append(c.machine == filters.machine)
    if filters.end_mode:
        found.append(c.end_mode == filters.end_mode)
    if filters.since is not None:
        found.append(c.started_at >= filters.since)
    if filters.until is not None:
        found.append(c.started_at < filters.until)
    if filters.text is not None and filters.text.strip():
        found.append(_matches(words(filters.text), dialect))
    return found


def _matches(terms: list[str], dialect: str) -> Any:
    if not terms:
        return sa.false()
    if dialect == "postgresql":
        # to_tsquery of words we made: 'w1' & 'w2' & 'w3':* (quotes doubled, never syntax)
        query = " & ".join(
            "'" + w.replace("'", "''") + "'" + (":*" if n == len(terms) - 1 else "")
            for n, w in enumerate(terms)
        )
        return sa.literal_column("claude_sessions.search").op("@@")(
            sa.func.to_tsquery(sa.literal_column("'simple'"), query)
        )
    # FTS5: each word a quoted string (quotes doubled), the last one a prefix
    match = " ".join(
        '"' + w.replace('"', '""') + '"' + ("*" if n == len(terms) - 1 else "")
        for n, w in enumerate(terms)
    )
    rows = sa.text("SELECT rowid FROM claude_sessions_fts WHERE claude_sessions_fts MATCH :match")
    return sa.literal_column("claude_sessions.rowid").in_(
        rows.bindparams(match=match).columns(sa.column("rowid"))
    )


def from_query(query: dict[str, str]) -> Filters:
    """Filters from the API's query names (q, branch, machine, end_mode, since, until); a
    date that does not parse is an InvalidRecord naming it."""
    from claude_session.errors import InvalidRecord

    def moment(name: str) -> datetime | None:
        raw = query.get(name)
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise InvalidRecord(f"{name} must be an ISO-8601 date or time.", name) from exc
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    return Filters(
        text=query.get("q") or None,
        branch=query.get("branch") or None,
        machine=query.get("machine") or None,
        end_mode=query.get("end_mode") or None,
        since=moment("since"),
        until=moment("until"),
    )
