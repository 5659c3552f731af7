"""Session counts as 64-bit integers, as the model allows (``int4`` overflowed on PostgreSQL).

SQLite's INTEGER already holds 64 bits; only PostgreSQL changes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ("duration_minutes", "commits_count")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.alter_column(
            "claude_sessions",
            column,
            type_=sa.BigInteger(),
            existing_type=sa.Integer(),
            existing_nullable=False,
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.alter_column(
            "claude_sessions",
            column,
            type_=sa.Integer(),
            existing_type=sa.BigInteger(),
            existing_nullable=False,
        )
