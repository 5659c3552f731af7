"""What N service workers share and a key's browser sessions: failed log-ins counted in the
database (one throttle for every worker, not one each); each browser session remembers the API
key it was opened with, so that revoking the key ends it (browsers signed in before are signed
out once); and an index that counts one application's sessions without reading them
(application, then owner).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from claude_session.tracker.store.database import Guid, Moment

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        # a hash of "a:ADDRESS" or "k:KEY-PREFIX": no address or key text is kept
        sa.Column("bucket", sa.String(64), nullable=False),
        sa.Column("failed_at", Moment(), nullable=False),
    )
    op.create_index("login_failures_by_bucket", "login_failures", ["bucket", "failed_at"])
    op.create_index("login_failures_by_time", "login_failures", ["failed_at"])
    # No foreign key: keys are never deleted (only revoked), and SQLite cannot add one to a
    # table in place. Sessions from a one-time sign-in link have no key.
    op.add_column("web_sessions", sa.Column("api_key_id", Guid()))
    op.create_index("web_sessions_by_key", "web_sessions", ["api_key_id"])
    # Browsers signed in before this cannot be told which key they used, so revoking it could
    # not sign them out: they log in once more.
    op.execute("DELETE FROM web_sessions")
    op.drop_index("claude_sessions_count_by_application", "claude_sessions")
    op.create_index(
        "claude_sessions_count_by_application", "claude_sessions", ["application_id", "user_id"]
    )


def downgrade() -> None:
    op.drop_index("claude_sessions_count_by_application", "claude_sessions")
    op.create_index("claude_sessions_count_by_application", "claude_sessions", ["application_id"])
    op.drop_index("web_sessions_by_key", table_name="web_sessions")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("api_key_id")
    op.drop_index("login_failures_by_time", table_name="login_failures")
    op.drop_index("login_failures_by_bucket", table_name="login_failures")
    op.drop_table("login_failures")
