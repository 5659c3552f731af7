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


def has_text(filters: Filters | None) -> bool:
    """Is there a text to search for (which may hold no word, and then matches nothing)?"""
    return filters is not None and filters.text is not None and bool(filters.text.strip())


def dates(filters: Filters | None) -> list[Any]:
    """The filters' date range alone (which the newest-first index reads as a range)."""
    c = claude_sessions.c
    found: list[Any] = []
    if filters is not None and filters.since is not None:
        found.append(c.started_at >= filters.since)
    if filters is not None and filters.until is not None:
        found.append(c.started_at < filters.until)
    return found


def conditions(
    filters: Filters | None, dialect: str, *, text: bool = True, branch: bool = True
) -> list[Any]:
    """The filters as SQL conditions on ``claude_sessions`` (a text with no word in it
    matches nothing); without the text search (``text=False``) or the branch
    (``branch=False``) when the caller reaches those rows another way."""
    if filters is None:
        return []
    found: list[Any] = []
    c = claude_sessions.c
    if filters.branch and branch:
        found.append(sa.or_(c.ending_branch == filters.branch, c.starting_branch == filters.branch))
    if filters.machine:
        found.append(c.machine == filters.machine)
    if filters.end_mode:
        found.append(c.end_mode == filters.end_mode)
    found += dates(filters)
    if text and has_text(filters):
        found.append(matches(words(filters.text), dialect))
    return found


def matches(
    terms: list[str], dialect: str, *, indexed: bool = True, lowest: int = 0, highest: int = 0
) -> Any:
    """The text search as a condition on ``claude_sessions``. PostgreSQL: ``indexed=False``
    tests each row's words without the GIN index (for a few thousand rows read in order, when
    the index would collect every match first). SQLite: only the index's rows from rowid
    ``lowest`` on, up to ``highest`` when given (a list to test rows against costs what it
    holds)."""
    if not terms:
        return sa.false()
    if dialect == "postgresql":
        column: Any = sa.literal_column("claude_sessions.search")
        if not indexed:  # an expression the index does not hold
            column = column.op("||")(sa.literal_column("''::tsvector"))
        return column.op("@@")(ts_query(terms))
    rows = fts_rowids(terms, lowest=lowest, highest=highest)
    return sa.literal_column("claude_sessions.rowid").in_(sa.select(rows.c.rowid))


def ts_query(terms: list[str]) -> Any:
    """PostgreSQL's to_tsquery of words we made: 'w1' & 'w2' & 'w3':* (quotes doubled,
    never syntax)."""
    query = " & ".join(
        "'" + w.replace("'", "''") + "'" + (":*" if n == len(terms) - 1 else "")
        for n, w in enumerate(terms)
    )
    return sa.func.to_tsquery(sa.literal_column("'simple'"), query)


#: SQLite's full-text table, for a join (its rowid is the record's)
FTS = sa.table("claude_sessions_fts", sa.column("rowid", sa.Integer))


def fts_match(terms: list[str]) -> Any:
    """SQLite: the condition that the full-text table's row has the words."""
    return sa.literal_column("claude_sessions_fts").op("MATCH")(_fts_query(terms))


def _fts_query(terms: list[str]) -> str:
    # FTS5: each word a quoted string (quotes doubled), the last one a prefix
    return " ".join(
        '"' + w.replace('"', '""') + '"' + ("*" if n == len(terms) - 1 else "")
        for n, w in enumerate(terms)
    )


def fts_rowids(terms: list[str], *, lowest: int = 0, highest: int = 0) -> Any:
    """SQLite: the rowids of the records whose text has the words (from rowid ``lowest``
    on), as a subquery with one column, ``rowid``."""
    rows = sa.text(
        "SELECT rowid FROM claude_sessions_fts WHERE claude_sessions_fts MATCH :match"
        + (" AND rowid >= :lowest" if lowest else "")
        + (" AND rowid <= :highest" if highest else "")
    )
    bounds = {"lowest": lowest} if lowest else {}
    bounds.update({"highest": highest} if highest else {})
    bound = rows.bindparams(match=_fts_query(terms), **bounds)
    return bound.columns(sa.column("rowid", sa.Integer)).subquery("fts")


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
