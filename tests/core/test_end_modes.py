"""Our folders are 0700 and our files 0600, logs included; lock and log files are never opened
through a symbolic link (redteam S3, S8). ``~/.claude`` itself keeps the mode it was made with."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_session.base.statefile import append_log, file_lock
from claude_session.paths import ensure_dir
from helpers.gitrepo import commit_file, make_repo
from helpers.hookrun import hook_argv

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "hooks"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask: what made ``~/.claude`` 0755 before (S8). Children inherit it."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_022: None) -> Path:
    """A HOME without ``.claude``: claude-session makes every folder it needs."""
    home = tmp_path / "fresh-home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    return home


def cli(*args: str, cwd: Path, code: int = 0) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "server"))
    proc = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args, "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == code, proc.stderr + proc.stdout
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def hook(event: str, stdin: str, *, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        hook_argv(event),
        input=stdin,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def modes_under(top: Path) -> dict[str, str]:
    """``find top -printf '%m %p'``: the octal mode of every folder and file under ``top``."""
    found = {}
    for base, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(base, name)
            found[str(path.relative_to(top))] = oct(path.lstat().st_mode & 0o777)
    return found


def test_S8_every_folder_0700_and_file_0600_after_start_pause_end_and_a_hook_failure(
    fresh_home: Path, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    cli("start", cwd=repo)
    cli("remind", "on", cwd=repo)
    commit_file(repo, "a.txt", "a\n")
    cli("pause", "--summary", "half done", cwd=repo)
    cli("start", cwd=repo)
    cli("end", "--summary", "done", "--no-push", cwd=repo)
    hook("SessionStart", json.dumps({"session_id": "h1", "cwd": str(repo)}), cwd=repo)
    hook("Stop", "{not json", cwd=repo)  # a hook failure: logged to logs/hooks.log

    claude = fresh_home / ".claude"
    assert (claude / "claude-session" / "logs" / "hooks.log").is_file()
    assert (claude / "claude-session" / "logs" / "claude-session.log").is_file()
    assert any((claude / "claude-session" / "ledger").iterdir())
    modes = modes_under(fresh_home)
    wrong = {}
    for name, mode in modes.items():
        path = fresh_home / name
        if path.is_symlink():
            wrong[name] = f"symlink {mode}"
        elif path.is_dir() and mode != "0o700" or path.is_file() and mode != "0o600":
            wrong[name] = mode
    assert not wrong, f"not owner-only: {wrong} (all: {modes})"


def test_S8_an_existing_claude_folder_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    claude = tmp_path / "home" / ".claude"  # made 0755 by the conftest, as Claude Code would
    os.chmod(claude, 0o755)
    ensure_dir(claude / "claude-session" / "logs")
    assert stat.S_IMODE(claude.stat().st_mode) == 0o755
    assert stat.S_IMODE((claude / "claude-session").stat().st_mode) == 0o700
    assert stat.S_IMODE((claude / "claude-session" / "logs").stat().st_mode) == 0o700


def test_S8_ensure_dir_makes_every_missing_parent_0700_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o222)  # would leave a folder read-only (0500): ours stay usable
    try:
        ensure_dir(tmp_path / "a" / "b" / "c")
    finally:
        os.umask(old)
    for folder in ("a", "a/b", "a/b/c"):
        assert stat.S_IMODE((tmp_path / folder).stat().st_mode) == 0o700, folder


def test_S8_an_old_world_readable_log_becomes_0600(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "hooks.log"
    log.parent.mkdir()
    log.write_text("old line\n")
    os.chmod(log, 0o644)
    append_log(log, "t1", "new line")
    assert log.read_text() == "old line\nt1 new line\n"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_S3_a_symlinked_lock_file_creates_nothing_at_its_target(
    isolated_home: Path, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    target = tmp_path / "outside" / "lock-created"
    target.parent.mkdir()
    lock = isolated_home / ".pause-state.json.lock"
    lock.symlink_to(target)
    cli("start", cwd=repo)
    cli("pause", "--summary", "s", cwd=repo)
    assert not target.exists(), "the lock followed the link and created a file outside"
    assert lock.is_file() and not lock.is_symlink()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    assert list(isolated_home.glob(".pause-state.json.lock.corrupt-*"))  # the link, kept aside


def test_S3_file_lock_moves_a_link_aside_and_still_locks(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    os.chmod(victim, 0o644)
    state = tmp_path / "state" / "x.json"
    state.parent.mkdir()
    lock = state.parent / ".x.json.lock"
    lock.symlink_to(victim)
    with file_lock(state):
        assert lock.is_file() and not lock.is_symlink()
    assert victim.read_text() == "precious\n"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644  # not chmod-ed through the link


def test_S3_hook_failures_are_never_appended_through_a_symlinked_log(
    isolated_home: Path, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    logs = isolated_home / "claude-session" / "logs"
    logs.mkdir(parents=True)
    target = tmp_path / "symtarget-hookslog"
    target.write_text("not yours\n")
    (logs / "hooks.log").symlink_to(target)
    hook("Stop", "{not json", cwd=repo)
    assert target.read_text() == "not yours\n"
    real = logs / "hooks.log"
    assert real.is_file() and not real.is_symlink()
    assert "Stop" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_S3_a_fifo_as_the_hooks_log_does_not_block_the_hook(
    isolated_home: Path, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    logs = isolated_home / "claude-session" / "logs"
    logs.mkdir(parents=True)
    os.mkfifo(logs / "hooks.log")
    hook("Stop", "{not json", cwd=repo)  # within the 30 s timeout, exit 0
    assert (logs / "hooks.log").is_file()


def test_S3_the_cli_log_is_not_written_through_a_symlink(
    isolated_home: Path, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    logs = isolated_home / "claude-session" / "logs"
    logs.mkdir(parents=True)
    target = tmp_path / "symtarget-cli-log"
    target.write_text("")
    os.chmod(target, 0o644)
    (logs / "claude-session.log").symlink_to(target)
    cli("start", cwd=repo)
    cli("end", "--summary", "s", "--no-push", cwd=repo)
    assert target.read_text() == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    real = logs / "claude-session.log"
    assert real.is_file() and not real.is_symlink()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
