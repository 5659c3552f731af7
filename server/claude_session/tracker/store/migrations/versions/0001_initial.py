"""The tracker's schema: users with their API keys and browser sessions, the shared log-in
throttle, and each user's applications, session records, command types and maintenance runs.

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


def _owner() -> sa.Column[str]:
    return sa.Column(
        "user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )


def _application() -> sa.Column[str]:
    return sa.Column(
        "application_id",
        Guid(),
        sa.ForeignKey("applications.id", ondelete="CASCADE"),
        nullable=False,
    )


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
        _owner(),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("last_used_at", Moment()),
        sa.Column("name", sa.Text()),
        sa.Column("revoked_at", Moment()),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", Guid(), primary_key=True),
        _owner(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("expires_at", Moment(), nullable=False),
        # The key it was opened with (None: a one-time sign-in link), so that revoking the key
        # ends it. No foreign key: keys are never deleted, only revoked.
        sa.Column("api_key_id", Guid()),
    )
    op.create_index("web_sessions_by_key", "web_sessions", ["api_key_id"])
    # Failed log-ins, counted here so that every worker shares one throttle. The bucket is a
    # hash of "a:ADDRESS" or "k:KEY-PREFIX": no address or key text is kept.
    op.create_table(
        "login_failures",
        sa.Column("bucket", sa.String(64), nullable=False),
        sa.Column("failed_at", Moment(), nullable=False),
    )
    op.create_index("login_failures_by_bucket", "login_failures", ["bucket", "failed_at"])
    op.create_index("login_failures_by_time", "login_failures", ["failed_at"])


def _applications() -> None:
    op.create_table(
        "applications",
        sa.Column("id", Guid(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        _owner(),
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


def _count(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def _sessions() -> None:
    op.create_table(
        "claude_sessions",
        sa.Column("id", Guid(), primary_key=True),
        _owner(),
        _application(),
        sa.Column("started_at", Moment(), nullable=False),
        sa.Column("ended_at", Moment(), nullable=False),
        _count("duration_minutes"),
        sa.Column("starting_branch", sa.Text()),
        sa.Column("ending_branch", sa.Text()),
        _count("commits_count"),
        sa.Column("context_id", sa.Text()),
        sa.Column("session_source", sa.Text()),
        _count("tokens_input"),
        _count("tokens_output"),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.Column("accomplishments", Document(), nullable=False),
        sa.Column("next_steps", Document(), nullable=False),
        sa.Column("files_changed", Document(), nullable=False),
        sa.Column("maintenance_runs", Document(), nullable=False),
        sa.Column("security_findings", Document(), nullable=False),
        sa.Column("claude_session_id", sa.Text()),
        _count("tokens_cache_creation"),
        _count("tokens_cache_read"),
        sa.Column("machine", sa.Text()),
        sa.Column("end_mode", sa.Text()),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("updated_at", Moment(), nullable=False),
        # The record this session continues (a pause or an unended session resumed): one
        # chain per logical session. No foreign key: the earlier record may reach the tracker
        # after the later one (two sessions' outboxes drain independently).
        sa.Column("continues", Guid()),
    )
    # In the list's order, (started_at, created_at, id), so that a page after or before a
    # cursor is a range scan; and narrow ones that a page's total counts through.
    op.create_index(
        "claude_sessions_by_user", "claude_sessions", ["user_id", "started_at", "created_at", "id"]
    )
    op.create_index(
        "claude_sessions_by_application",
        "claude_sessions",
        ["application_id", "started_at", "created_at", "id"],
    )
    op.create_index("claude_sessions_count_by_user", "claude_sessions", ["user_id"])
    op.create_index(
        "claude_sessions_count_by_application", "claude_sessions", ["application_id", "user_id"]
    )
    op.create_index("claude_sessions_by_continues", "claude_sessions", ["user_id", "continues"])


def _runs() -> None:
    op.create_table(
        "command_types",
        sa.Column("id", Guid(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("created_at", Moment(), nullable=False),
    )
    op.create_table(
        "maintenance_runs",
        sa.Column("id", Guid(), primary_key=True),
        _application(),
        sa.Column("session_id", Guid(), sa.ForeignKey("claude_sessions.id", ondelete="CASCADE")),
        sa.Column(
            "command_type_id",
            Guid(),
            sa.ForeignKey(
                "command_types.id", name="maintenance_runs_command_type", ondelete="SET NULL"
            ),
        ),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("results", Document()),
        sa.Column("notes", sa.Text()),
        sa.Column("run_at", Moment(), nullable=False),
    )
    op.create_index("maintenance_runs_by_session", "maintenance_runs", ["session_id"])
    op.create_index("maintenance_runs_by_type", "maintenance_runs", ["command_type_id"])


def upgrade() -> None:
    _users()
    _applications()
    _sessions()
    _runs()


def downgrade() -> None:
    for table in (
        "maintenance_runs",
        "command_types",
        "claude_sessions",
        "applications",
        "login_failures",
        "web_sessions",
        "api_keys",
        "users",
    ):
        op.drop_table(table)
