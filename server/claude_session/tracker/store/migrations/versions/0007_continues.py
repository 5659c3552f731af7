"""A session record names the record it continues (a pause or an unended session resumed in
another Claude Code session): one chain of records for one logical session.

No foreign key: the earlier record may reach the tracker after the later one (outboxes of two
sessions drain independently), and a chain link to a record not (yet) stored shows as such.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from claude_session.tracker.store.database import Guid

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("claude_sessions", sa.Column("continues", Guid()))
    op.create_index("claude_sessions_by_continues", "claude_sessions", ["user_id", "continues"])


def downgrade() -> None:
    op.drop_index("claude_sessions_by_continues", table_name="claude_sessions")
    with op.batch_alter_table("claude_sessions") as batch:
        batch.drop_column("continues")
