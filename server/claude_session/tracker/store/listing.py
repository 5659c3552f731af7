"""How ``History.list_sessions`` reads a filtered page and its total within issue 27's goal
(under 50 ms at 100,000 records, ``bench/bench_search.py``), on SQLite and PostgreSQL.

- The total is counted up to ``COUNT_LIMIT`` + 1 ("more than 1,000", as search pages say): an
  exact count of 50,000 matches cost more than the page.
- That bounded count also says which way to read the page. At most ``COUNT_LIMIT`` matches:
  their ids are found by the index that finds them (full-text, branch), then ordered; the
  newest-first index would walk the whole history to find a few. More: the newest-first
  index, testing each row, finds a page after a few hundred rows.
- The planners are told which way (SQLite's CROSS JOIN keeps its tables' order, PostgreSQL
  reads a MATERIALIZED list first), as each guesses wrong on some of these queries: SQLite
  without statistics, PostgreSQL for a prefix word.
- SQLite tests a row's text against the list of the full-text index's matching rowids, a list
  built whole first; on a common word the page first tries the newest ``WINDOW`` rows (the
  matches between their lowest and highest rowid), and reads the whole list only when they
  hold too few. A branch or a date range holding at most ``NARROW`` rows is read first, and
  its rows tested against the matches between their lowest and highest rowid.
  PostgreSQL counts a common word in that window too, testing rows without the GIN index.
- Not here: PostgreSQL plans each statement for its values (``database.create_engine``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import Join

from claude_session.tracker.store import search
from claude_session.tracker.store.database import Guid, Moment
from claude_session.tracker.store.schema import claude_sessions
from claude_session.tracker.store.search import Filters

#: a page's total counts the matching sessions up to this many, then says "more than"
COUNT_LIMIT = 1000
#: the newest rows a common word is looked for in first
WINDOW = 4000
#: SQLite: a branch or a date range that leaves at most this many rows is read before the text
NARROW = 5000

#: the list's order, newest first: (started_at, created_at, id)
KEY = (claude_sessions.c.started_at, claude_sessions.c.created_at, claude_sessions.c.id)

#: SQLite's key of a row, which the full-text table's rows carry
ROWID: Any = sa.literal_column("claude_sessions.rowid")

#: a page query from the rows it reads (FROM, None for claude_sessions alone) and conditions
PageQuery = Callable[[Any, list[Any]], sa.Select[Any]]


class _CrossJoin(Join):
    """An inner join that SQLite reads left table first (its CROSS JOIN)."""

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _cross_join(join: _CrossJoin, compiler: Any, **kw: Any) -> str:
    kw.pop("asfrom", None)
    linter = kw.get("from_linter")
    if linter is not None:  # the two sides are joined, as Join's own compiling records
        linter.edges.update(itertools.product(join.left._from_objects, join.right._from_objects))
    return (
        join.left._compiler_dispatch(compiler, asfrom=True, **kw)
        + " CROSS JOIN "
        + join.right._compiler_dispatch(compiler, asfrom=True, **kw)
        + " ON "
        + join.onclause._compiler_dispatch(compiler, **kw)  # type: ignore[union-attr]
    )


def count(conn: Connection, base: list[Any], filters: Filters | None, *, user: Any) -> int:
    """How many sessions match, up to COUNT_LIMIT + 1 (``base``: every condition but the
    filters, which this adds; ``user``: the condition on the user alone)."""
    dialect = conn.dialect.name
    terms = search.words(filters.text) if filters is not None and search.has_text(filters) else None
    if terms is not None and not terms:
        return 0
    if dialect == "sqlite" and terms and filters is not None:
        narrow = _narrowed(conn, user, filters)
        if narrow is not None:
            return _counted(conn, *_narrow_rows(narrow, base, filters, terms))
        # from the full-text index's matches, newest first (most searches are of recent
        # work), each looked up by rowid until enough
        rows = _CrossJoin(search.FTS, claude_sessions, search.FTS.c.rowid == ROWID)
        conditions = [*base, *search.conditions(filters, dialect, text=False)]
        conditions.append(search.fts_match(terms))
        return _counted(conn, rows, conditions, order=search.FTS.c.rowid.desc())
    if dialect == "sqlite" and filters is not None and filters.branch:
        both = _on_branch(base, filters, filters.branch)
        return int(conn.execute(sa.select(sa.func.count()).select_from(both)).scalar_one())
    if dialect == "postgresql" and terms:
        # a common word is counted in the newest rows (all of them when there are fewer than
        # WINDOW: then the count is whole), each row tested
        newest = _window_start(conn, [user, *search.dates(filters)])
        bound = [] if newest is None else [sa.tuple_(*KEY) >= sa.tuple_(*newest)]
        counted = _counted(
            conn,
            None,
            [
                *base,
                *bound,
                *search.conditions(filters, dialect, text=False),
                search.matches(terms, dialect, indexed=False),
            ],
        )
        if newest is None or counted > COUNT_LIMIT:
            return counted
    return _counted(conn, None, [*base, *search.conditions(filters, dialect)])


def rows(
    conn: Connection,
    base: list[Any],
    filters: Filters | None,
    *,
    capped: bool,
    page: PageQuery,
    size: int,
    scope: list[Any] | None,
    user: Any,
) -> list[Row[Any]]:
    """The rows of the page ``page`` makes (``size`` + 1 of them at most), read the way the
    count (``capped``: more than COUNT_LIMIT match) says. ``base`` holds every condition but
    the filters (with the cursor's place); ``scope`` the user's and the place's alone when the
    page goes newest first (None: the other way)."""
    dialect = conn.dialect.name
    terms = search.words(filters.text) if filters is not None and search.has_text(filters) else None
    if not capped:
        return list(conn.execute(page(_matching(conn, base, filters, terms, user), base)))
    if dialect == "sqlite" and terms and scope is not None:
        # the newest WINDOW rows first; the matches among them are a short list
        window = _sqlite_window(conn, [*scope, *search.dates(filters)])
        if window is not None:
            bound, (lowest, highest), whole = window
            found = list(
                conn.execute(
                    page(
                        None,
                        [
                            *base,
                            *bound,
                            *search.conditions(filters, dialect, text=False),
                            search.matches(terms, dialect, lowest=lowest, highest=highest),
                        ],
                    )
                )
            )
            if whole or len(found) > size:
                return found
    return list(conn.execute(page(None, [*base, *search.conditions(filters, dialect)])))


def _matching(
    conn: Connection, base: list[Any], filters: Filters | None, terms: Any, user: Any
) -> Any:
    """The rows to read a page from when at most COUNT_LIMIT match: the matching ids first
    (by the index that finds them), then their rows."""
    c = claude_sessions.c
    dialect = conn.dialect.name
    if dialect == "sqlite":
        narrow = _narrowed(conn, user, filters) if terms and filters is not None else None
        if narrow is not None and filters is not None:
            narrowed, conditions = _narrow_rows(narrow, base, filters, terms)
            found = sa.select(ROWID.label("found")).select_from(narrowed).where(*conditions)
            ids = found.limit(COUNT_LIMIT + 1).subquery("matching")
            return _CrossJoin(ids, claude_sessions, ids.c.found == ROWID)
        if terms:
            source: Any = _CrossJoin(search.FTS, claude_sessions, search.FTS.c.rowid == ROWID)
            found = sa.select(ROWID.label("found")).select_from(source)
            found = found.where(
                search.fts_match(terms), *search.conditions(filters, dialect, text=False)
            )
        elif filters is not None and filters.branch:
            ids = _on_branch(base, filters, filters.branch)
            return _CrossJoin(ids, claude_sessions, ids.c.found == ROWID)
        else:
            found = sa.select(ROWID.label("found")).select_from(claude_sessions)
            found = found.where(*search.conditions(filters, dialect))
        ids = found.where(*base).limit(COUNT_LIMIT + 1).subquery("matching")
        return _CrossJoin(ids, claude_sessions, ids.c.found == ROWID)
    found = sa.select(c.id.label("found")).where(*base, *search.conditions(filters, dialect))
    listed = found.limit(COUNT_LIMIT + 1).cte("matching").prefix_with("MATERIALIZED")
    return listed.join(claude_sessions, c.id == listed.c.found)


def _narrowed(conn: Connection, user: Any, filters: Filters) -> tuple[Any, int, int] | None:
    """SQLite: when the branch or else the date range holds at most NARROW of the user's rows,
    those rows' rowids (``found``, read from the index alone) and the lowest and highest of
    them; else None. Matching them against the text costs what the full-text index holds
    between those two rowids, where starting from the text looks up every match of the word."""
    c = claude_sessions.c
    if filters.branch:
        arms = [
            sa.select(ROWID.label("found"))
            .select_from(claude_sessions)
            .where(user, column == filters.branch)
            .limit(NARROW + 1)
            .subquery()
            for column in (c.ending_branch, c.starting_branch)
        ]
        each = [sa.select(arm.c.found) for arm in arms]
        checked, rows = sa.union_all(*each).subquery(), sa.union(*each).subquery("narrow")
    elif filters.since is not None or filters.until is not None:
        rows = (
            sa.select(ROWID.label("found"))
            .select_from(claude_sessions)
            .where(user, *search.dates(filters))
            .limit(NARROW + 1)
            .subquery("narrow")
        )
        checked = rows
    else:
        return None
    found = sa.select(sa.func.count(), sa.func.min(checked.c.found), sa.func.max(checked.c.found))
    many, lowest, highest = conn.execute(found.select_from(checked)).one()
    if many > NARROW:
        return None
    return rows, int(lowest or 1), int(highest or 0)


def _narrow_rows(
    narrow: tuple[Any, int, int], base: list[Any], filters: Filters, terms: list[str]
) -> tuple[Any, list[Any]]:
    """SQLite: the narrowed rows joined, in that order, to their records, and the conditions
    that the text and the other filters add."""
    rows, lowest, highest = narrow
    if highest < lowest:  # none
        return claude_sessions, [sa.false()]
    joined = _CrossJoin(rows, claude_sessions, rows.c.found == ROWID)
    conditions = [*base, *search.conditions(filters, "sqlite", text=False)]
    conditions.append(search.matches(terms, "sqlite", lowest=lowest, highest=highest))
    return joined, conditions


def _on_branch(base: list[Any], filters: Filters, branch: str) -> Any:
    """SQLite: the rowids (``found``) of the rows on ``branch`` that match, up to COUNT_LIMIT
    + 1 of each kind: the ending branch's and the starting branch's, each from its index (an
    OR walks the user's rows), their union exact below the limit."""
    c = claude_sessions.c
    rest = [*base, *search.conditions(filters, "sqlite", text=False, branch=False)]
    arms = [
        sa.select(ROWID.label("found"))
        .select_from(claude_sessions)
        .where(*rest, column == branch)
        .limit(COUNT_LIMIT + 1)
        .subquery()
        for column in (c.ending_branch, c.starting_branch)
    ]
    return sa.union(*(sa.select(arm.c.found) for arm in arms)).subquery("matching")


def _counted(conn: Connection, rows: Any, conditions: list[Any], *, order: Any = None) -> int:
    inner = sa.select(sa.literal(1))
    inner = inner.select_from(rows if rows is not None else claude_sessions)
    if order is not None:
        inner = inner.order_by(order)
    limited = inner.where(*conditions).limit(COUNT_LIMIT + 1).subquery()
    return int(conn.execute(sa.select(sa.func.count()).select_from(limited)).scalar_one())


def _window_start(conn: Connection, scope: list[Any]) -> tuple[Any, ...] | None:
    """The key of the WINDOW-th newest row in ``scope`` (the user's, after a place), or None
    when there are fewer rows."""
    order = [k.desc() for k in KEY]
    last = conn.execute(
        sa.select(*KEY).where(*scope).order_by(*order).limit(1).offset(WINDOW - 1)
    ).first()
    if last is None:
        return None
    return (
        sa.literal(last[0], Moment()),
        sa.literal(last[1], Moment()),
        sa.literal(str(last[2]), Guid()),
    )


def _sqlite_window(
    conn: Connection, scope: list[Any]
) -> tuple[list[Any], tuple[int, int], bool] | None:
    """SQLite: the newest WINDOW rows in ``scope``: the condition that bounds them (none when
    they are all of it), the lowest and highest rowid among them, and whether they are all of
    it; None when ``scope`` holds no row."""
    newest = _window_start(conn, scope)
    order = [k.desc() for k in KEY]
    window = sa.select(ROWID.label("r")).select_from(claude_sessions).where(*scope)
    rows = window.order_by(*order).limit(WINDOW).subquery()
    lowest, highest = conn.execute(sa.select(sa.func.min(rows.c.r), sa.func.max(rows.c.r))).one()
    if lowest is None:
        return None
    bound = [] if newest is None else [sa.tuple_(*KEY) >= sa.tuple_(*newest)]
    return bound, (int(lowest), int(highest)), newest is None
