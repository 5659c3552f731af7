"""The seed's ``command_types``: ``maintenance_runs.command_type_id`` now references a type,
named after the run's command (``npm audit --json`` is of type ``npm audit``). Existing runs
get their type here.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from claude_session.tracker.store.database import Guid, Moment

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The rule the store uses for new runs, so old and new runs of a command share a type.
    from claude_session.tracker.store.limits import command_type_name

    types = op.create_table(
        "command_types",
        sa.Column("id", Guid(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False, unique=True),
        sa.Column("created_at", Moment(), nullable=False),
    )
    conn = op.get_bind()
    runs = sa.table(
        "maintenance_runs",
        sa.column("id", Guid()),
        sa.column("command", sa.Text()),
        sa.column("command_type_id", Guid()),
    )
    commands = [row[0] for row in conn.execute(sa.select(runs.c.command).distinct())]
    ids: dict[str, str] = {}
    now = datetime.now(timezone.utc)
    for command in commands:
        name = command_type_name(command)
        if name not in ids:
            ids[name] = str(uuid.uuid4())
            conn.execute(types.insert().values(id=ids[name], name=name, created_at=now))
        conn.execute(
            runs.update().where(runs.c.command == command).values(command_type_id=ids[name])
        )
    with op.batch_alter_table("maintenance_runs") as batch:
        batch.create_foreign_key(
            "maintenance_runs_command_type",
            "command_types",
            ["command_type_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index("maintenance_runs_by_type", "maintenance_runs", ["command_type_id"])


def downgrade() -> None:
    op.drop_index("maintenance_runs_by_type", "maintenance_runs")
    with op.batch_alter_table("maintenance_runs") as batch:
        batch.drop_constraint("maintenance_runs_command_type", type_="foreignkey")
    op.drop_table("command_types")
