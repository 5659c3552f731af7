"""``claude-session tracker serve | migrate | token`` (``service/commands.py``): start-up
messages (one clear line, the right exit code), the token verbs, several workers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from claude_session.tracker.service.app import create_api_key, create_app
from helpers.records import body, full_record, record
from helpers.tracker_process import served_by_cli
from helpers.tracker_service import Tracker, bearer, serve, tracker_cli

ROOT = Path(__file__).resolve().parents[2]
# psycopg made unimportable, as on an install without the [postgres] extra
NO_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; "
    "from claude_session.edges.cli import main; sys.exit(main(sys.argv[1:]))"
)


def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "server"))
    head = ["-c", code] if code else ["-m", "claude_session.edges.cli"]
    return subprocess.run(
        [sys.executable, *head, *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_busy_port_is_reported_before_the_banner_with_exit_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run("tracker", "serve", "--port", str(port), "--database", str(tmp_path / "t.db"))
    assert proc.returncode == 1, proc.stderr
    assert f"Port {port} on 127.0.0.1 is already in use" in proc.stderr
    assert "--port" in proc.stderr
    assert "Tracker on" not in proc.stderr and "Traceback" not in proc.stderr


def test_postgresql_without_the_driver_says_how_to_add_it_in_one_line() -> None:
    for verb in (["serve", "--port", "0"], ["migrate"], ["token", "create", "--user", "a"]):
        proc = run(
            "tracker", *verb, "--database", "postgresql://me@127.0.0.1:9/db", code=NO_PSYCOPG
        )
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert "PostgreSQL driver" in lines[0] and "pip install 'psycopg[binary]" in lines[0]
        assert "claude-session[postgres]" in lines[0] and "Tracker on" not in lines[0]


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


def test_keys_are_listed_with_name_created_last_used_and_never_the_key(
    tracker: Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_api_key(tracker.url, "alice", "laptop")
    code, out, _ = tracker_cli(
        capsys, "token", "list", "--user", "alice", "--database", tracker.url, "--json"
    )
    keys = json.loads(out)["keys"]
    assert code == 0 and len(keys) == 2 and key not in out and key[8:] not in out
    laptop = next(k for k in keys if k["name"] == "laptop")
    assert laptop["prefix"] == key[:8] and laptop["created_at"] and laptop["user"] == "alice"
    assert laptop["last_used_at"] is None and laptop["revoked_at"] is None
    assert tracker.anonymous.get("/api/sessions", headers=bearer(key)).status_code == 200
    _, out, _ = tracker_cli(capsys, "token", "list", "--database", tracker.url, "--json")
    used = next(k for k in json.loads(out)["keys"] if k["name"] == "laptop")
    assert used["last_used_at"] is not None and {k["user"] for k in json.loads(out)["keys"]} == {
        "alice",
        "bob",
    }
    _, text, _ = tracker_cli(capsys, "token", "list", "--database", tracker.url)
    assert "laptop" in text and key[:8] in text and key not in text


def test_a_revoked_key_gets_401_at_once_and_others_keep_working(
    tracker: Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_api_key(tracker.url, "alice", "ci")
    client = httpx.Client(base_url=tracker.base, headers=bearer(key))
    with client:
        assert client.post("/api/sessions", json=body(record())).status_code == 201
        code, out, _ = tracker_cli(
            capsys, "token", "revoke", key[:8], "--database", tracker.url, "--json"
        )
        assert code == 0 and json.loads(out)["key"]["revoked_at"]
        assert client.get("/api/sessions").status_code == 401  # the running server, no restart
        assert client.post("/api/sessions", json=body(record())).status_code == 401
    assert tracker.alice.get("/api/sessions").json()["total"] == 1
    code, _, err = tracker_cli(capsys, "token", "revoke", "cst_nope", "--database", tracker.url)
    assert code == 1 and "token list" in err


def test_rotate_revokes_the_key_and_prints_a_successor_with_its_name(
    tracker: Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_api_key(tracker.url, "alice", "desktop")
    _, out, _ = tracker_cli(
        capsys, "token", "list", "--user", "alice", "--database", tracker.url, "--json"
    )
    key_id = next(k["id"] for k in json.loads(out)["keys"] if k["name"] == "desktop")
    code, out, err = tracker_cli(capsys, "token", "rotate", key_id, "--database", tracker.url)
    new = out.strip()
    assert code == 0 and new.startswith("cst_") and new != key and "shown only" in err
    assert tracker.anonymous.get("/api/sessions", headers=bearer(key)).status_code == 401
    assert tracker.anonymous.get("/api/sessions", headers=bearer(new)).status_code == 200
    _, out, _ = tracker_cli(
        capsys, "token", "list", "--user", "alice", "--database", tracker.url, "--json"
    )
    desktops = [k for k in json.loads(out)["keys"] if k["name"] == "desktop"]
    assert sorted(k["revoked_at"] is None for k in desktops) == [False, True]
    code, _, err = tracker_cli(capsys, "token", "rotate", key_id, "--database", tracker.url)
    assert code == 1 and "revoked already" in err


def test_serve_with_two_workers_takes_concurrent_records(database: str) -> None:
    key = create_api_key(database, "alice")
    with served_by_cli("--workers", "2", "--database", database) as base:
        statuses: list[int] = []

        def send() -> None:
            with httpx.Client(base_url=base, headers=bearer(key), timeout=30) as client:
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
        listed = httpx.get(f"{base}/api/sessions", headers=bearer(key)).json()
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
            with httpx.Client(base_url=base, headers=bearer(key)) as client:
                assert client.post("/api/sessions", json=body(record())).status_code == 201
        code, _, _ = tracker_cli(capsys, "token", "revoke", key[:8], "--database", database)
        assert code == 0
        for _ in range(8):
            with httpx.Client(base_url=base, headers=bearer(key)) as client:
                assert client.post("/api/sessions", json=body(record())).status_code == 401
    owner = create_api_key(database, "alice")
    with serve(create_app(database)) as base:
        listed = httpx.get(f"{base}/api/sessions", headers=bearer(owner)).json()
    assert listed["total"] == 8


def test_the_banners_token_command_makes_a_key_for_the_database_served(tmp_path: Path) -> None:
    """newcomer-2 3.2: the banner said `token create --user NAME` without --database, so the
    key went into the local database and the tracker refused it."""
    import shlex

    database = tmp_path / "team" / "tracker.db"
    database.parent.mkdir()
    log = tmp_path / "serve.log"
    with served_by_cli("--database", str(database), log=log) as base:
        banner = [line for line in log.read_text().splitlines() if line.strip()][:2]
        assert banner[0].startswith(f"Tracker on {base}")
        command = banner[1].split("`")[1]
        assert f"--database sqlite:///{database}" in command
        words = shlex.split(command.replace("NAME", "alice"))
        assert words[:2] == ["claude-session", "tracker"]
        key = run(*words[1:]).stdout.strip()
        answer = httpx.get(f"{base}/api/sessions", headers=bearer(key), timeout=10)
        assert answer.status_code == 200, answer.text


def test_a_password_in_the_database_url_is_never_printed_by_the_banner() -> None:
    import argparse

    from claude_session.tracker.service.commands import _same_database

    url = "postgresql://team:hunter2@db.example.com/tracker"
    said = _same_database(argparse.Namespace(database=url), url)
    assert "hunter2" not in said and "(with its password)" in said
    assert "team@db.example.com/tracker" in said
    assert _same_database(argparse.Namespace(database=None), url) == ""
