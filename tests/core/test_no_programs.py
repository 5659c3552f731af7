"""No git command claude-session runs starts a program the repository's config names (G4 of
redteam-2): the fsmonitor program and the signature checker, set in ``.git/config``, directly
or through an included file, never run through any flow of the CLI, the hooks or the status
line. The flows run for real, in processes, over a real repository with a bare remote."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from helpers.clirun import cli
from helpers.gitrepo import git, make_remote, make_repo
from helpers.hookrun import ROOT, run_hook, statusline


def spy(folder: Path, log: Path, name: str) -> Path:
    """A program that notes each run in ``log``."""
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {name} >> '{log}'\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture(params=["config", "include"])
def armed(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    """A repository whose config names an fsmonitor program and a gpg program (and asks for
    signatures on every log), directly or through ``include.path``; and the spies' log."""
    repo = make_repo(tmp_path / "proj")
    make_remote(repo, tmp_path / "remote.git")
    log = tmp_path / "ran.log"
    settings = {
        "core.fsmonitor": str(spy(tmp_path, log, "fsmonitor")),
        "gpg.program": str(spy(tmp_path, log, "gpg")),
        "log.showSignature": "true",
    }
    if request.param == "include":
        extra = tmp_path / "extra.gitconfig"
        for key, value in settings.items():
            git(tmp_path, "config", "--file", str(extra), key, value)
        git(repo, "config", "include.path", str(extra))
    else:
        for key, value in settings.items():
            git(repo, "config", key, value)
    (repo / "a.txt").write_text("changed\n")
    return repo, log


def ran(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_no_flow_of_the_cli_runs_a_program_of_the_repository(armed: tuple[Path, Path]) -> None:
    """G4: start, status, pause (with a WIP commit), resume, maintenance, end (commit and
    push) run no fsmonitor and no gpg program."""
    repo, log = armed
    flows = [
        ("start", "--session-id", "s1"),
        ("status",),
        ("pause", "--session-id", "s1", "--summary", "half", "--wip-commit"),
        ("resume", "--session-id", "s2"),
        ("maintenance", "--session-id", "s2", "--command", "deps-update", "--status", "ok"),
        ("end", "--session-id", "s2", "--summary", "done", "-m", "Finish"),
    ]
    for args in flows:
        if args[0] == "end":
            (repo / "b.txt").write_text("more\n")
        proc = cli(*args, cwd=repo)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    assert git(repo, "log", "-1", "--format=%s", "--no-show-signature").strip() == "Finish"
    assert ran(log) == []


def test_no_hook_and_no_status_line_runs_a_program_of_the_repository(
    armed: tuple[Path, Path],
) -> None:
    """G4 (held since the hooks' reader, kept): every hook and the status line."""
    repo, log = armed
    env = {"CLAUDE_PLUGIN_ROOT": str(ROOT)}
    for event in ("SessionStart", "UserPromptSubmit", "Stop", "PreCompact", "SessionEnd"):
        data = {"session_id": "h1", "cwd": str(repo), "hook_event_name": event}
        run_hook(event, data, cwd=repo, env=env)
    statusline(repo, "h1")
    assert ran(log) == []
