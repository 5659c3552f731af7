"""Indexes in the sessions' full list order, (started_at, created_at, id), so that a page after
or before a cursor is a range scan and no query sorts a user's whole history; and narrow ones
on the owner alone, which a page's total counts through (about half the reading of the wide
index).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("claude_sessions_by_user", "claude_sessions")
    op.drop_index("claude_sessions_by_application", "claude_sessions")
    op.create_index(
        "claude_sessions_by_user", "claude_sessions", ["user_id", "started_at", "created_at", "id"]
    )
    op.create_index(
        "claude_sessions_by_application",
        "claude_sessions",
        ["application_id", "started_at", "created_at", "id"],
    )
    op.create_index("claude_sessions_count_by_user", "claude_sessions", ["user_id"])
    op.create_index("claude_sessions_count_by_application", "claude_sessions", ["application_id"])


def downgrade() -> None:
    op.drop_index("claude_sessions_count_by_user", "claude_sessions")
    op.drop_index("claude_sessions_count_by_application", "claude_sessions")
    op.drop_index("claude_sessions_by_user", "claude_sessions")
    op.drop_index("claude_sessions_by_application", "claude_sessions")
    op.create_index("claude_sessions_by_user", "claude_sessions", ["user_id", "started_at"])
    op.create_index(
        "claude_sessions_by_application", "claude_sessions", ["application_id", "started_at"]
    )
