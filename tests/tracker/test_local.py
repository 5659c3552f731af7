"""The local session tracker (``tracker/local.py``) on a real SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.errors import TrackerUnavailable
from claude_session.models import MaintenanceRun
from claude_session.paths import Paths
from claude_session.tracker import LocalTracker, open_tracker
from claude_session.tracker.store.database import HEAD, create_engine, migrate
from helpers.records import REPO, START, full_record, record

SERVER = str(Path(__file__).resolve().parents[2] / "server")
SHARED = "5f0c7c5e-0000-4000-8000-000000000001"


@pytest.fixture
def db(isolated_home: Path) -> Path:
    return Paths(isolated_home).tracker_db


@pytest.fixture
def tracker(db: Path) -> Iterator[LocalTracker]:
    with LocalTracker(db) as opened:
        yield opened


def rows(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# --- round trip -----------------------------------------------------------------------------------


def test_send_then_get_keeps_every_column(tracker: LocalTracker) -> None:
    sent = full_record()
    assert tracker.send(sent) == sent.id
    assert tracker.get_session(sent.id) == sent
    assert tracker.list_sessions() == [sent]


def test_the_local_tracker_syncs_every_commit(tracker: LocalTracker) -> None:
    """A user's only copy of a record once the outbox lets go of it: unlike the service (which
    trades the last commits before a power cut for throughput), every commit is synced."""
    tracker.send(full_record())
    engine = tracker._engine
    assert engine is not None
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_json_columns_are_stored_as_json(tracker: LocalTracker, db: Path) -> None:
    sent = full_record()
    tracker.send(sent)
    row = rows(db, "SELECT * FROM claude_sessions")[0]
    assert json.loads(row["accomplishments"]) == ["parser", "tests"]
    assert json.loads(row["files_changed"]) == ["src/a.py", "docs/ü.md"]
    assert json.loads(row["security_findings"])[0]["nested"] == {"a": [1]}
    assert [r["command"] for r in json.loads(row["maintenance_runs"])] == ["audit", "security-scan"]
    assert row["claude_session_id"] == "cc-123" and row["tokens_cache_read"] == 7000


def test_timestamps_are_stored_iso_with_timezone(tracker: LocalTracker, db: Path) -> None:
    paris = timezone(timedelta(hours=2))
    sent = record(
        started_at=datetime(2025, 6, 1, 12, 0, tzinfo=paris),
        ended_at=datetime(2025, 6, 1, 12, 30, tzinfo=paris),
    )
    tracker.send(sent)
    row = rows(db, "SELECT started_at, ended_at, created_at FROM claude_sessions")[0]
    for value in row:
        assert datetime.fromisoformat(value).tzinfo is not None
    assert datetime.fromisoformat(row["started_at"]) == datetime(
        2025, 6, 1, 10, 0, tzinfo=timezone.utc
    )
    got = tracker.get_session(sent.id)
    assert got is not None and got.started_at == sent.started_at


def test_maintenance_runs_table_holds_the_records_runs(tracker: LocalTracker, db: Path) -> None:
    sent = full_record()
    tracker.send(sent)
    runs = rows(db, "SELECT * FROM maintenance_runs ORDER BY run_at")
    app = rows(db, "SELECT id FROM applications")[0]["id"]
    assert [(r["id"], r["command"], r["status"]) for r in runs] == [
        (run.id, run.command, run.status) for run in sent.maintenance_runs
    ]
    assert {(r["session_id"], r["application_id"]) for r in runs} == {(sent.id, app)}
    assert json.loads(runs[0]["results"]) == {"issues": 0, "list": [1, 2]}
    assert runs[0]["notes"] == "clean"
    assert datetime.fromisoformat(runs[0]["run_at"]) == START + timedelta(minutes=5)


def test_unknown_session_is_none(tracker: LocalTracker) -> None:
    assert tracker.get_session("nope") is None


# --- idempotence ----------------------------------------------------------------------------------


def test_sending_the_same_record_twice_updates_the_one_row(tracker: LocalTracker, db: Path) -> None:
    first = full_record()
    tracker.send(first)
    created = rows(db, "SELECT created_at FROM claude_sessions")[0]["created_at"]
    second = first.model_copy(update={"summary": "Updated summary", "commits_count": 5})
    assert tracker.send(second) == first.id
    assert len(rows(db, "SELECT id FROM claude_sessions")) == 1
    assert len(rows(db, "SELECT id FROM applications")) == 1
    got = tracker.get_session(first.id)
    assert got is not None and got.summary == "Updated summary" and got.commits_count == 5
    after = rows(db, "SELECT created_at, updated_at FROM claude_sessions")[0]
    assert after["created_at"] == created and after["updated_at"] >= created


def test_resending_replaces_maintenance_runs(tracker: LocalTracker, db: Path) -> None:
    first = full_record()
    tracker.send(first)
    tracker.send(first)
    assert len(rows(db, "SELECT id FROM maintenance_runs")) == 2
    only = MaintenanceRun(command="deps", status="ok", run_at=START)
    tracker.send(first.model_copy(update={"maintenance_runs": [only]}))
    assert [r["id"] for r in rows(db, "SELECT id FROM maintenance_runs")] == [only.id]
    got = tracker.get_session(first.id)
    assert got is not None and got.maintenance_runs == [only]


def test_runs_of_other_sessions_are_left_alone(tracker: LocalTracker, db: Path) -> None:
    keep = full_record()
    tracker.send(keep)
    other = record(maintenance_runs=[MaintenanceRun(command="x", status="ok")])
    tracker.send(other)
    tracker.send(other.model_copy(update={"maintenance_runs": []}))
    left = rows(db, "SELECT session_id FROM maintenance_runs")
    assert {r["session_id"] for r in left} == {keep.id} and len(left) == 2


# --- applications ---------------------------------------------------------------------------------


def test_one_application_per_repository_named_after_the_latest_folder(
    tracker: LocalTracker, db: Path
) -> None:
    tracker.send(record(application_name="widgets"))
    tracker.send(record(application_name="widgets-renamed"))
    apps = rows(
        db,
        "SELECT a.name, u.name, a.repository_url FROM applications a "
        "JOIN users u ON u.id = a.user_id",
    )
    assert [tuple(a) for a in apps] == [("widgets-renamed", "local", REPO)]
    assert len(tracker.list_sessions(project="widgets-renamed")) == 2


def test_projects_without_repository_are_told_apart_by_name(
    tracker: LocalTracker, db: Path
) -> None:
    tracker.send(record(application_name="a", repository_url=None))
    tracker.send(record(application_name="a", repository_url=None))
    tracker.send(record(application_name="b", repository_url=None))
    tracker.send(record(application_name="a", repository_url="github.com/x/a"))
    names = sorted(
        (a["name"], a["repository_url"] or "")
        for a in rows(db, "SELECT name, repository_url FROM applications")
    )
    assert names == [("a", ""), ("a", "github.com/x/a"), ("b", "")]


# --- listing --------------------------------------------------------------------------------------


def test_list_is_newest_first_and_limited(tracker: LocalTracker) -> None:
    sent = [
        record(started_at=START + timedelta(hours=h), ended_at=START + timedelta(hours=h + 1))
        for h in (3, 0, 5, 1, 4, 2)
    ]
    for r in sent:
        tracker.send(r)
    newest = sorted(sent, key=lambda r: r.started_at, reverse=True)
    assert [r.id for r in tracker.list_sessions()] == [r.id for r in newest]
    assert [r.id for r in tracker.list_sessions(limit=2)] == [r.id for r in newest[:2]]
    assert tracker.list_sessions(limit=0) == []


def test_list_filters_by_project(tracker: LocalTracker) -> None:
    mine = record(application_name="widgets")
    theirs = record(application_name="gears", repository_url="github.com/acme/gears")
    tracker.send(mine)
    tracker.send(theirs)
    assert [r.id for r in tracker.list_sessions(project="widgets")] == [mine.id]
    assert [r.id for r in tracker.list_sessions(project="gears")] == [theirs.id]
    assert tracker.list_sessions(project="nothing") == []


def test_hand_edited_row_is_skipped_with_a_warning(tracker: LocalTracker, db: Path) -> None:
    good, bad = record(), record()
    tracker.send(good)
    tracker.send(bad)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE claude_sessions SET accomplishments = '{oops' WHERE id = ?", (bad.id,))
    conn.commit()
    conn.close()
    with flow.begin() as current:
        assert [r.id for r in tracker.list_sessions()] == [good.id]
    assert bad.id in current.warnings[0]


# --- the file -------------------------------------------------------------------------------------


def test_database_files_are_private(tracker: LocalTracker, db: Path) -> None:
    tracker.send(full_record())
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for sidecar in db.parent.glob(db.name + "-*"):
        assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600, sidecar


def test_database_is_wal_with_the_current_schema_version(tracker: LocalTracker, db: Path) -> None:
    tracker.send(record())
    assert rows(db, "PRAGMA journal_mode")[0][0] == "wal"
    assert rows(db, "SELECT version_num FROM alembic_version")[0][0] == HEAD
    tables = {r["name"] for r in rows(db, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"applications", "claude_sessions", "maintenance_runs"} <= tables


def test_reopen_after_close_keeps_data(db: Path) -> None:
    sent = full_record()
    with LocalTracker(db) as first:
        first.send(sent)
    with LocalTracker(db) as second:
        assert second.get_session(sent.id) == sent


def test_opening_touches_nothing_until_used(db: Path) -> None:
    LocalTracker(db).close()
    assert not db.exists()


def test_migrate_runs_once(db: Path) -> None:
    LocalTracker(db).list_sessions()
    engine = create_engine(f"sqlite:///{db}")
    try:
        assert migrate(engine) == HEAD
        assert migrate(engine) == HEAD
    finally:
        engine.dispose()


def test_newer_schema_is_unavailable_and_left_as_it_is(db: Path) -> None:
    LocalTracker(db).list_sessions()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()
    with pytest.raises(TrackerUnavailable, match="newer claude-session"):
        LocalTracker(db).send(record())
    assert rows(db, "SELECT version_num FROM alembic_version")[0][0] == "9999_from_the_future"
    assert list(db.parent.glob("*.corrupt-*")) == []


def test_corrupt_database_is_moved_aside_and_a_fresh_one_used(db: Path) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"this is not sqlite at all" * 100)
    tracker = LocalTracker(db)
    sent = record()
    with flow.begin() as current:
        tracker.send(sent)
    assert tracker.get_session(sent.id) == sent
    aside = list(db.parent.glob(f"{db.name}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not sqlite")
    assert aside[0].name in current.warnings[0]
    tracker.close()


def test_unwritable_database_raises_tracker_unavailable(db: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores file permissions")
    LocalTracker(db).list_sessions()
    db.chmod(0o400)
    try:
        with pytest.raises(TrackerUnavailable, match="record is kept"):
            LocalTracker(db).send(record())
    finally:
        db.chmod(0o600)


def test_locked_database_raises_tracker_unavailable(db: Path) -> None:
    LocalTracker(db).list_sessions()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(TrackerUnavailable, match="locked"):
            LocalTracker(db, busy_timeout=0.2).send(record())
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_open_tracker_without_url_is_the_local_database(isolated_home: Path) -> None:
    settings = Settings.from_env({"CLAUDE_CONFIG_DIR": str(isolated_home)})
    paths = Paths(settings.home)
    with open_tracker(settings, paths) as tracker:
        assert tracker.kind == "local" and str(paths.tracker_db) in tracker.description
        tracker.send(record())
    assert paths.tracker_db.exists()


# --- processes ------------------------------------------------------------------------------------

_SENDER = textwrap.dedent("""
    import sys
    import uuid
    from datetime import datetime, timedelta, timezone
    sys.path.insert(0, {server!r})
    from pathlib import Path
    from claude_session.models import MaintenanceRun, SessionRecord
    from claude_session.tracker.local import LocalTracker
    worker = sys.argv[1]
    start = datetime(2025, 3, 14, tzinfo=timezone.utc)
    tracker = LocalTracker(Path({db!r}), busy_timeout=60)
    for n in range({n}):
        rec = SessionRecord(id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{{worker}}-{{n}}")),
                            application_name=f"app-{{n % 3}}",
                            repository_url=f"github.com/acme/app-{{n % 3}}",
                            started_at=start + timedelta(minutes=n), ended_at=start,
                            maintenance_runs=[MaintenanceRun(id=str(uuid.uuid4()),
                                                             command="audit", status="ok")])
        tracker.send(rec)
        # Every worker also resends one shared record: retries from the outbox race like this.
        tracker.send(SessionRecord(id={shared!r}, application_name="app-0",
                                   repository_url="github.com/acme/app-0", started_at=start,
                                   ended_at=start, summary=worker))
    tracker.close()
""")


def test_concurrent_sends_from_processes_all_land(tmp_path: Path, db: Path) -> None:
    script = tmp_path / "sender.py"
    script.write_text(_SENDER.format(server=SERVER, db=str(db), n=15, shared=SHARED))
    procs = [subprocess.Popen([sys.executable, str(script), f"w{w}"]) for w in range(6)]
    assert all(p.wait(180) == 0 for p in procs)
    ids = {r["id"] for r in rows(db, "SELECT id FROM claude_sessions")}
    assert ids == {
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"w{w}-{n}")) for w in range(6) for n in range(15)
    } | {SHARED}
    assert len(rows(db, "SELECT id FROM maintenance_runs")) == 90
    assert len(rows(db, "SELECT id FROM applications")) == 3
    with LocalTracker(db) as tracker:
        assert len(tracker.list_sessions(limit=1000)) == 91


def test_a_file_where_the_folder_should_be_raises_tracker_unavailable(isolated_home: Path) -> None:
    blocker = isolated_home / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(TrackerUnavailable, match="record is kept"):
        LocalTracker(blocker / "tracker.db").send(record())
