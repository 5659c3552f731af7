"""What only PostgreSQL shows: native column types and migrations from several processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from claude_session.tracker.store.database import HEAD, create_engine, migrate
from test_tracker_service import postgres_database

SERVER = str(Path(__file__).resolve().parent.parent / "server")


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


def test_a_record_stored_past_year_9999_no_longer_breaks_the_listing() -> None:
    """T26: before the API refused them, PostgreSQL stored a moment after 9999-12-31 UTC, and
    every listing of that user then failed. Migration 0006 brings such moments back in range."""
    from alembic import command
    from alembic.config import Config

    from claude_session.tracker.store.database import MIGRATIONS
    from claude_session.tracker.store.storage import Store, User

    with postgres_database() as url:
        engine = create_engine(url)
        try:
            with engine.connect() as conn, conn.begin():
                config = Config()
                config.set_main_option("script_location", str(MIGRATIONS))
                config.attributes["connection"] = conn
                command.upgrade(config, "0005")
                conn.execute(
                    sa.text(
                        "INSERT INTO users VALUES "
                        "('00000000-0000-4000-8000-000000000001', 'u', now());"
                        "INSERT INTO applications (id, name, user_id, created_at) VALUES "
                        "('00000000-0000-4000-8000-000000000002', 'a', "
                        "'00000000-0000-4000-8000-000000000001', now());"
                        "INSERT INTO claude_sessions (id, user_id, application_id, started_at, "
                        "ended_at, accomplishments, next_steps, files_changed, maintenance_runs, "
                        "security_findings, created_at, updated_at, session_source, end_mode) "
                        "VALUES "
                        "('00000000-0000-4000-8000-000000000003', "
                        "'00000000-0000-4000-8000-000000000001', "
                        "'00000000-0000-4000-8000-000000000002', "
                        "'9999-12-31T23:59:59-12:00', '9999-12-31T23:59:59-12:00', "
                        "'[]', '[]', '[]', "
                        "'[]', '[]', now(), now(), 'cli', 'standard')"
                    )
                )
            owner = User("00000000-0000-4000-8000-000000000001", "u")
            with pytest.raises(sa.exc.DataError), engine.connect() as conn:
                # what T26 saw: reading the row fails, so every listing was a 500 for good
                conn.execute(sa.text("SELECT started_at FROM claude_sessions")).all()
            assert migrate(engine) == "0005"
            page = Store(engine).list_sessions(owner)
        finally:
            engine.dispose()
    assert [s.started_at.year for s in page.sessions] == [9999] and not page.unreadable
