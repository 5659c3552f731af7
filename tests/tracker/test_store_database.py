"""The tracker's database (``store/database.py``, ``store/schema.py``): the migrated schema is
the one the queries name, migrating from several processes at once, SQLite writers queuing on
the lock file."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from claude_session.tracker.service.app import create_api_key
from claude_session.tracker.store.database import (
    HEAD,
    MIGRATIONS,
    REVISIONS,
    create_engine,
    migrate,
)
from claude_session.tracker.store.schema import metadata
from claude_session.tracker.store.storage import Store
from helpers.records import record

SERVER = str(Path(__file__).resolve().parents[2] / "server")


def test_the_migrated_schema_matches_the_tables_the_code_queries(database: str) -> None:
    engine = create_engine(database)
    try:
        assert migrate(engine) is None and migrate(engine) == HEAD
        inspector = sa.inspect(engine)
        for table in metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
    finally:
        engine.dispose()


def test_revisions_list_matches_the_migration_files() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert script.get_heads() == [HEAD]
    chain = [s.revision for s in reversed(list(script.walk_revisions()))]
    assert tuple(chain) == REVISIONS


_SQLITE_MIGRATOR = """
import sys
sys.path.insert(0, {server!r})
from claude_session.tracker.store.database import create_engine, migrate
engine = create_engine({url!r})
migrate(engine)
engine.dispose()
"""


def test_processes_starting_together_migrate_a_sqlite_file_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    script = tmp_path / "migrate.py"
    script.write_text(_SQLITE_MIGRATOR.format(server=SERVER, url=url))
    procs = [
        subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE) for _ in range(4)
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


def test_sqlite_writers_queue_on_the_lock_file_and_commit_without_a_sync_each(
    tmp_path: Path,
) -> None:
    from claude_session.tracker.store.database import write_turn

    url = f"sqlite:///{tmp_path / 't.db'}"
    key = create_api_key(url, "alice")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        store = Store(engine)
        owner = store.auth.user_for_api_key(key)
        assert owner is not None
        with write_turn(engine):  # another writer's turn (a thread here; a worker in service)
            waiting = threading.Thread(target=lambda: store.records.save(owner, record()))
            waiting.start()
            waiting.join(0.5)
            assert waiting.is_alive()  # it waits for the turn, not polling the file meanwhile
        waiting.join(10)
        assert not waiting.is_alive() and (tmp_path / "t.db.write-lock").exists()
        assert store.history.list_sessions(owner).total == 1
    finally:
        engine.dispose()
