"""Totals of a user's records per application over a period, for the charts page (per day is
``History.daily_totals``). Each record is one stretch of a session, so the sums count every
commit, token and dollar once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from claude_session.tracker.store.auth import User
from claude_session.tracker.store.database import reading
from claude_session.tracker.store.schema import applications, claude_sessions


@dataclass(frozen=True)
class AppTotals:
    application_id: str
    name: str
    sessions: int
    minutes: int
    tokens: int
    cost_usd: float  # of the records whose cost is known
    cost_unknown: int  # records whose cost is unknown


def per_application(engine: Engine, owner: User, since: datetime) -> list[AppTotals]:
    """The user's applications with records started since ``since``, most time first."""
    c = claude_sessions.c
    query = (
        sa.select(
            applications.c.id,
            applications.c.name,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(c.duration_minutes), 0),
            sa.func.coalesce(sa.func.sum(c.tokens_input + c.tokens_output), 0),
            sa.func.coalesce(sa.func.sum(c.cost_usd), 0.0),
            sa.func.count() - sa.func.count(c.cost_usd),
        )
        .select_from(claude_sessions.join(applications, applications.c.id == c.application_id))
        .where(c.user_id == owner.id, c.started_at >= since)
        .group_by(applications.c.id, applications.c.name)
    )
    with reading(engine) as conn:
        rows = conn.execute(query).all()
    found = [
        AppTotals(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4]), float(r[5]), int(r[6]))
        for r in rows
    ]
    return sorted(found, key=lambda t: (-t.minutes, t.name))
