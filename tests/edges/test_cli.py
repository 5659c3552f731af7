"""The CLI as a user and a script run it: real processes, real git, --json and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers.gitrepo import commit_file, git, make_remote, make_repo

SERVER = str(Path(__file__).resolve().parents[2] / "server")


def run_cli(
    *args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = SERVER
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def cli_json(*args: str, cwd: Path, code: int = 0, **kw: Any) -> dict[str, Any]:
    proc = run_cli(*args, "--json", cwd=cwd, **kw)
    assert proc.returncode == code, proc.stderr + proc.stdout
    return json.loads(proc.stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "webapp")
    make_remote(r, tmp_path / "remote.git")
    return r


def test_round_trip_pause_resume_end_history(repo: Path, isolated_home: Path) -> None:
    started = cli_json("start", cwd=repo)
    assert started["status"] == "ready" and started["branch"] == "main"
    sid = started["session_id"]
    (repo / "app.py").write_text("print('hi')\n")
    paused = cli_json(
        "pause",
        "--summary",
        "Half way through the login form",
        "--next",
        "wire the submit button",
        "--next",
        "write tests",
        cwd=repo,
    )
    assert paused["session_id"] == sid
    context_file = Path(paused["context_file"])
    text = context_file.read_text()
    assert "Half way through the login form" in text and "wire the submit button" in text
    assert "app.py" in text  # the untracked file is part of the working state
    state = json.loads((isolated_home / "pause-state.json").read_text())
    assert state["projects"][str(repo)]["context_file"] == str(context_file)

    resumed = cli_json("resume", cwd=repo)
    assert resumed["status"] == "ready"
    assert "wire the submit button" in resumed["context"]

    ended = cli_json(
        "end",
        "--summary",
        "Login form done",
        "--accomplished",
        "login form",
        "--message",
        "Add login form",
        cwd=repo,
    )
    assert ended["tracker"] == "local"
    assert ended["commit"] and ended["pushed"] is True
    assert git(repo, "log", "-1", "--format=%s") == "Add login form"
    assert git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", "origin/main")
    record = ended["record"]
    assert record["commits_count"] == 1 and record["files_changed"] == ["app.py"]
    assert record["accomplishments"] == ["login form"]
    assert str(repo) not in json.loads((isolated_home / "pause-state.json").read_text())["projects"]

    history = cli_json("history", cwd=repo)
    # the pause sent its stretch's record; the end's continues it
    ended_record, paused_record = history["records"]
    assert ended_record["id"] == record["id"] and record["continues"] == paused_record["id"]
    assert paused_record["end_mode"] == "paused"
    text_history = run_cli("history", cwd=repo)
    assert "webapp" in text_history.stdout and "Login form done" in text_history.stdout


def test_start_twice_in_one_session_is_harmless(repo: Path) -> None:
    first = cli_json("start", "--session-id", "s-1", cwd=repo)
    second = cli_json("start", "--session-id", "s-1", cwd=repo)
    assert second["already_started"] is True and second["session_id"] == first["session_id"]


def test_branch_mismatch_without_terminal_reports_the_three_choices(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/login")
    cli_json("pause", "--summary", "on the feature", cwd=repo)
    git(repo, "checkout", "-q", "main")
    result = cli_json("start", cwd=repo, code=1)
    assert result["status"] == "branch_mismatch"
    assert result["paused_branch"] == "feature/login" and result["branch"] == "main"
    assert result["choices"] == ["switch", "stay", "cancel"]

    cancelled = cli_json("start", "--on-mismatch", "cancel", cwd=repo)
    assert cancelled["status"] == "cancelled"
    switched = cli_json("start", "--on-mismatch", "switch", cwd=repo)
    assert switched["status"] == "ready" and switched["branch"] == "feature/login"
    assert "on the feature" in switched["context"]
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "feature/login"


def test_stay_clears_the_pause_but_keeps_the_context_file(repo: Path, isolated_home: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    paused = cli_json("pause", "--summary", "x", cwd=repo)
    git(repo, "checkout", "-q", "main")
    stayed = cli_json("start", "--on-mismatch", "stay", cwd=repo)
    assert stayed["status"] == "ready" and stayed["cleared_pause"] is True
    assert Path(paused["context_file"]).exists()
    assert json.loads((isolated_home / "pause-state.json").read_text())["projects"] == {}


def test_switch_refuses_only_where_git_would_lose_uncommitted_work(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "README.md", "feature's readme\n")
    cli_json("pause", "--summary", "x", cwd=repo)
    git(repo, "checkout", "-q", "main")
    (repo / "README.md").write_text("precious edit\n")
    proc = run_cli("start", "--on-mismatch", "switch", "--json", cwd=repo)
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["message"]
    assert "would be overwritten by checkout: README.md" in error
    assert "Nothing was changed; commit or stash those changes (git stash -u)" in error
    assert (repo / "README.md").read_text() == "precious edit\n"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_switch_carries_uncommitted_work_where_git_would(repo: Path) -> None:
    """newcomer-2 2.4: the change on main *was* the paused work; git checkout carries it."""
    git(repo, "checkout", "-q", "-b", "feature")
    cli_json("pause", "--summary", "greet", cwd=repo)
    git(repo, "checkout", "-q", "main")
    (repo / "README.md").write_text("edited while on main\n")
    (repo / "new.py").write_text("x = 1\n")
    started = cli_json("start", "--on-mismatch", "switch", cwd=repo)
    assert started["status"] == "ready" and started["switched_branch"] is True
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "feature"
    assert (repo / "README.md").read_text() == "edited while on main\n"
    assert (repo / "new.py").exists()
    text = run_cli("resume", cwd=repo)  # nothing paused now: says so, exit 0
    assert text.returncode == 0


def test_wip_commit_is_marked_and_skips_ignored_files(repo: Path) -> None:
    (repo / ".gitignore").write_text("secret.env\n")
    (repo / "secret.env").write_text("TOKEN=abc\n")
    (repo / "work.py").write_text("x = 1\n")
    paused = cli_json("pause", "--summary", "lunch", "--wip-commit", cwd=repo)
    assert paused["wip_commit"]
    assert git(repo, "log", "-1", "--format=%s").startswith("WIP")
    files = git(repo, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert "work.py" in files and "secret.env" not in files


def test_end_reports_a_rejected_push_and_never_forces(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", "main", str(tmp_path / "remote.git"), str(other))
    theirs = commit_file(other, "theirs.txt", "theirs\n")
    git(other, "push", "-q")
    cli_json("start", cwd=repo)
    (repo / "mine.txt").write_text("mine\n")
    ended = cli_json("end", "--summary", "s", "--message", "mine", cwd=repo, code=1)
    assert ended["pushed"] is False and "reject" in ended["push_detail"].lower()
    assert git(tmp_path / "remote.git", "rev-parse", "main") == theirs


def test_end_without_upstream_says_so(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "solo")
    cli_json("start", cwd=repo)
    ended = cli_json("end", "--summary", "s", cwd=repo)
    assert ended["pushed"] is False and ended["push_detail"]
    assert ended["tracker"] == "local"


def test_lifecycle_outside_git(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    assert cli_json("start", cwd=folder)["branch"] is None
    paused = cli_json("pause", "--summary", "plain folder", cwd=folder)
    assert paused["wip_commit"] is None
    assert "plain folder" in cli_json("resume", cwd=folder)["context"]
    ended = cli_json("end", "--summary", "done", cwd=folder)
    assert ended["commit"] is None and ended["pushed"] is False
    assert cli_json("history", cwd=folder)["records"][0]["application_name"] == "notes"


def test_corrupt_pause_state_is_moved_aside_and_pause_still_works(
    repo: Path, isolated_home: Path
) -> None:
    (isolated_home / "pause-state.json").write_text("{ this is not json")
    paused = cli_json("pause", "--summary", "after corruption", cwd=repo)
    assert any("moved to" in w for w in paused["warnings"])
    aside = list(isolated_home.glob("pause-state.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{ this is not json"


def test_a_missing_context_file_is_named_and_resume_goes_on(repo: Path) -> None:
    paused = cli_json("pause", "--summary", "x", cwd=repo)
    Path(paused["context_file"]).unlink()
    proc = run_cli("resume", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert f"warning: The saved context file {paused['context_file']} is missing" in proc.stdout


def test_usage_errors_exit_2(repo: Path) -> None:
    assert run_cli("frobnicate", cwd=repo).returncode == 2
    assert run_cli("start", "--on-mismatch", "maybe", cwd=repo).returncode == 2
    proc = run_cli(
        "maintenance",
        "--command",
        "audit",
        "--status",
        "ok",
        "--results",
        "{bad",
        "--json",
        cwd=repo,
    )
    assert proc.returncode == 2 and json.loads(proc.stdout)["status"] == "error"
    assert run_cli("status", "-C", str(repo / "missing"), cwd=repo).returncode == 2


def test_json_output_is_only_json(repo: Path) -> None:
    proc = run_cli("status", "--json", cwd=repo)
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["vault"] and data["tracker"]


def test_remind_settings_per_project(repo: Path, isolated_home: Path) -> None:
    assert cli_json("remind", cwd=repo)["settings"]["enabled"] is False
    on = cli_json("remind", "on", "--every", "15", "--dirty-files", "3", cwd=repo)
    assert on["settings"] == {"enabled": True, "every_minutes": 15, "dirty_files": 3}
    assert cli_json("remind", "status", cwd=repo)["settings"]["every_minutes"] == 15
    assert cli_json("remind", "off", cwd=repo)["settings"]["enabled"] is False
    assert run_cli("remind", "on", "--every", "0", cwd=repo).returncode == 2


def test_maintenance_runs_reach_the_record(repo: Path) -> None:
    cli_json("start", cwd=repo)
    cli_json(
        "maintenance",
        "--command",
        "security-scan",
        "--status",
        "failed",
        "--results",
        '{"findings": [{"id": "CVE-1", "severity": "high"}]}',
        cwd=repo,
    )
    cli_json("maintenance", "--command", "deps-update", "--status", "ok", cwd=repo)
    record = cli_json("end", "--summary", "s", "--no-push", cwd=repo)["record"]
    assert [r["command"] for r in record["maintenance_runs"]] == ["security-scan", "deps-update"]
    assert record["security_findings"] == [{"id": "CVE-1", "severity": "high"}]


def test_handoff_receive_then_start_imports_the_answer_once(repo: Path) -> None:
    cli_json("start", cwd=repo)
    ended = cli_json(
        "end", "--summary", "Designing the cache", "--mode", "handoff", "--no-push", cwd=repo
    )
    assert ended["handoff_item"].startswith("session-webapp-")
    assert "## Decisions" in ended["transfer_prompt"]
    answer = (
        "## Decisions\n- use LRU\n## Changes to make\n- add cache.py\n"
        "## Open questions\n- none\n## Next steps\n- benchmark\n"
    )
    received = cli_json("handoff", "receive", cwd=repo, stdin=answer)
    assert received["item"] == ended["handoff_item"]
    first = cli_json("start", "--session-id", "next-1", cwd=repo)
    assert first["imported_item"] == ended["handoff_item"]
    assert "use LRU" in first["context"] and "Insights from claude.ai" in first["context"]
    second = cli_json("start", "--session-id", "next-2", cwd=repo)
    assert second["imported_item"] is None


def test_tracker_serve_on_the_local_database_shows_ones_own_history(
    repo: Path, tmp_path: Path
) -> None:
    import socket
    import time

    import httpx

    cli_json("start", cwd=repo)
    cli_json("end", "--summary", "LOCAL-HISTORY summary", "--no-push", cwd=repo)
    key = cli_json("tracker", "token", "create", "--user", "local", cwd=repo)["api_key"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=SERVER)
    server = subprocess.Popen(
        [sys.executable, "-m", "claude_session.edges.cli", "tracker", "serve", "--port", str(port)],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "tracker did not start"
            time.sleep(0.1)
        with httpx.Client(base_url=base, follow_redirects=True) as browser:
            page = browser.post("/login", data={"api_key": key})
            assert page.status_code == 200
            assert "webapp" in page.text and "LOCAL-HISTORY summary" in page.text
            api = browser.get("/api/sessions", headers={"Authorization": f"Bearer {key}"})
            assert [s["summary"] for s in api.json()["sessions"]] == ["LOCAL-HISTORY summary"]
    finally:
        server.terminate()
        server.wait(10)


def test_a_corrupt_ledger_entry_is_moved_aside_and_said_in_the_json_of_status_and_start(
    repo: Path, isolated_home: Path
) -> None:
    """design-2 2.4: the warning of an entry moved aside reached only the log (a throwaway
    warnings list); status --json and start --json said "warnings": []."""
    ledger = isolated_home / "claude-session" / "ledger"
    ledger.mkdir(parents=True)
    (ledger / "bad.json").write_text("garbage")
    status = cli_json("status", cwd=repo)
    assert any("moved" in w and "bad.json" in w for w in status["warnings"]), status
    assert [p.name.split(".corrupt-")[0] for p in ledger.glob("*.corrupt-*")] == ["bad.json"]
    assert next(ledger.glob("*.corrupt-*")).read_text() == "garbage"  # kept, not overwritten
    (ledger / "worse.json").write_text("{not json")
    started = cli_json("start", cwd=repo)
    assert any("moved" in w and "worse.json" in w for w in started["warnings"]), started


def test_history_searches_filters_totals_and_exports(repo: Path, isolated_home: Path) -> None:
    cli_json("start", "--session-id", "s-1", cwd=repo)
    cli_json(
        "end", "--session-id", "s-1", "--summary", "Gzip bodies decoded", "--no-push", cwd=repo
    )
    cli_json("start", "--session-id", "s-2", cwd=repo)
    cli_json("end", "--session-id", "s-2", "--summary", "=cmd|' /C calc'!A0", "--no-push", cwd=repo)
    found = cli_json("history", "--search", "gzip", cwd=repo)
    assert [r["summary"] for r in found["records"]] == ["Gzip bodies decoded"]
    assert found["totals"]["sessions"] == 1 and found["totals"]["cost_unknown"] == 0
    assert (
        cli_json("history", "--branch", "main", "--end-mode", "standard", cwd=repo)["totals"][
            "sessions"
        ]
        == 2
    )
    assert cli_json("history", "--machine", "nowhere", cwd=repo)["records"] == []
    text = run_cli("history", "--search", "gzip", cwd=repo).stdout
    assert "Gzip bodies decoded" in text and "1 sessions" in text and "$0.00" in text
    exported = run_cli("history", "--csv", cwd=repo).stdout.splitlines()
    assert exported[0].startswith("id,application_name,") and len(exported) == 3
    assert "'=cmd" in exported[1] + exported[2]  # not a formula in a spreadsheet


def test_prices_refresh_from_a_litellm_file_and_the_users_own_price(
    repo: Path, isolated_home: Path
) -> None:
    source = Path(__file__).resolve().parents[1] / "helpers" / "litellm_prices.json"
    refreshed = cli_json("prices", "refresh", str(source), cwd=repo)
    assert refreshed["models"] == 22  # Anthropic's only (gpt-4o is left out)
    shown = cli_json("prices", "show", cwd=repo)
    assert shown["models"]["claude-opus-4-5"]["input_cost_per_token"] == 5.0  # $ per million
    cli_json("prices", "set", "claude-future-9", "--input", "1", "--output", "2", cwd=repo)
    shown = cli_json("prices", "show", cwd=repo)
    assert shown["overrides"] == ["claude-future-9"]
    assert shown["models"]["claude-future-9"] == {
        "input_cost_per_token": 1.0,
        "output_cost_per_token": 2.0,
    }
    bad = run_cli("prices", "refresh", str(repo / "missing.json"), cwd=repo)
    assert bad.returncode == 1 and "Cannot read the price list" in bad.stderr
    wrong = run_cli("prices", "refresh", "http://example.invalid/p.json", cwd=repo)
    assert wrong.returncode == 1 and "https://" in wrong.stderr
