"""Repair moments past what Python reads: PostgreSQL stored a record dated after year 9999 in UTC
(before the API refused them), and from then on every listing of that user failed. Such moments
are set to the last storable one (``limits.LATEST``); nothing else changes.

SQLite never stored them (the conversion to UTC text failed first).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = {
    "claude_sessions": ("started_at", "ended_at", "created_at", "updated_at"),
    "maintenance_runs": ("run_at",),
}


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():
        for column in columns:
            op.execute(
                sa.text(
                    f"UPDATE {table} SET {column} = TIMESTAMPTZ '9999-12-31 00:00:00+00' "
                    f"WHERE {column} > TIMESTAMPTZ '9999-12-31 00:00:00+00'"
                )
            )


def downgrade() -> None:
    pass  # the moments were unreadable; there is nothing to restore
