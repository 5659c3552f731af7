"""The tracker service over real HTTP (uvicorn in a thread), on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from claude_session.models import MaintenanceRun, SessionRecord
from claude_session.tracker.service.app import create_api_key, create_app
from claude_session.tracker.store.database import (
    HEAD,
    MIGRATIONS,
    REVISIONS,
    create_engine,
    migrate,
)
from claude_session.tracker.store.schema import metadata
from claude_session.tracker.store.storage import Store

START = datetime(2025, 3, 14, 9, 0, tzinfo=timezone.utc)
REPO = "github.com/acme/widgets"
PG_SERVER = "postgresql://{user}@127.0.0.1:5432/{db}"


# --- helpers shared with test_tracker_postgres, test_tracker_ui and bench/ ----------------------


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` on a free port of 127.0.0.1 in a thread; yield its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the tracker did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def postgres_admin_url() -> str | None:
    """A URL to the test PostgreSQL server's `test` database, or None when there is none."""
    for user in ("postgres", "root"):
        url = PG_SERVER.format(user=user, db="test")
        engine = create_engine(url)
        try:
            with engine.connect():
                return url
        except sa.exc.OperationalError:
            continue
        finally:
            engine.dispose()
    return None


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (dropped after); skips when there is none."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip(
            "no PostgreSQL on 127.0.0.1:5432 (database `test`, trust auth); .ci/run starts one"
        )
    name = f"cs_tracker_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def record(**overrides: Any) -> SessionRecord:
    fields: dict[str, Any] = {
        "application_name": "widgets",
        "repository_url": REPO,
        "started_at": START,
        "ended_at": START + timedelta(minutes=42),
    }
    fields.update(overrides)
    return SessionRecord.model_validate(fields)


def full_record(**overrides: Any) -> SessionRecord:
    fields: dict[str, Any] = dict(
        claude_session_id="cc-123",
        duration_minutes=42,
        starting_branch="main",
        ending_branch="feature/ü",
        commits_count=3,
        context_id="ctx-9",
        session_source="mcp",
        tokens_input=1200,
        tokens_output=340,
        tokens_cache_creation=55,
        tokens_cache_read=7000,
        summary="Fixed the parser.\nSecond line ✓",
        accomplishments=["parser", "tests"],
        next_steps=["release"],
        files_changed=["src/a.py", "docs/ü.md"],
        maintenance_runs=[
            MaintenanceRun(
                command="audit",
                status="ok",
                results={"issues": 0, "list": [1, 2]},
                notes="clean",
                run_at=START + timedelta(minutes=5),
            ),
            MaintenanceRun(
                command="security-scan",
                status="failed",
                results=None,
                run_at=START + timedelta(minutes=9),
            ),
        ],
        security_findings=[{"severity": "high", "id": "CVE-1", "nested": {"a": [1]}}],
        machine="laptop",
        end_mode="handoff",
    )
    fields.update(overrides)
    return record(**fields)


def body(rec: SessionRecord) -> dict[str, Any]:
    data: dict[str, Any] = rec.model_dump(mode="json")
    return data


class Tracker:
    """A running tracker with two users' clients and its database URL."""

    def __init__(self, url: str, base: str) -> None:
        self.url, self.base = url, base
        self.alice = httpx.Client(base_url=base, headers=_auth(create_api_key(url, "alice")))
        self.bob = httpx.Client(base_url=base, headers=_auth(create_api_key(url, "bob")))
        self.anonymous = httpx.Client(base_url=base)

    def count(self, table: str) -> int:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
        finally:
            engine.dispose()

    def close(self) -> None:
        for client in (self.alice, self.bob, self.anonymous):
            client.close()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def tracker(database: str) -> Iterator[Tracker]:
    with serve(create_app(database)) as base:
        running = Tracker(database, base)
        try:
            yield running
        finally:
            running.close()


# --- writing ----------------------------------------------------------------------------------


def test_health_answers_ok(tracker: Tracker) -> None:
    response = tracker.anonymous.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_post_creates_the_session_and_get_returns_every_field(tracker: Tracker) -> None:
    sent = full_record()
    response = tracker.alice.post("/api/sessions", json=body(sent))
    assert response.status_code == 201 and response.json() == {"id": sent.id}
    got = tracker.alice.get(f"/api/sessions/{sent.id}")
    assert got.status_code == 200
    assert SessionRecord.model_validate(got.json()) == sent
    assert tracker.count("maintenance_runs") == 2


def test_resending_a_known_id_updates_it_and_replaces_its_runs(tracker: Tracker) -> None:
    first = full_record()
    assert tracker.alice.post("/api/sessions", json=body(first)).status_code == 201
    assert tracker.alice.post("/api/sessions", json=body(first)).status_code == 200
    only = MaintenanceRun(command="deps", status="ok", run_at=START)
    second = first.model_copy(update={"summary": "Updated", "maintenance_runs": [only]})
    response = tracker.alice.post("/api/sessions", json=body(second))
    assert response.status_code == 200 and response.json() == {"id": first.id}
    assert (
        tracker.count("claude_sessions"),
        tracker.count("maintenance_runs"),
        tracker.count("applications"),
    ) == (1, 1, 1)
    got = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{first.id}").json())
    assert got.summary == "Updated" and got.maintenance_runs == [only]


def test_one_application_per_repository_and_user_named_after_the_latest(tracker: Tracker) -> None:
    tracker.alice.post("/api/sessions", json=body(record(application_name="widgets")))
    tracker.alice.post("/api/sessions", json=body(record(application_name="widgets-2")))
    tracker.alice.post(
        "/api/sessions", json=body(record(application_name="x", repository_url=None))
    )
    tracker.bob.post("/api/sessions", json=body(record(application_name="widgets")))
    apps = tracker.alice.get("/api/applications").json()["applications"]
    assert sorted((a["name"], a["repository_url"]) for a in apps) == [
        ("widgets-2", REPO),
        ("x", None),
    ]
    assert set(apps[0]) == {"id", "name", "repository_url"}
    assert [a["name"] for a in tracker.bob.get("/api/applications").json()["applications"]] == [
        "widgets"
    ]
    assert tracker.count("applications") == 3


def test_a_record_without_an_id_gets_one(tracker: Tracker) -> None:
    data = body(record())
    del data["id"]
    response = tracker.alice.post("/api/sessions", json=data)
    assert response.status_code == 201 and uuid.UUID(response.json()["id"])


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"started_at": "yesterday-ish"}, "started_at"),
        ({"application_name": None}, "application_name"),
        ({"commits_count": "many"}, "commits_count"),
        ({"maintenance_runs": [{"status": "ok"}]}, "maintenance_runs.0.command"),
        ({"id": "not-a-uuid"}, "id"),
    ],
)
def test_an_invalid_record_is_422_naming_the_field(
    tracker: Tracker, change: dict[str, Any], field: str
) -> None:
    data = body(record()) | change
    response = tracker.alice.post("/api/sessions", json=data)
    assert response.status_code == 422
    assert response.json()["field"] == field and response.json()["error"]
    assert tracker.count("claude_sessions") == 0


def test_a_missing_field_is_422_naming_it(tracker: Tracker) -> None:
    data = body(record())
    del data["ended_at"]
    response = tracker.alice.post("/api/sessions", json=data)
    assert response.status_code == 422 and response.json()["field"] == "ended_at"


def test_a_body_that_is_not_json_is_400(tracker: Tracker) -> None:
    response = tracker.alice.post(
        "/api/sessions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    assert tracker.alice.post("/api/sessions", json=[1, 2]).status_code == 422


def test_a_body_over_the_limit_is_413(tracker: Tracker) -> None:
    big = record(summary="x" * (1024 * 1024 + 10))
    response = tracker.alice.post("/api/sessions", json=body(big))
    assert response.status_code == 413 and response.json()["error"]
    assert tracker.count("claude_sessions") == 0


def test_missing_or_unknown_keys_are_401(tracker: Tracker) -> None:
    for headers in ({}, {"Authorization": "Bearer cst_nope"}, {"Authorization": "Basic abc"}):
        response = tracker.anonymous.post("/api/sessions", json=body(record()), headers=headers)
        assert response.status_code == 401 and response.json()["error"], headers
        assert tracker.anonymous.get("/api/sessions", headers=headers).status_code == 401
    assert tracker.count("claude_sessions") == 0


def test_unknown_api_routes_answer_json(tracker: Tracker) -> None:
    response = tracker.alice.get("/api/nothing-here")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}


# --- isolation --------------------------------------------------------------------------------


def test_another_users_session_answers_404_and_is_not_listed(tracker: Tracker) -> None:
    mine = full_record()
    tracker.alice.post("/api/sessions", json=body(mine))
    response = tracker.bob.get(f"/api/sessions/{mine.id}")
    assert response.status_code == 404 and response.json()["error"]
    assert tracker.bob.get("/api/sessions").json() == {
        "sessions": [],
        "total": 0,
        "next_cursor": None,
    }
    assert tracker.bob.get("/api/applications").json() == {"applications": []}
    assert tracker.alice.get(f"/api/sessions/{mine.id}").status_code == 200


def test_another_user_cannot_overwrite_a_session_by_its_id(tracker: Tracker) -> None:
    mine = full_record()
    tracker.alice.post("/api/sessions", json=body(mine))
    theirs = mine.model_copy(update={"summary": "hijacked", "maintenance_runs": []})
    response = tracker.bob.post("/api/sessions", json=body(theirs))
    assert response.status_code == 409 and response.json()["field"] == "id"
    got = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{mine.id}").json())
    assert got == mine


def test_another_user_cannot_take_a_maintenance_run_by_its_id(tracker: Tracker) -> None:
    mine = full_record()
    tracker.alice.post("/api/sessions", json=body(mine))
    theirs = record(maintenance_runs=[mine.maintenance_runs[0]])
    assert tracker.bob.post("/api/sessions", json=body(theirs)).status_code == 409
    got = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{mine.id}").json())
    assert got.maintenance_runs == mine.maintenance_runs


def test_a_run_sent_again_under_another_session_of_the_same_user_moves_there(
    tracker: Tracker,
) -> None:
    first = full_record()
    assert tracker.alice.post("/api/sessions", json=body(first)).status_code == 201
    moved, new = first.maintenance_runs[0], MaintenanceRun(command="lint", status="ok")
    second = record(maintenance_runs=[new, moved])
    assert tracker.alice.post("/api/sessions", json=body(second)).status_code == 201
    there = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{second.id}").json())
    left = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{first.id}").json())
    assert {r.id for r in there.maintenance_runs} == {new.id, moved.id}
    assert moved.id not in {r.id for r in left.maintenance_runs}
    assert tracker.count("maintenance_runs") == len(first.maintenance_runs) + 1


def test_unknown_or_malformed_ids_answer_404(tracker: Tracker) -> None:
    for session_id in (str(uuid.uuid4()), "not-a-uuid", "1; DROP TABLE users"):
        assert tracker.alice.get(f"/api/sessions/{session_id}").status_code == 404


# --- listing ----------------------------------------------------------------------------------


def _seven(tracker: Tracker) -> list[SessionRecord]:
    sent = [
        record(
            application_name="widgets" if h % 2 else "gears",
            repository_url=REPO if h % 2 else "github.com/acme/gears",
            started_at=START + timedelta(days=h),
            ended_at=START + timedelta(days=h, hours=1),
        )
        for h in (3, 0, 5, 1, 4, 2, 6)
    ]
    for rec in sent:
        assert tracker.alice.post("/api/sessions", json=body(rec)).status_code == 201
    return sorted(sent, key=lambda r: r.started_at, reverse=True)


def test_list_pages_newest_first_with_total_and_next_cursor(tracker: Tracker) -> None:
    newest = _seven(tracker)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = tracker.alice.get("/api/sessions", params=params).json()
        assert page["total"] == 7
        seen += [s["id"] for s in page["sessions"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 3, "cursor": page["next_cursor"]}
    assert seen == [r.id for r in newest]
    assert len(page["sessions"]) == 1
    SessionRecord.model_validate(page["sessions"][0])  # the client reads pages as records


def test_list_filters_by_application_and_dates(tracker: Tracker) -> None:
    newest = _seven(tracker)
    widgets = tracker.alice.get("/api/sessions", params={"application": "widgets"}).json()
    assert [s["id"] for s in widgets["sessions"]] == [
        r.id for r in newest if r.application_name == "widgets"
    ]
    window = {
        "since": (START + timedelta(days=2)).isoformat(),
        "until": (START + timedelta(days=5)).isoformat(),
    }
    dated = tracker.alice.get("/api/sessions", params=window).json()
    assert [s["started_at"][:10] for s in dated["sessions"]] == [
        "2025-03-18",
        "2025-03-17",
        "2025-03-16",
    ]
    both = tracker.alice.get("/api/sessions", params={**window, "application": "gears"}).json()
    assert both["total"] == 2
    assert tracker.alice.get("/api/sessions", params={"since": "2025-03-19"}).json()["total"] == 2
    assert (
        tracker.alice.get("/api/sessions", params={"application": "nothing"}).json()["total"] == 0
    )


@pytest.mark.parametrize(
    "params", [{"limit": "ten"}, {"limit": "100000"}, {"since": "the other day"}]
)
def test_bad_list_parameters_are_400_naming_them(tracker: Tracker, params: dict[str, str]) -> None:
    response = tracker.alice.get("/api/sessions", params=params)
    assert response.status_code == 400 and response.json()["field"] == next(iter(params))


# --- database ---------------------------------------------------------------------------------


def test_concurrent_first_sends_of_one_record_make_one_row(tracker: Tracker) -> None:
    sent = [full_record(id=str(uuid.uuid4())) for _ in range(4)]
    statuses: list[int] = []

    def send(rec: SessionRecord) -> None:
        with httpx.Client(base_url=tracker.base, headers=tracker.alice.headers) as client:
            for _ in range(3):
                statuses.append(client.post("/api/sessions", json=body(rec)).status_code)

    threads = [threading.Thread(target=send, args=(rec,)) for rec in sent for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(statuses) <= {200, 201} and len(statuses) == 36
    assert tracker.count("claude_sessions") == 4 and tracker.count("applications") == 1
    assert tracker.count("maintenance_runs") == 8


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


def test_api_keys_are_stored_hashed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    key = create_api_key(url, "alice")
    assert key.startswith("cst_") and len(key) > 40
    assert key != create_api_key(url, "alice")
    conn = sqlite3.connect(tmp_path / "t.db")
    try:
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    assert key not in dump and key[8:] not in dump


def test_database_down_is_503_so_the_client_retries(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    url = f"sqlite:///{db}"
    key = create_api_key(url, "alice")
    app = create_app(url)
    with serve(app) as base, httpx.Client(base_url=base, headers=_auth(key)) as client:
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
        try:
            app.state.store = Store(create_engine(url, busy_timeout=0.2))  # not 10 s
            response = client.post("/api/sessions", json=body(record()))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert "try again" in response.json()["error"]
        assert client.post("/api/sessions", json=body(record())).status_code == 201


def test_cli_token_create_prints_a_key_that_logs_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from claude_session.tracker.service import commands as cli

    parser = argparse.ArgumentParser()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    cli.register(parser.add_subparsers(dest="verb"), common)
    url = f"sqlite:///{tmp_path / 't.db'}"
    args = parser.parse_args(
        ["tracker", "token", "create", "--user", "carol", "--database", url, "--json"]
    )
    assert args.run(args) == 0
    key = json.loads(capsys.readouterr().out)["api_key"]
    app = create_app(url)
    assert app.state.store.auth.user_for_api_key(key).name == "carol"
    args = parser.parse_args(["tracker", "migrate", "--database", url, "--json"])
    assert args.run(args) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "current"


# --- API keys a team can manage ---------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    import argparse

    from claude_session.tracker.service import commands as cli

    parser = argparse.ArgumentParser()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    cli.register(parser.add_subparsers(dest="verb"), common)
    args = parser.parse_args(["tracker", *argv])
    code = args.run(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_are_listed_with_name_created_last_used_and_never_the_key(
    tracker: Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_api_key(tracker.url, "alice", "laptop")
    code, out, _ = _cli(
        capsys, "token", "list", "--user", "alice", "--database", tracker.url, "--json"
    )
    keys = json.loads(out)["keys"]
    assert code == 0 and len(keys) == 2 and key not in out and key[8:] not in out
    laptop = next(k for k in keys if k["name"] == "laptop")
    assert laptop["prefix"] == key[:8] and laptop["created_at"] and laptop["user"] == "alice"
    assert laptop["last_used_at"] is None and laptop["revoked_at"] is None
    assert tracker.anonymous.get("/api/sessions", headers=_auth(key)).status_code == 200
    _, out, _ = _cli(capsys, "token", "list", "--database", tracker.url, "--json")
    used = next(k for k in json.loads(out)["keys"] if k["name"] == "laptop")
    assert used["last_used_at"] is not None and {k["user"] for k in json.loads(out)["keys"]} == {
        "alice",
        "bob",
    }
    _, text, _ = _cli(capsys, "token", "list", "--database", tracker.url)
    assert "laptop" in text and key[:8] in text and key not in text


def test_a_revoked_key_gets_401_at_once_and_others_keep_working(
    tracker: Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_api_key(tracker.url, "alice", "ci")
    client = httpx.Client(base_url=tracker.base, headers=_auth(key))
    with client:
        assert client.post("/api/sessions", json=body(record())).status_code == 201
        code, out, _ = _cli(capsys, "token", "revoke", key[:8], "--database", tracker.url, "--json")
        assert code == 0 and json.loads(out)["key"]["revoked_at"]
        assert client.get("/api/sessions").status_code == 401  # the running server, no restart
        assert client.post("/api/sessions", json=body(record())).status_code == 401
    assert tracker.alice.get("/api/sessions").json()["total"] == 1
    code, _, err = _cli(capsys, "token", "revoke", "cst_nope", "--database", tracker.url)
    assert code == 1 and "token list" in err


def test_rotate_revokes_the_key_and_prints_a_successor_with_its_name(
    tracker: Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_api_key(tracker.url, "alice", "desktop")
    _, out, _ = _cli(
        capsys, "token", "list", "--user", "alice", "--database", tracker.url, "--json"
    )
    key_id = next(k["id"] for k in json.loads(out)["keys"] if k["name"] == "desktop")
    code, out, err = _cli(capsys, "token", "rotate", key_id, "--database", tracker.url)
    new = out.strip()
    assert code == 0 and new.startswith("cst_") and new != key and "shown only" in err
    assert tracker.anonymous.get("/api/sessions", headers=_auth(key)).status_code == 401
    assert tracker.anonymous.get("/api/sessions", headers=_auth(new)).status_code == 200
    _, out, _ = _cli(
        capsys, "token", "list", "--user", "alice", "--database", tracker.url, "--json"
    )
    desktops = [k for k in json.loads(out)["keys"] if k["name"] == "desktop"]
    assert sorted(k["revoked_at"] is None for k in desktops) == [False, True]
    code, _, err = _cli(capsys, "token", "rotate", key_id, "--database", tracker.url)
    assert code == 1 and "revoked already" in err


@contextlib.contextmanager
def _browser(tracker: Tracker, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tracker.base) as client:
        assert client.post("/login", data={"api_key": key}).status_code == 303
        yield client


def test_keys_are_made_rotated_and_revoked_in_the_ui(tracker: Tracker) -> None:
    key = create_api_key(tracker.url, "alice", "old laptop")
    with _browser(tracker, key) as browser:
        page = browser.get("/keys")
        assert page.status_code == 200 and "old laptop" in page.text and key[:8] in page.text
        assert key not in page.text
        made = browser.post("/keys", data={"name": "new laptop"})
        assert made.status_code == 201
        new = made.text.split('id="new-key">')[1].split("<")[0]
        assert new.startswith("cst_") and "shown only this once" in made.text
        assert new not in browser.get("/keys").text  # shown only when made
        assert tracker.anonymous.get("/api/sessions", headers=_auth(new)).status_code == 200
        keys = tracker_keys(tracker.url, "alice")
        new_id = next(k.id for k in keys if k.name == "new laptop")
        rotated = browser.post(f"/keys/{new_id}/rotate")
        newer = rotated.text.split('id="new-key">')[1].split("<")[0]
        assert rotated.status_code == 201 and newer != new
        assert tracker.anonymous.get("/api/sessions", headers=_auth(new)).status_code == 401
        newer_id = next(
            k.id
            for k in tracker_keys(tracker.url, "alice")
            if k.name == "new laptop" and k.revoked_at is None
        )
        assert browser.post(f"/keys/{newer_id}/revoke").status_code == 303
        assert tracker.anonymous.get("/api/sessions", headers=_auth(newer)).status_code == 401
        assert "revoked" in browser.get("/keys").text


def test_revoking_a_key_signs_out_the_browsers_opened_with_it(
    tracker: Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    laptop = create_api_key(tracker.url, "alice", "laptop")
    phone = create_api_key(tracker.url, "alice", "phone")
    with (
        _browser(tracker, laptop) as first,
        _browser(tracker, laptop) as second,
        _browser(tracker, phone) as other,
    ):
        assert first.get("/").status_code == 200 and second.get("/").status_code == 200
        code, _, _ = _cli(capsys, "token", "revoke", laptop[:8], "--database", tracker.url)
        assert code == 0
        for browser in (first, second):  # the next request goes to the log-in page
            gone = browser.get("/keys")
            assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        assert other.get("/").status_code == 200  # opened with another key: still in
        phone_id = next(k.id for k in tracker_keys(tracker.url, "alice") if k.name == "phone")
        # Revoked from the UI, by the browser signed in with it: signed out too.
        assert other.post(f"/keys/{phone_id}/revoke").status_code == 303
        assert other.get("/keys").status_code == 303


def test_rotating_a_key_keeps_the_rotating_browser_and_signs_out_the_others(
    tracker: Tracker,
) -> None:
    key = create_api_key(tracker.url, "alice", "laptop")
    key_id = next(k.id for k in tracker_keys(tracker.url, "alice") if k.name == "laptop")
    with _browser(tracker, key) as mine, _browser(tracker, key) as elsewhere:
        rotated = mine.post(f"/keys/{key_id}/rotate")
        assert rotated.status_code == 201 and 'id="new-key">' in rotated.text
        assert mine.get("/keys").status_code == 200
        assert elsewhere.get("/keys").status_code == 303


def test_another_users_key_cannot_be_revoked_from_the_ui(tracker: Tracker) -> None:
    bobs = create_api_key(tracker.url, "bob", "bob's")
    bob_id = next(k.id for k in tracker_keys(tracker.url, "bob") if k.name == "bob's")
    with _browser(tracker, create_api_key(tracker.url, "alice")) as browser:
        assert browser.post(f"/keys/{bob_id}/revoke").status_code == 404
        assert browser.post(f"/keys/{bob_id}/rotate").status_code == 404
        assert browser.post("/keys/not-a-uuid/revoke").status_code == 404
        assert "bob's" not in browser.get("/keys").text
    assert tracker.anonymous.get("/api/sessions", headers=_auth(bobs)).status_code == 200


def tracker_keys(url: str, user: str) -> list[Any]:
    from claude_session.tracker.service.app import with_store

    return with_store(url, lambda store: store.auth.api_keys(user))


# --- command types (the seed's maintenance_runs.command_type_id) -------------------------------


def _runs(*commands: str) -> list[MaintenanceRun]:
    return [
        MaintenanceRun(
            command=c, status="ok" if n % 2 else "failed", run_at=START + timedelta(minutes=n)
        )
        for n, c in enumerate(commands)
    ]


def test_runs_get_a_command_type_from_their_command(tracker: Tracker) -> None:
    first = record(maintenance_runs=_runs("npm audit", "npm audit --json", "./scan.sh --deep"))
    second = record(maintenance_runs=_runs("NPM audit", "make lint FOO=1"))
    for rec in (first, second):
        assert tracker.alice.post("/api/sessions", json=body(rec)).status_code == 201
    got = tracker.alice.get(f"/api/sessions/{first.id}").json()
    assert [r["command_type"] for r in got["maintenance_runs"]] == [
        "npm audit",
        "npm audit",
        "scan.sh",
    ]
    assert tracker.count("command_types") == 3  # npm audit, scan.sh, make lint
    engine = create_engine(tracker.url)
    try:
        with engine.connect() as conn:
            orphans = conn.execute(
                sa.text(
                    "SELECT count(*) FROM maintenance_runs r LEFT JOIN command_types t "
                    "ON t.id = r.command_type_id WHERE t.id IS NULL"
                )
            ).scalar_one()
        keys = sa.inspect(engine).get_foreign_keys("maintenance_runs")
    finally:
        engine.dispose()
    assert orphans == 0
    assert any(
        k["referred_table"] == "command_types" and k["constrained_columns"] == ["command_type_id"]
        for k in keys
    )


def test_the_ui_groups_runs_by_type(tracker: Tracker) -> None:
    key = create_api_key(tracker.url, "carol")
    rec = record(maintenance_runs=_runs("npm audit", "security-scan", "npm audit --json"))
    assert (
        tracker.anonymous.post("/api/sessions", json=body(rec), headers=_auth(key)).status_code
        == 201
    )
    with _browser(tracker, key) as browser:
        page = browser.get(f"/sessions/{rec.id}").text
        groups = page.split('<h3 class="run-type">')[1:]
        assert [g.split(" <")[0] for g in groups] == ["npm audit", "security-scan"]
        assert "2 runs" in groups[0] and "1 run<" in groups[1]
        overview = browser.get("/").text.split('id="run-types"')[1].split("</section>")[0]
        assert "npm audit" in overview and "security-scan" in overview
        assert ">2<" in overview  # two npm audit runs


# --- a service a team can run: workers, environment, migrations that cannot race ---------------

SERVER = str(Path(__file__).resolve().parent.parent / "server")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@contextlib.contextmanager
def served_by_cli(*argv: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """``claude-session tracker serve ARGV`` as a process on a free port; yields its base URL."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claude_session.edges.cli",
            "tracker",
            "serve",
            "--port",
            str(port),
            *argv,
        ],
        env={**os.environ, "PYTHONPATH": SERVER, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise AssertionError(f"the tracker did not start: {server.stderr.read()!r}")
            time.sleep(0.2)
        yield base
        assert len(_children(server.pid)) >= (
            int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 0
        )
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def test_serve_with_two_workers_takes_concurrent_records(database: str) -> None:
    key = create_api_key(database, "alice")
    with served_by_cli("--workers", "2", "--database", database) as base:
        statuses: list[int] = []

        def send() -> None:
            with httpx.Client(base_url=base, headers=_auth(key), timeout=30) as client:
                for _ in range(10):
                    statuses.append(
                        client.post("/api/sessions", json=body(full_record())).status_code
                    )

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert statuses == [201] * 40
        listed = httpx.get(f"{base}/api/sessions", headers=_auth(key)).json()
        assert listed["total"] == 40


def test_two_workers_share_one_log_in_throttle(database: str) -> None:
    """Ten failed log-ins in all, spread over both workers, lock the address in every worker
    (counted per process, each worker would allow ten of its own)."""
    create_api_key(database, "alice")
    with served_by_cli("--workers", "2", "--database", database) as base:
        for n in range(10):
            with httpx.Client(base_url=base) as browser:  # a new connection: either worker
                assert browser.post("/login", data={"api_key": f"cst_x{n}"}).status_code == 401
        for _ in range(6):
            with httpx.Client(base_url=base) as browser:
                refused = browser.post("/login", data={"api_key": "cst_again"})
                assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_a_key_revoked_while_two_workers_serve_it_stores_nothing_more(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_api_key(database, "alice")
    with served_by_cli("--workers", "2", "--database", database) as base:
        for _ in range(8):  # new connections: both workers see the key
            with httpx.Client(base_url=base, headers=_auth(key)) as client:
                assert client.post("/api/sessions", json=body(record())).status_code == 201
        code, _, _ = _cli(capsys, "token", "revoke", key[:8], "--database", database)
        assert code == 0
        for _ in range(8):
            with httpx.Client(base_url=base, headers=_auth(key)) as client:
                assert client.post("/api/sessions", json=body(record())).status_code == 401
    owner = create_api_key(database, "alice")
    with serve(create_app(database)) as base:
        listed = httpx.get(f"{base}/api/sessions", headers=_auth(owner)).json()
    assert listed["total"] == 8


def test_the_app_factory_reads_its_configuration_from_the_environment(tmp_path: Path) -> None:
    from claude_session.tracker.service.app import ServiceConfig, from_environment

    db = tmp_path / "from-env.db"
    env = {
        "CLAUDE_SESSION_TRACKER_DATABASE": f"sqlite:///{db}",
        "CLAUDE_SESSION_TRACKER_SECRET": "s3cret",
        "HOME": str(tmp_path),
        "CLAUDE_SESSION_TRACKER_ORIGINS": "https://a.example, https://b.example",
        "CLAUDE_SESSION_TRACKER_SECURE_COOKIES": "1",
    }
    config = ServiceConfig.from_env(env)
    assert config.allowed_origins == ("https://a.example", "https://b.example")
    assert config.secure_cookies and "s3cret" not in repr(config)
    assert ServiceConfig.from_env({"HOME": str(tmp_path)}).database.endswith("tracker.db")
    key = create_api_key(f"sqlite:///{db}", "alice")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        app = from_environment()
    with serve(app) as base, httpx.Client(base_url=base) as browser:
        answer = browser.post(
            "/login", data={"api_key": key}, headers={"Origin": "https://b.example"}
        )
        assert answer.status_code == 303 and "secure" in answer.headers["set-cookie"].lower()
    assert db.exists()


def test_the_cookie_secret_signs_every_browser_out_when_changed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    key = create_api_key(url, "alice")
    with serve(create_app(url, secret="one")) as base, httpx.Client(base_url=base) as browser:
        assert browser.post("/login", data={"api_key": key}).status_code == 303
        cookie = dict(browser.cookies)
        assert browser.get("/").status_code == 200
    with (
        serve(create_app(url, secret="two")) as base,
        httpx.Client(base_url=base, cookies=cookie) as browser,
    ):
        assert browser.get("/").status_code == 303  # to the log-in page


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


# --- keyset pagination -------------------------------------------------------------------------


def _many(tracker: Tracker, count: int) -> list[str]:
    """``count`` sessions, several sharing a start time; their ids newest first."""
    sent = [
        record(
            started_at=START + timedelta(hours=n // 3),
            ended_at=START + timedelta(hours=n // 3, minutes=5),
        )
        for n in range(count)
    ]
    for rec in sent:
        assert tracker.alice.post("/api/sessions", json=body(rec)).status_code == 201
    everything = tracker.alice.get("/api/sessions", params={"limit": 500}).json()["sessions"]
    return [s["id"] for s in everything]


def test_cursor_pages_walk_every_session_once_in_order(tracker: Tracker) -> None:
    newest_first = _many(tracker, 23)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 5}
    while True:
        page = tracker.alice.get("/api/sessions", params=params).json()
        assert page["total"] == 23
        seen += [s["id"] for s in page["sessions"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 5, "cursor": page["next_cursor"]}
    assert seen == newest_first


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "junk"},
        {"cursor": "W10", "limit": "5"},
        {"cursor": "x" * 3000},
        {"cursor": "a%00"},
    ],
)
def test_a_cursor_the_tracker_did_not_make_is_400(tracker: Tracker, params: dict[str, str]) -> None:
    answer = tracker.alice.get("/api/sessions", params=params)
    assert answer.status_code == 400 and answer.json()["field"] == "cursor"


def test_the_ui_pages_older_and_newer_by_cursor(tracker: Tracker) -> None:
    import re

    from claude_session.tracker.service import ui

    newest_first = _many(tracker, ui.PAGE_SIZE * 2 + 7)
    key = create_api_key(tracker.url, "alice")
    with _browser(tracker, key) as browser:
        pages, url = [], "/"
        while url:
            html = browser.get(url).text
            pages.append(re.findall(r'href="/sessions/([0-9a-f-]{36})"', html)[::2])
            older = re.search(r'href="\?after=([^"]+)" rel="next"', html)
            url = f"/?after={older.group(1)}" if older else ""
        assert [len(p) for p in pages] == [ui.PAGE_SIZE, ui.PAGE_SIZE, 7]
        assert [i for p in pages for i in p] == newest_first
        newer = re.search(r'href="\?before=([^"]+)" rel="prev"', html)
        assert newer is not None
        back = browser.get(f"/?before={newer.group(1)}").text
        assert re.findall(r'href="/sessions/([0-9a-f-]{36})"', back)[::2] == pages[1]


# --- SQLite writers ----------------------------------------------------------------------------


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
        saved: list[float] = []
        with write_turn(engine):  # another writer's turn (a thread here; a worker in service)
            waiting = threading.Thread(target=lambda: saved.append(_timed_save(store, owner)))
            waiting.start()
            time.sleep(0.5)
            assert not saved  # it waits for the turn, not polling the file meanwhile
        waiting.join(10)
        assert saved and (tmp_path / "t.db.write-lock").exists()
        assert store.history.list_sessions(owner).total == 1
    finally:
        engine.dispose()


def _timed_save(store: Any, owner: Any) -> float:
    began = time.monotonic()
    store.records.save(owner, record())
    return time.monotonic() - began
