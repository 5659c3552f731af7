"""The tracker's tables, for SQLite and PostgreSQL alike: what the migrations make
(``migrations/versions``; a test compares the two) and what every query of the store names.
"""

from __future__ import annotations

import sqlalchemy as sa

from claude_session.tracker.store.database import Document, Guid, Moment

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False, unique=True),
    sa.Column("created_at", Moment(), nullable=False),
)
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", Moment(), nullable=False),
    sa.Column("last_used_at", Moment()),
    sa.Column("name", sa.Text()),
    sa.Column("revoked_at", Moment()),
)
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Moment(), nullable=False),
    sa.Column("expires_at", Moment(), nullable=False),
    sa.Column("api_key_id", Guid()),  # the key it was opened with (none: a sign-in link)
)
login_failures = sa.Table(  # the log-in throttle every worker shares
    "login_failures",
    metadata,
    sa.Column("bucket", sa.String(64), nullable=False),
    sa.Column("failed_at", Moment(), nullable=False),
)
applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("repository_url", sa.Text()),
    sa.Column("created_at", Moment(), nullable=False),
)
JSON_COLUMNS = (
    "accomplishments",
    "next_steps",
    "files_changed",
    "maintenance_runs",
    "security_findings",
)
RECORD_COLUMNS = (
    "started_at",
    "ended_at",
    "duration_minutes",
    "starting_branch",
    "ending_branch",
    "commits_count",
    "context_id",
    "session_source",
    "tokens_input",
    "tokens_output",
    "summary",
    *JSON_COLUMNS,
    "claude_session_id",
    "tokens_cache_creation",
    "tokens_cache_read",
    "machine",
    "end_mode",
    "continues",
    "cost_usd",
    "models",
)
claude_sessions = sa.Table(
    "claude_sessions",
    metadata,
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
    sa.Column("duration_minutes", sa.BigInteger(), nullable=False),
    sa.Column("starting_branch", sa.Text()),
    sa.Column("ending_branch", sa.Text()),
    sa.Column("commits_count", sa.BigInteger(), nullable=False),
    sa.Column("context_id", sa.Text()),
    sa.Column("session_source", sa.Text()),
    sa.Column("tokens_input", sa.BigInteger(), nullable=False),
    sa.Column("tokens_output", sa.BigInteger(), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    *(sa.Column(name, Document(), nullable=False) for name in JSON_COLUMNS),
    sa.Column("claude_session_id", sa.Text()),
    sa.Column("tokens_cache_creation", sa.BigInteger(), nullable=False),
    sa.Column("tokens_cache_read", sa.BigInteger(), nullable=False),
    sa.Column("machine", sa.Text()),
    sa.Column("end_mode", sa.Text()),
    sa.Column("created_at", Moment(), nullable=False),
    sa.Column("updated_at", Moment(), nullable=False),
    sa.Column("continues", Guid()),  # the record this session continues
    # 0002: its cost in dollars (None: a model without a price) and its models; the search
    # text (an FTS5 table on SQLite, a generated tsvector column on PostgreSQL) is the
    # migration's alone: no query names it here (store/search.py does)
    sa.Column("cost_usd", sa.Float()),
    sa.Column("models", Document(), nullable=False, server_default=sa.text("'[]'")),
)
command_types = sa.Table(
    "command_types",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False, unique=True),
    sa.Column("created_at", Moment(), nullable=False),
)
maintenance_runs = sa.Table(
    "maintenance_runs",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column(
        "application_id",
        Guid(),
        sa.ForeignKey("applications.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("session_id", Guid(), sa.ForeignKey("claude_sessions.id", ondelete="CASCADE")),
    sa.Column("command_type_id", Guid(), sa.ForeignKey("command_types.id", ondelete="SET NULL")),
    sa.Column("command", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("results", Document()),
    sa.Column("notes", sa.Text()),
    sa.Column("run_at", Moment(), nullable=False),
)
