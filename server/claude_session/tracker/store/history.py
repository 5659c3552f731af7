"""Reading session records: a user's pages of sessions (keyset cursors), one session with its
runs, the chain of records of one logical session, applications, run types and daily totals.

Every read takes the user, so one user never sees another's rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Connection, Engine, Row

from claude_session.base.clock import now as utcnow
from claude_session.errors import BadCursor, InvalidRecord
from claude_session.models import MaintenanceRun, Model, SessionRecord
from claude_session.tracker.store import listing
from claude_session.tracker.store.auth import User
from claude_session.tracker.store.database import Guid, Moment, Unreadable, is_uuid, reading
from claude_session.tracker.store.limits import check_moment
from claude_session.tracker.store.schema import (
    JSON_COLUMNS,
    applications,
    claude_sessions,
    command_types,
    maintenance_runs,
)
from claude_session.tracker.store.search import Filters


class Application(Model):
    id: str
    name: str
    repository_url: str | None = None


class TrackedRun(MaintenanceRun):
    """A stored maintenance run with its command type (``command_types.name``)."""

    command_type: str | None = None


class TrackedSession(SessionRecord):
    """A stored record with what the tracker adds: its application's id, row times, and its
    runs' command types."""

    application_id: str
    maintenance_runs: list[TrackedRun] = Field(default_factory=list)  # type: ignore[assignment]
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Page:
    sessions: list[TrackedSession]
    total: int  # how many match, counted up to listing.COUNT_LIMIT
    capped: bool = False  # more than ``total`` match (the count stopped there)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)
    newer: bool = False  # are there sessions before this page (newer ones)?
    older: bool = False  # ... and after it?
    first: Cursor | None = None  # where this page starts and ends, for keyset links
    last: Cursor | None = None


@dataclass(frozen=True)
class Cursor:
    """A place in the newest-first order of sessions: (started_at, created_at, id).

    Pages after or before a cursor are an index range scan, so page 2,000 costs what page 1
    does (an offset would walk every row before it).
    """

    started_at: datetime
    created_at: datetime
    id: str

    def encode(self) -> str:
        text = json.dumps([self.started_at.isoformat(), self.created_at.isoformat(), self.id])
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            started, created, row_id = json.loads(raw)
            cursor = cls(
                datetime.fromisoformat(started), datetime.fromisoformat(created), str(row_id)
            )
            check_moment(cursor.started_at, "cursor")
            check_moment(cursor.created_at, "cursor")
        except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, InvalidRecord) as exc:
            raise BadCursor(
                "cursor is not one this tracker made; start from the first page."
            ) from exc
        if not is_uuid(cursor.id):
            raise BadCursor("cursor is not one this tracker made; start from the first page.")
        return cursor


@dataclass(frozen=True)
class RunType:
    """One command type's runs in a user's (or one application's) history."""

    name: str
    runs: int
    last_run_at: datetime
    last_status: str


@dataclass(frozen=True)
class DayTotals:
    day: date
    sessions: int
    minutes: int
    tokens: int
    cost_usd: float = 0.0  # of the records whose cost is known
    cost_unknown: int = 0  # records whose cost is unknown


class History:
    """Session records, read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def list_sessions(
        self,
        owner: User,
        *,
        application: str | None = None,
        application_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        after: Cursor | None = None,
        before: Cursor | None = None,
        filters: Filters | None = None,
    ) -> Page:
        """The user's records, newest first, filtered (``filters``: text search, branch,
        machine, end mode, dates), with the total: the page ``after`` a cursor (older
        sessions), or ``before`` one (newer)."""
        mine = claude_sessions.c.user_id == owner.id
        conditions = [mine]
        if application is not None:
            # Name to ids first (a user has few applications), so that neither the page nor
            # its count joins applications for every session.
            with reading(self.engine) as conn:
                named = [
                    str(i)
                    for i in conn.execute(
                        sa.select(applications.c.id).where(
                            applications.c.user_id == owner.id, applications.c.name == application
                        )
                    ).scalars()
                ]
            if not named:
                return Page([], 0)
            conditions.append(claude_sessions.c.application_id.in_(named))
        if application_id is not None:
            if not is_uuid(application_id):
                return Page([], 0)
            conditions.append(claude_sessions.c.application_id == application_id)
        if since is not None:
            conditions.append(claude_sessions.c.started_at >= since)
        if until is not None:
            conditions.append(claude_sessions.c.started_at < until)
        key = listing.KEY
        place = before or after
        scope = [mine]
        if place is not None:
            at = (
                sa.literal(place.started_at, Moment()),
                sa.literal(place.created_at, Moment()),
                sa.literal(place.id, Guid()),
            )
            scope.append(
                sa.tuple_(*key) > sa.tuple_(*at) if before else sa.tuple_(*key) < sa.tuple_(*at)
            )
        order = [c.asc() if before else c.desc() for c in key]

        def page_query(rows: Any, where: list[Any]) -> sa.Select[Any]:
            source = claude_sessions if rows is None else rows
            joined = source.join(
                applications, applications.c.id == claude_sessions.c.application_id
            )
            query = _session_select().select_from(joined).where(*where)
            return query.order_by(*order).limit(max(limit, 0) + 1)

        with reading(self.engine) as conn:
            total = listing.count(conn, conditions, filters, user=mine)
            rows = (
                listing.rows(
                    conn,
                    conditions + scope[1:],
                    filters,
                    capped=total > listing.COUNT_LIMIT,
                    page=page_query,
                    size=limit,
                    scope=None if before else scope,
                    user=mine,
                )
                if limit > 0 and total > 0
                else []
            )
        more = len(rows) > limit
        rows = list(rows[:limit])
        if before:
            rows.reverse()
        page = Page(
            [],
            min(total, listing.COUNT_LIMIT),
            capped=total > listing.COUNT_LIMIT,
            newer=more if before else after is not None,
            older=True if before else more,
        )
        for row in rows:
            try:
                page.sessions.append(_tracked(row))
            except ValueError as exc:  # a row edited into nonsense; the rest still shows
                page.unreadable.append((str(row.id), str(exc).splitlines()[0]))
        if rows:
            page.first = Cursor(rows[0].started_at, rows[0].created_at, str(rows[0].id))
            page.last = Cursor(rows[-1].started_at, rows[-1].created_at, str(rows[-1].id))
        return page

    def get_session(self, owner: User, session_id: str) -> TrackedSession | None:
        """The user's record with this id and its maintenance runs, or None."""
        if not is_uuid(session_id):
            return None
        joined = claude_sessions.join(
            applications, applications.c.id == claude_sessions.c.application_id
        )
        query = (
            _session_select()
            .select_from(joined)
            .where(claude_sessions.c.id == session_id, claude_sessions.c.user_id == owner.id)
        )
        runs = (
            sa.select(maintenance_runs, command_types.c.name.label("command_type"))
            .outerjoin(command_types, command_types.c.id == maintenance_runs.c.command_type_id)
            .where(maintenance_runs.c.session_id == session_id)
            .order_by(maintenance_runs.c.run_at, maintenance_runs.c.id)
        )
        with reading(self.engine) as conn:
            row = conn.execute(query).first()
            run_rows = conn.execute(runs).all() if row is not None else []
        if row is None:
            return None
        return _tracked(row, runs=[_run(r) for r in run_rows])

    def session_chain(
        self, owner: User, session_id: str, *, limit: int = 50
    ) -> list[TrackedSession]:
        """The logical session ``session_id`` belongs to: the records it continues (back to
        the first) and the ones continuing it, oldest first; each link at most ``limit`` deep,
        and a record seen twice ends the walk (a loop of hand-edited rows)."""
        if not is_uuid(session_id):
            return []
        joined = claude_sessions.join(
            applications, applications.c.id == claude_sessions.c.application_id
        )
        mine = claude_sessions.c.user_id == owner.id

        def one(conn: Connection, condition: Any) -> TrackedSession | None:
            row = conn.execute(
                _session_select()
                .select_from(joined)
                .where(mine, condition)
                .order_by(claude_sessions.c.started_at, claude_sessions.c.id)
                .limit(1)
            ).first()
            try:
                return None if row is None else _tracked(row)
            except ValueError:
                return None

        with reading(self.engine) as conn:
            here = one(conn, claude_sessions.c.id == session_id)
            if here is None:
                return []
            chain, seen = [here], {here.id}
            back = here
            while back.continues and len(chain) < limit:
                found = (
                    one(conn, claude_sessions.c.id == back.continues)
                    if is_uuid(back.continues)
                    else None
                )
                if found is None or found.id in seen:
                    break
                chain.insert(0, found)
                seen.add(found.id)
                back = found
            ahead = here
            while len(chain) < 2 * limit:
                found = one(conn, claude_sessions.c.continues == ahead.id)
                if found is None or found.id in seen:
                    break
                chain.append(found)
                seen.add(found.id)
                ahead = found
        return chain

    def applications(self, owner: User) -> list[Application]:
        query = (
            sa.select(applications.c.id, applications.c.name, applications.c.repository_url)
            .where(applications.c.user_id == owner.id)
            .order_by(applications.c.name, applications.c.id)
        )
        with reading(self.engine) as conn:
            return [
                Application(id=str(r.id), name=r.name, repository_url=r.repository_url)
                for r in conn.execute(query)
            ]

    def application(self, owner: User, application_id: str) -> Application | None:
        if not is_uuid(application_id):
            return None
        return next((a for a in self.applications(owner) if a.id == application_id), None)

    def run_types(self, owner: User, *, application_id: str | None = None) -> list[RunType]:
        """The user's maintenance runs grouped by command type: count, last run and status."""
        owned = applications.c.user_id == owner.id
        query = (
            sa.select(command_types.c.name, maintenance_runs.c.run_at, maintenance_runs.c.status)
            .join(command_types, command_types.c.id == maintenance_runs.c.command_type_id)
            .join(applications, applications.c.id == maintenance_runs.c.application_id)
            .where(owned)
            .order_by(maintenance_runs.c.run_at)
        )
        if application_id is not None:
            if not is_uuid(application_id):
                return []
            query = query.where(maintenance_runs.c.application_id == application_id)
        groups: dict[str, tuple[int, datetime, str]] = {}
        with reading(self.engine) as conn:
            for row in conn.execute(query):
                count = groups.get(row.name, (0, row.run_at, row.status))[0]
                groups[row.name] = (count + 1, row.run_at, row.status)
        return [RunType(name, *values) for name, values in sorted(groups.items())]

    def daily_totals(
        self,
        owner: User,
        *,
        application_id: str | None = None,
        days: int = 30,
        today: date | None = None,
    ) -> list[DayTotals]:
        """Sessions, minutes and tokens per UTC day over the last ``days`` days, oldest first."""
        last = today or utcnow().date()
        first = last - timedelta(days=days - 1)
        since = datetime(first.year, first.month, first.day, tzinfo=timezone.utc)
        query = sa.select(
            claude_sessions.c.started_at,
            claude_sessions.c.duration_minutes,
            claude_sessions.c.tokens_input,
            claude_sessions.c.tokens_output,
            claude_sessions.c.cost_usd,
        ).where(claude_sessions.c.user_id == owner.id, claude_sessions.c.started_at >= since)
        if application_id is not None:
            query = query.where(claude_sessions.c.application_id == application_id)
        totals: dict[date, list[Any]] = {
            first + timedelta(days=n): [0, 0, 0, 0.0, 0] for n in range(days)
        }
        with reading(self.engine) as conn:
            for row in conn.execute(query):
                day = row.started_at.astimezone(timezone.utc).date()
                if day in totals:
                    bucket = totals[day]
                    bucket[0] += 1
                    bucket[1] += row.duration_minutes
                    bucket[2] += row.tokens_input + row.tokens_output
                    if row.cost_usd is None:
                        bucket[4] += 1
                    else:
                        bucket[3] += row.cost_usd
        return [DayTotals(day, *values) for day, values in sorted(totals.items())]


def _session_select() -> sa.Select[Any]:
    return sa.select(
        claude_sessions,
        applications.c.name.label("application_name"),
        applications.c.repository_url.label("repository_url"),
    )


def _tracked(row: Row[Any], *, runs: Sequence[TrackedRun] | None = None) -> TrackedSession:
    """The row as a record; ValueError when a JSON column does not parse."""
    data: dict[str, Any] = dict(row._mapping)
    for name in JSON_COLUMNS:
        if isinstance(data[name], Unreadable):
            raise ValueError(f"{name}: {data[name].reason}")
    data["id"], data["application_id"] = str(data["id"]), str(data["application_id"])
    if not isinstance(data.get("models"), list):
        data["models"] = []
    if runs is not None:
        data["maintenance_runs"] = list(runs)
    return TrackedSession.model_validate(data)


def _run(row: Row[Any]) -> TrackedRun:
    data = dict(row._mapping)
    if isinstance(data["results"], Unreadable):
        data["results"] = data["results"].text
    return TrackedRun.model_validate(
        {
            k: data[k]
            for k in ("id", "command", "status", "results", "notes", "run_at", "command_type")
        }
    )
