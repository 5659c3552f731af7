"""Disk full and a read-only home while pausing and ending: a clear error that says what to
do, and the state from before intact. The home is a real 4 MiB tmpfs (remounted read-only for
the second case), so root's ability to ignore file modes does not hide anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_session.base import flow
from claude_session.core.facade import Core
from claude_session.errors import StateError
from helpers.gitrepo import make_repo
from helpers.mounts import fill, remount, tmpfs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "hooks"


@pytest.fixture
def small_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # 4 MiB: room for SQLite's write-ahead logs, small enough to fill in a moment
    with tmpfs(tmp_path / "mnt", size="4m") as mount:
        home = mount / ".claude"
        home.mkdir()
        monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
        yield home


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "shop")


def _snapshot(home: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file()
        and p.name != "filler.bin"
        and not p.name.endswith(".lock")
        and p.parent.name != "logs"
    }  # logs are not state


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "server"))
    return subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _paused_once(repo: Path) -> Core:
    """A paused session; the Core that made it is closed (no file held open for writing,
    or the read-only remount is refused) and a fresh one returned."""
    with Core() as core:
        core.start(repo, session_id="s", no_import=True)
        core.pause(repo, session_id="s", summary="FIRST pause", next_steps=["step one"])
        core.history(limit=1)  # the local tracker database exists before the disk fills
    return Core()


def _release_files() -> None:
    """Close what this process holds open for writing under the home (the outbox keeps its
    SQLite connections per process): a read-only remount is refused while any is open."""
    from claude_session.tracker import outbox

    outbox.close_connections()


def test_pause_on_a_full_disk_fails_clearly_and_keeps_the_previous_pause(
    small_home: Path, repo: Path
) -> None:
    with _paused_once(repo) as core:
        before = _snapshot(small_home)
        filler = fill(small_home.parent)
        with pytest.raises(StateError) as caught:
            core.pause(repo, session_id="s", summary="SECOND pause " + "x" * 20_000)
        assert "disk is full" in str(caught.value) and "Free some space" in str(caught.value)
        assert _snapshot(small_home) == before  # no torn file, no temp file left behind
        cli = _cli("pause", "--summary", "THIRD pause", cwd=repo)
        assert cli.returncode == 1, cli
        assert "disk is full" in cli.stderr + cli.stdout and "Traceback" not in cli.stderr
        assert _snapshot(small_home) == before
        filler.unlink()
        again = core.pause(repo, session_id="s", summary="SECOND pause after freeing space")
        assert "SECOND pause" in Path(again.context_file).read_text()
        resumed = core.resume(repo, session_id="s")
    assert "SECOND pause" in resumed.context


def test_end_on_a_full_disk_fails_clearly_and_a_later_end_records_once(
    small_home: Path, repo: Path
) -> None:
    with _paused_once(repo) as core:
        before = json.loads((small_home / "pause-state.json").read_text())
        filler = fill(small_home.parent)
        with pytest.raises(StateError) as caught:
            core.end(repo, session_id="s", summary="ended on a full disk", push=False)
        assert "disk is full" in str(caught.value) or "full" in str(caught.value).lower()
        assert json.loads((small_home / "pause-state.json").read_text()) == before
        filler.unlink()
        ended = core.end(repo, session_id="s", summary="ended after freeing space", push=False)
        records = [r for r in core.history(limit=10).records if r.claude_session_id == "s"]
    assert ended.tracker == "local"
    # one end record (the pause sent its own, which the end's continues)
    assert [r.id for r in records if r.end_mode != "paused"] == [ended.record.id]
    assert {r.id for r in records if r.end_mode == "paused"} == {ended.record.continues}


def test_pause_in_a_read_only_home_fails_clearly_and_changes_nothing(
    small_home: Path, repo: Path
) -> None:
    _paused_once(repo).close()
    _release_files()
    before = _snapshot(small_home)
    remount(small_home.parent, read_only=True)
    with Core() as core:
        with pytest.raises(StateError) as caught:
            core.pause(repo, session_id="s", summary="SECOND pause")
        message = str(caught.value)
        assert "Read-only file system" in message and "CLAUDE_CONFIG_DIR" in message, message
        cli = _cli("pause", "--summary", "THIRD pause", cwd=repo)
        assert cli.returncode == 1 and "Traceback" not in cli.stderr, cli
        assert "Read-only" in cli.stderr + cli.stdout
        assert _snapshot(small_home) == before
        remount(small_home.parent, read_only=False)
        resumed = core.resume(repo, session_id="s")
    assert "FIRST pause" in resumed.context


def test_hooks_in_a_read_only_home_exit_zero_with_valid_output(
    small_home: Path, repo: Path
) -> None:
    _paused_once(repo).close()
    _release_files()
    remount(small_home.parent, read_only=True)
    for script in sorted(HOOKS.glob("*.py")):
        event = {
            "session_id": "hook-s",
            "cwd": str(repo),
            "transcript_path": "",
            "hook_event_name": script.stem,
            "source": "startup",
            "prompt": "hi",
        }
        done = subprocess.run(
            [sys.executable, str(script)],
            input=json.dumps(event),
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, (script.name, done.stderr)
        if done.stdout.strip():
            json.loads(done.stdout)


def test_status_in_a_read_only_home_still_reports(small_home: Path, repo: Path) -> None:
    _paused_once(repo).close()
    _release_files()
    remount(small_home.parent, read_only=True)
    with Core() as core:
        status = core.status(repo, session_id="s")
    assert status.pause is not None and status.pause.summary == "FIRST pause"


def test_state_file_in_a_read_only_folder_gives_clear_error_and_keeps_old_state(
    small_home: Path,
) -> None:
    """The real read-only case test_statefile skips (root ignores folder modes)."""
    from claude_session.base.statefile import StateFile

    state = StateFile(small_home / "pause-state.json")
    with state.update() as data:
        data["kept"] = True
    before = (small_home / "pause-state.json").read_bytes()
    remount(small_home.parent, read_only=True)
    with pytest.raises(StateError) as caught, state.update() as data:
        data["kept"] = False
    assert "Read-only file system" in str(caught.value)
    assert (small_home / "pause-state.json").read_bytes() == before
    with flow.begin() as current:
        assert state.read()["kept"] is True
    assert not current.warnings
