"""What only PostgreSQL shows: native column types and migrations from several processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import sqlalchemy as sa

from claude_session.tracker.store.database import HEAD, create_engine, migrate
from helpers.tracker_service import postgres_database

SERVER = str(Path(__file__).resolve().parents[2] / "server")


def test_columns_are_uuid_timestamptz_and_jsonb() -> None:
    with postgres_database() as url:
        engine = create_engine(url)
        try:
            migrate(engine)
            with engine.connect() as conn:
                types = dict(
                    conn.execute(
                        sa.text(
                            "SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = 'claude_sessions'"
                        )
                    ).all()
                )
        finally:
            engine.dispose()
    assert types["id"] == "uuid" and types["application_id"] == "uuid"
    assert types["started_at"] == "timestamp with time zone"
    assert types["accomplishments"] == "jsonb" and types["maintenance_runs"] == "jsonb"


_MIGRATOR = textwrap.dedent("""
    import sys
    sys.path.insert(0, {server!r})
    from claude_session.tracker.store.database import create_engine, migrate
    engine = create_engine({url!r})
    migrate(engine)
    engine.dispose()
""")


def test_service_processes_starting_together_migrate_once(tmp_path: Path) -> None:
    with postgres_database() as url:
        script = tmp_path / "migrate.py"
        script.write_text(_MIGRATOR.format(server=SERVER, url=url))
        procs = [
            subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        errors = [p.communicate(timeout=120)[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        finally:
            engine.dispose()
        assert [v[0] for v in versions] == [HEAD]
