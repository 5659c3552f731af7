"""The seed's schema (applications, claude_sessions, maintenance_runs) plus users and API keys.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from claude_session.tracker.store.database import Document, Guid, Moment

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _users() -> None:
    op.create_table(
        "users",
        sa.Column("id", Guid(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("created_at", Moment(), nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", Guid(), primary_key=True),
        sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("last_used_at", Moment()),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", Guid(), primary_key=True),
        sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("expires_at", Moment(), nullable=False),
    )


def _applications() -> None:
    op.create_table(
        "applications",
        sa.Column("id", Guid(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("repository_url", sa.Text()),
        sa.Column("created_at", Moment(), nullable=False),
    )
    # The repository is a project's identity across folder names; without one, the name.
    with_repo = sa.text("repository_url IS NOT NULL")
    without_repo = sa.text("repository_url IS NULL")
    op.create_index(
        "applications_by_repository",
        "applications",
        ["user_id", "repository_url"],
        unique=True,
        sqlite_where=with_repo,
        postgresql_where=with_repo,
    )
    op.create_index(
        "applications_by_name",
        "applications",
        ["user_id", "name"],
        unique=True,
        sqlite_where=without_repo,
        postgresql_where=without_repo,
    )


def _sessions() -> None:
    op.create_table(
        "claude_sessions",
        sa.Column("id", Guid(), primary_key=True),
        sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "application_id",
            Guid(),
            sa.ForeignKey("applications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("started_at", Moment(), nullable=False),
        sa.Column("ended_at", Moment(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("starting_branch", sa.Text()),
        sa.Column("ending_branch", sa.Text()),
        sa.Column("commits_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("context_id", sa.Text()),
        sa.Column("session_source", sa.Text()),
        sa.Column("tokens_input", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("tokens_output", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.Column("accomplishments", Document(), nullable=False),
        sa.Column("next_steps", Document(), nullable=False),
        sa.Column("files_changed", Document(), nullable=False),
        sa.Column("maintenance_runs", Document(), nullable=False),
        sa.Column("security_findings", Document(), nullable=False),
        sa.Column("claude_session_id", sa.Text()),
        sa.Column("tokens_cache_creation", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("tokens_cache_read", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("machine", sa.Text()),
        sa.Column("end_mode", sa.Text()),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("updated_at", Moment(), nullable=False),
    )
    op.create_index("claude_sessions_by_user", "claude_sessions", ["user_id", "started_at"])
    op.create_index(
        "claude_sessions_by_application", "claude_sessions", ["application_id", "started_at"]
    )
    op.create_table(
        "maintenance_runs",
        sa.Column("id", Guid(), primary_key=True),
        sa.Column(
            "application_id",
            Guid(),
            sa.ForeignKey("applications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("session_id", Guid(), sa.ForeignKey("claude_sessions.id", ondelete="CASCADE")),
        sa.Column("command_type_id", Guid()),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("results", Document()),
        sa.Column("notes", sa.Text()),
        sa.Column("run_at", Moment(), nullable=False),
    )
    op.create_index("maintenance_runs_by_session", "maintenance_runs", ["session_id"])


def upgrade() -> None:
    _users()
    _applications()
    _sessions()


def downgrade() -> None:
    for table in (
        "maintenance_runs",
        "claude_sessions",
        "applications",
        "web_sessions",
        "api_keys",
        "users",
    ):
        op.drop_table(table)
