"""Session records carry their cost and models, and their text is searchable: an FTS5 table
kept in step by triggers on SQLite, a generated ``tsvector`` column with a GIN index on
PostgreSQL, over the summary, accomplishments, next steps, branches and changed files; and
indexes for the list's filters (branch, machine, end mode).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from claude_session.tracker.store.database import Document

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: what a search reads of a record, one expression per dialect's column syntax
_PG_TEXT = (
    "coalesce(summary, '') || ' ' || coalesce(starting_branch, '') || ' ' || "
    "coalesce(ending_branch, '') || ' ' || accomplishments::text || ' ' || "
    "next_steps::text || ' ' || files_changed::text"
)
_FTS_COLUMNS = "summary, steps, branches, files"


def _fts_values(row: str) -> str:
    return (
        f"{row}.rowid, {row}.summary, {row}.accomplishments || ' ' || {row}.next_steps, "
        f"coalesce({row}.starting_branch, '') || ' ' || coalesce({row}.ending_branch, ''), "
        f"{row}.files_changed"
    )


def upgrade() -> None:
    op.add_column("claude_sessions", sa.Column("cost_usd", sa.Float()))
    op.add_column(
        "claude_sessions",
        sa.Column("models", Document(), nullable=False, server_default=sa.text("'[]'")),
    )
    for name, column in (
        ("ending_branch", "ending_branch"),
        ("starting_branch", "starting_branch"),
        ("machine", "machine"),
        ("end_mode", "end_mode"),
    ):
        op.create_index(f"claude_sessions_by_{name}", "claude_sessions", ["user_id", column])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE claude_sessions ADD COLUMN search tsvector "
            # paths, branches and URLs split into words, as SQLite's tokenizer splits them
            f"GENERATED ALWAYS AS (to_tsvector('simple', translate({_PG_TEXT}, '/.-:@', "
            "'     '))) STORED"
        )
        op.execute("CREATE INDEX claude_sessions_search ON claude_sessions USING gin (search)")
        return
    # A table of its own text (SQLite 3.40 has no contentless delete), keyed by the record's
    # rowid, which an upsert keeps.
    op.execute(f"CREATE VIRTUAL TABLE claude_sessions_fts USING fts5({_FTS_COLUMNS})")
    op.execute(
        "CREATE TRIGGER claude_sessions_fts_insert AFTER INSERT ON claude_sessions BEGIN "
        f"INSERT INTO claude_sessions_fts(rowid, {_FTS_COLUMNS}) VALUES ({_fts_values('new')}); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER claude_sessions_fts_delete AFTER DELETE ON claude_sessions BEGIN "
        "DELETE FROM claude_sessions_fts WHERE rowid = old.rowid; END"
    )
    op.execute(
        "CREATE TRIGGER claude_sessions_fts_update AFTER UPDATE ON claude_sessions BEGIN "
        "DELETE FROM claude_sessions_fts WHERE rowid = old.rowid; "
        f"INSERT INTO claude_sessions_fts(rowid, {_FTS_COLUMNS}) VALUES ({_fts_values('new')}); "
        "END"
    )
    op.execute(
        f"INSERT INTO claude_sessions_fts(rowid, {_FTS_COLUMNS}) "
        f"SELECT {_fts_values('claude_sessions')} FROM claude_sessions"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX claude_sessions_search")
        op.execute("ALTER TABLE claude_sessions DROP COLUMN search")
    else:
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER claude_sessions_fts_{trigger}")
        op.execute("DROP TABLE claude_sessions_fts")
    for name in ("ending_branch", "starting_branch", "machine", "end_mode"):
        op.drop_index(f"claude_sessions_by_{name}", "claude_sessions")
    op.drop_column("claude_sessions", "models")
    op.drop_column("claude_sessions", "cost_usd")
