"""A FIFO, a link to ``/dev/zero`` or a huge file anywhere in the state folder never hangs or
crashes a hook, the status line or the CLI: the bad file is moved aside and said so (N30 of
redteam-2; N6 and N7 for the MCP server's answer cache are in tests/edges/mcp)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.clirun import cli
from helpers.gitrepo import make_repo
from helpers.hookrun import ROOT, run_hook

#: where claude-session keeps a file, relative to the config folder
LOCATIONS = [
    "claude-session/ledger/zz.json",
    "claude-session/spool/zz.json",
    "claude-session/pending-answers/x.json",
    "claude-session/pending-handoffs/zz.json",
    "claude-session/handoff-cache.json",
    "pause-state.json",
    "remind-state.json",
]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _huge(path: Path) -> None:
    with path.open("wb") as handle:  # sparse: 64 MB of NULs on no disk
        handle.truncate(64 * 1024 * 1024)


KINDS: dict[str, Callable[[Path], None]] = {"fifo": _fifo, "dev-zero": _zero, "huge": _huge}


def plant(config: Path, location: str, kind: str) -> Path:
    path = config / location
    path.parent.mkdir(parents=True, exist_ok=True)
    KINDS[kind](path)
    return path


def still_there(path: Path, kind: str) -> bool:
    """Whether the bad file is still in its place (not moved aside; a fresh file may be)."""
    if kind == "dev-zero":
        return path.is_symlink()
    if kind == "fifo":
        return path.exists() and stat.S_ISFIFO(path.stat().st_mode)
    return path.exists() and path.stat().st_size >= 64 * 1024 * 1024


def statusline(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(ROOT / "server" / "claude_session"), "statusline"],
        input=json.dumps({"session_id": "s1", "cwd": str(repo)}),
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=30,
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("location", LOCATIONS)
def test_a_bad_file_in_the_state_folder_never_hangs_a_hook_or_the_status_line(
    tmp_path: Path, isolated_home: Path, location: str, kind: str
) -> None:
    """N30: SessionStart, UserPromptSubmit, SessionEnd and the status line return, exit 0,
    never give up on their deadline, and the state files they read are moved aside."""
    repo = make_repo(tmp_path / "proj")
    bad = plant(isolated_home, location, kind)
    for event in ("SessionStart", "UserPromptSubmit", "SessionEnd"):
        data = {"session_id": "s1", "cwd": str(repo), "hook_event_name": event}
        out, proc = run_hook(event, data, cwd=repo)
        said = json.dumps(out or {})
        assert "HookDeadline" not in said and "Traceback" not in proc.stderr, said
    line = statusline(repo)
    assert line.returncode == 0 and "Traceback" not in line.stderr, line.stderr
    if location.endswith(("ledger/zz.json", "pause-state.json", "handoff-cache.json")):
        assert not still_there(bad, kind)  # the hooks read these: moved aside
        assert list(bad.parent.glob(f"{bad.name}.corrupt-*"))


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
@pytest.mark.parametrize("location", LOCATIONS)
def test_a_bad_file_in_the_state_folder_never_hangs_the_cli(
    tmp_path: Path, isolated_home: Path, location: str, kind: str
) -> None:
    """N30: ``start``, ``sync`` and ``status`` return and say what was moved aside."""
    repo = make_repo(tmp_path / "proj")
    bad = plant(isolated_home, location, kind)
    told = ""
    for args in (("start", "--session-id", "s1"), ("sync",), ("status",)):
        proc = cli(*args, cwd=repo)
        assert "Traceback" not in proc.stderr, proc.stderr
        told += proc.stdout + proc.stderr
    assert not still_there(bad, kind), told
    assert list(bad.parent.glob(f"{bad.name}.corrupt-*"))
    assert "moved" in told and bad.name in told, told
