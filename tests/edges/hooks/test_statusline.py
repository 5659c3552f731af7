"""``claude-session statusline`` run as Claude Code runs its statusLine command: a process fed
the status-line JSON, in real git repositories, with state written by the real hooks, the core's
outbox and the CLI. It prints one short line, or nothing (and exits 0) on its own error."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_session.edges.install import Installer
from claude_session.edges.wiring import statusline_command
from claude_session.paths import Paths
from claude_session.tracker.outbox import Outbox, close_connections
from helpers.gitrepo import commit_file, git, make_repo
from helpers.hookrun import payload, run_hook
from helpers.records import record
from helpers.seen import answer_waiting, pause

ROOT = Path(__file__).resolve().parents[3]
ENTRY = ROOT / "server" / "claude_session" / "__main__.py"


@pytest.fixture(autouse=True)
def _close_outboxes() -> Iterator[None]:
    yield
    close_connections()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def line_input(repo: Path, session_id: str = "sess-1", **extra: Any) -> dict[str, Any]:
    """What Claude Code pipes to a statusLine command (the fields we read, and a few others)."""
    data = {
        "session_id": session_id,
        "transcript_path": str(repo / "t.jsonl"),
        "cwd": str(repo),
        "model": {"id": "claude-x", "display_name": "X"},
        "workspace": {"current_dir": str(repo), "project_dir": str(repo)},
        "version": "2.1.197",
        "cost": {"total_cost_usd": 0.01, "total_duration_ms": 65_000},
    }
    data.update(extra)
    return data


def statusline(
    data: Any, *args: str, cwd: Path, raw: str | None = None, argv: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = argv or [sys.executable, "-I", str(ENTRY), "statusline", *args]
    proc = subprocess.run(
        command,
        input=raw if raw is not None else json.dumps(data),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=30,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "server")),
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def shown(repo: Path, *args: str, **extra: Any) -> str:
    proc = statusline(line_input(repo, **extra), *args, cwd=repo)
    assert proc.stdout.endswith("\n") and proc.stdout.count("\n") == 1, proc.stdout
    return proc.stdout.rstrip("\n")


def test_age_commits_and_dirty_files_of_this_session(repo: Path) -> None:
    run_hook("SessionStart", payload("SessionStart", repo, source="startup"), cwd=repo)
    assert shown(repo) == "session 0 min · 0 commits · 0 dirty"
    commit_file(repo, "a.py", "a = 1\n")
    commit_file(repo, "b.py", "b = 1\n")
    (repo / "c.py").write_text("c = 1\n")
    (repo / "a.py").write_text("a = 2\n")
    git(repo, "mv", "b.py", "d.py")  # a rename is one changed file
    assert shown(repo) == "session 0 min · 2 commits · 3 dirty"


def test_a_new_repositorys_first_commits_are_counted(tmp_path: Path) -> None:
    """newcomer-2 / issue 28: a session begun before the repository's first commit showed no
    commit count at all; now 0 until the first commit, then every commit of the branch."""
    repo = make_repo(tmp_path / "fresh", commit=False)
    run_hook("SessionStart", payload("SessionStart", repo, source="startup"), cwd=repo)
    assert shown(repo) == "session 0 min · 0 commits · 0 dirty"
    commit_file(repo, "a.py", "a = 1\n")
    assert shown(repo) == "session 0 min · 1 commit · 0 dirty"
    commit_file(repo, "b.py", "b = 1\n")
    (repo / "c.py").write_text("c = 1\n")
    assert shown(repo) == "session 0 min · 2 commits · 1 dirty"


def test_without_a_ledger_entry_the_age_is_claude_codes_own(repo: Path) -> None:
    assert shown(repo) == "session 1 min · 0 dirty"  # 65 s: no commits known without a start


def test_outside_git_only_the_age(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    assert shown(folder) == "session 1 min"


def test_a_pause_and_a_waiting_answer_name_their_commands(repo: Path, isolated_home: Path) -> None:
    pause(isolated_home, repo, minutes=150)
    answer_waiting(isolated_home, repo)
    assert shown(repo, "--plugin") == (
        "session 1 min · 0 dirty · paused 2 h ago: /session:resume"
        " · claude.ai answer waiting: /session:start"
    )
    assert "paused 2 h ago: /resume-session · claude.ai answer waiting: /start" in shown(repo)
    pause(isolated_home, repo, resumed_by="sess-1")
    assert "paused" not in shown(repo)


def test_a_reminder_that_is_due_shows_until_the_work_is_saved(
    repo: Path, isolated_home: Path
) -> None:
    (isolated_home / "remind-state.json").write_text(
        json.dumps(
            {
                "version": 1,
                "default": {},
                "projects": {str(repo): {"enabled": True, "every_minutes": 30, "dirty_files": 2}},
                "last_reminded": {str(repo): "2999-01-01T00:00:00+00:00"},
            }
        )
    )  # the model was told
    (repo / "a").write_text("a")
    assert "time to" not in shown(repo)
    (repo / "b").write_text("b")
    assert shown(repo, "--plugin").endswith("2 dirty · time to /session:pause or commit")
    git(repo, "add", "a", "b")
    git(repo, "commit", "-qm", "saved")
    assert "time to" not in shown(repo)


def test_records_for_the_tracker_outbox_and_spool(repo: Path, isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    outbox = Outbox(paths.outbox_db)
    outbox.put(record())
    [entry] = outbox.claim(1)
    outbox.mark_rejected(entry, error="422", field="summary")
    outbox.put(record())
    paths.spool.mkdir(parents=True)
    (paths.spool / "r1.json").write_text("{}")
    assert shown(repo).endswith(" · 3 records for the tracker (1 refused)")


def test_the_outbox_is_read_without_writing_or_waiting_for_a_writer(
    repo: Path, isolated_home: Path
) -> None:
    paths = Paths(isolated_home)
    Outbox(paths.outbox_db).put(record())
    close_connections()  # the last connection checkpoints: no -wal, no -shm left
    before = sorted(p.name for p in paths.data.iterdir())
    stamp = paths.outbox_db.stat().st_mtime_ns
    assert shown(repo).endswith("1 record for the tracker")
    assert sorted(p.name for p in paths.data.iterdir()) == before
    assert paths.outbox_db.stat().st_mtime_ns == stamp
    writer = sqlite3.connect(paths.outbox_db, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # a drain holds the write lock
        writer.execute("DELETE FROM records")
        assert shown(repo).endswith("1 record for the tracker")  # WAL: readers go on
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[1, 2]",
        "\x00\xff",
        '{"cwd": 5}',
        '{"session_id": "../../etc/passwd", "cwd": "/nonexistent"}',
    ],
)
def test_bad_input_never_fails_the_line(raw: str, repo: Path) -> None:
    proc = statusline(None, cwd=repo, raw=raw)
    assert "Traceback" not in proc.stderr


def test_its_own_error_prints_nothing_and_is_logged(repo: Path, isolated_home: Path) -> None:
    proc = statusline(None, cwd=repo, raw="not json")
    assert proc.stdout == ""
    log = (isolated_home / "claude-session" / "logs" / "statusline.log").read_text()
    assert "JSONDecodeError" in log


def test_broken_state_files_read_as_nothing_and_stay_where_they_are(
    repo: Path, isolated_home: Path
) -> None:
    for name in ("pause-state.json", "remind-state.json"):
        (isolated_home / name).write_text("{broken")
    fifo = isolated_home / "claude-session" / "handoff-cache.json"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)  # would block a plain open()
    assert shown(repo) == "session 1 min · 0 dirty"
    assert (isolated_home / "pause-state.json").read_text() == "{broken"


PROBE = """
import io, json, sys
sys.argv = ["x"]
sys.stdin = io.TextIOWrapper(io.BytesIO(json.dumps({"cwd": sys.argv[0]}).encode()))
{call}
heavy = [m for m in ("pydantic", "httpx", "mcp", "sqlite3", "claude_session.core.facade",
                     "claude_session.models", "claude_session.base.statefile", "subprocess")
         if m in sys.modules]
print(json.dumps(heavy), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "call",
    [
        "from claude_session.edges.hooks.statusline import main; main([])",
        "from claude_session.edges.cli import main; main(['statusline'])",  # the console script
    ],
)
def test_no_heavy_import_on_the_way_to_the_line(call: str, tmp_path: Path) -> None:
    folder = tmp_path / "plain"  # outside git, no outbox: nothing needs git or sqlite3
    folder.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.replace("{call}", call)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=30,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "server")),
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []


def test_the_console_verb_prints_the_same_line(repo: Path) -> None:
    data = line_input(repo)
    direct = statusline(data, cwd=repo).stdout
    console = statusline(
        data, cwd=repo, argv=[sys.executable, "-m", "claude_session.edges.cli", "statusline"]
    )
    assert console.stdout == direct != ""


def test_the_installed_command_runs_as_claude_code_runs_it(repo: Path, isolated_home: Path) -> None:
    Installer(Paths(isolated_home)).install_statusline(plugin=True)
    settings = json.loads((isolated_home / "settings.json").read_text())
    assert settings["statusLine"]["command"] == statusline_command(plugin=True)
    proc = subprocess.run(
        settings["statusLine"]["command"],
        shell=True,
        cwd=repo,
        text=True,
        input=json.dumps(line_input(repo)),
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == 0 and proc.stdout == "session 1 min · 0 dirty\n", proc
    assert shlex.split(settings["statusLine"]["command"])[1] == "-I"  # nothing from the project


def test_the_status_line_imports_only_what_it_needs(repo: Path) -> None:
    """It runs after every message: the modules that cost a start milliseconds and that it has
    no use for stay out (git's count needs subprocess, and with it threading)."""
    proc = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", str(ENTRY), "statusline", "--plugin"],
        input=json.dumps(line_input(repo)),
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=30,
    )
    assert proc.returncode == 0 and "session" in proc.stdout, proc.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "claude_session.edges.hooks.statusline" in imported
    slow = {"typing", "dataclasses", "inspect", "ast", "logging", "asyncio", "pydantic", "git"}
    assert sorted(imported & slow) == []


def test_a_failure_on_every_render_is_logged_once(repo: Path, isolated_home: Path) -> None:
    """redteam-2 notes on N10: a status line failing on each render appended a line each
    time. The same failure is logged once; another failure is logged again."""
    for _ in range(5):
        statusline(None, cwd=repo, raw="not json")
    log = isolated_home / "claude-session" / "logs" / "statusline.log"
    assert log.read_text().count("JSONDecodeError") == 1
    statusline(None, cwd=repo, raw="{")  # another JSONDecodeError message
    statusline(None, cwd=repo, raw="not json")
    assert len(log.read_text().splitlines()) == 3


@pytest.mark.parametrize("every", [10**18, 1e300, 10**38, -5, "30", None, [1], 2**70], ids=repr)
def test_an_absurd_stored_reminder_never_blanks_the_line(
    repo: Path, isolated_home: Path, every: object
) -> None:
    """N10: a hand-edited ``every_minutes`` past what ``timedelta`` holds (or of a wrong
    type) still shows the line, and logs nothing."""
    (repo / "dirty.txt").write_text("x\n")
    (isolated_home / "remind-state.json").write_text(
        json.dumps(
            {
                "version": 1,
                "projects": {
                    str(repo): {"enabled": True, "every_minutes": every, "dirty_files": 10**30}
                },
            }
        )
    )
    line = shown(repo)
    assert "1 dirty" in line, line
    assert not (isolated_home / "claude-session" / "logs" / "statusline.log").exists()
