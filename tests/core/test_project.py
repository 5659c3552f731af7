"""One identity for a folder: a project opened through a symbolic link (a link to the
repository, or a link to a parent as macOS's ``/tmp`` -> ``/private/tmp``) is the same project
to the hooks, the CLI and the MCP server, and so is a folder spelled in other letter case on a
case-insensitive file system. Real links, a real case-insensitive file system (FUSE), real
git, hooks and CLI as processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from claude_session.base.state import ledger
from claude_session.core.project import resolve
from claude_session.edges.mcp.server import build_server
from claude_session.paths import Paths, real_path
from helpers.casefold_fs import mounted
from helpers.gitrepo import make_repo
from helpers.hookrun import hook_argv

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server"


def hook(event: str, cwd: Path, session_id: str, **extra: Any) -> dict[str, Any] | None:
    data = {"session_id": session_id, "cwd": str(cwd), "hook_event_name": event, **extra}
    proc = subprocess.run(
        hook_argv(event, "-I"),
        input=json.dumps(data),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] | None = json.loads(proc.stdout) if proc.stdout.strip() else None
    assert out is None or "failed" not in out.get("systemMessage", ""), out
    return out


def cli(*args: str, where: Path) -> str:
    """The CLI with ``-C where`` and, as a shell in a linked folder would, that folder as
    ``PWD`` (the process's own working folder is always the real one)."""
    proc = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "-C", str(where), *args],
        env={**os.environ, "PYTHONPATH": str(SERVER), "PWD": str(where)},
        cwd=where,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def pause_note(cwd: Path, session_id: str) -> str:
    out = hook("SessionStart", cwd, session_id, source="startup")
    return out["hookSpecificOutput"]["additionalContext"] if out else ""


def real_root(opened: tuple[Path, Path]) -> Path:
    return opened[0].parent if opened[0].name == "src" else opened[0]


def resumed_by(home: Path) -> dict[str, str]:
    """Each pause entry's key and the session that resumed it: one entry, under one name."""
    projects = json.loads((home / "pause-state.json").read_text())["projects"]
    return {key: entry.get("resumed_by") for key, entry in projects.items()}


@pytest.fixture(params=["link-to-repo", "link-to-parent", "subfolder-through-link"])
def opened(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    """(the repository's real path, the path it is opened through)."""
    repo = make_repo(tmp_path / "real" / "work" / "proj")
    (repo / "src").mkdir()
    if request.param == "link-to-repo":
        (tmp_path / "code").mkdir()
        (tmp_path / "code" / "proj").symlink_to(repo)
        return repo, tmp_path / "code" / "proj"
    (tmp_path / "tmp").symlink_to(tmp_path / "real")  # macOS: /tmp -> /private/tmp
    if request.param == "link-to-parent":
        return repo, tmp_path / "tmp" / "work" / "proj"
    return repo / "src", tmp_path / "tmp" / "work" / "proj" / "src"


def test_the_link_and_the_real_path_have_one_name(opened: tuple[Path, Path]) -> None:
    real, linked = opened
    assert linked.resolve() == real and str(linked) != str(real)
    assert real_path(linked) == real_path(real) == str(real)
    assert resolve(linked).key == resolve(real).key
    assert resolve(linked).root == resolve(real).root


def test_a_pause_through_the_real_path_is_seen_through_the_link(
    opened: tuple[Path, Path], isolated_home: Path
) -> None:
    real, linked = opened
    cli("start", "--session-id", "s1", where=real)
    cli("pause", "--session-id", "s1", "--summary", "Half way through the parser", where=real)
    note = pause_note(linked, "s2")
    assert "was paused just now" in note and "Half way through the parser" in note
    status = cli("status", where=linked)
    assert "Paused: on main" in status
    resumed = cli("resume", "--session-id", "s2", where=linked)
    assert "Half way through the parser" in resumed
    assert resumed_by(isolated_home) == {real_path(real_root(opened)): "s2"}


def test_a_pause_through_the_link_is_seen_through_the_real_path(
    opened: tuple[Path, Path], isolated_home: Path
) -> None:
    real, linked = opened
    hook("SessionStart", linked, "s1", source="startup")  # the hook opens the session
    cli("pause", "--session-id", "s1", "--summary", "Tokenizer next", where=linked)
    assert "Tokenizer next" in pause_note(real, "s2")
    assert "Paused: on main" in cli("status", where=real)
    entry = ledger.get(Paths(isolated_home), "s1")
    assert entry is not None and entry["project_root"] == real_path(real_root(opened))
    assert "Tokenizer next" in cli("resume", "--session-id", "s2", where=real)
    assert resumed_by(isolated_home) == {real_path(real_root(opened)): "s2"}


def test_a_session_the_hook_opened_through_a_link_ends_through_the_real_path(
    opened: tuple[Path, Path], isolated_home: Path
) -> None:
    real, linked = opened
    hook("SessionStart", linked, "s1", source="startup")
    (real / "notes.txt").write_text("x\n")
    cli("end", "--session-id", "s1", "--summary", "Done", "--no-push", where=real)
    entry = ledger.get(Paths(isolated_home), "s1")
    assert entry is not None and entry["status"] != "active"
    hook("SessionStart", linked, "s2", source="startup")  # nothing left to finalize twice
    assert len(list(Paths(isolated_home).ledger.glob("*.json"))) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_mcp_server_sees_one_project_through_the_link(
    opened: tuple[Path, Path],
    isolated_home: Path,
    anyio_backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real, linked = opened
    async with Client(build_server()) as client:
        paused = await client.call_tool(
            "pause_session",
            {"cwd": str(linked), "session_id": "m1", "summary": "Paused by the MCP server"},
        )
        assert not paused.is_error, paused.content
    assert "Paused by the MCP server" in pause_note(real, "h1")
    assert "Paused: on main" in cli("status", where=real)
    monkeypatch.setenv("CLAUDE_PROJECT_DIR", str(linked))  # what Claude Code gives the server
    async with Client(build_server()) as client:
        status = await client.call_tool("session_status", {})
        assert not status.is_error, status.content
    found = status.structured_content
    assert found is not None and found["project_root"] == real_path(real_root(opened))
    assert found["pause"]["summary"] == "Paused by the MCP server"


def test_a_plain_folder_through_a_link_is_one_project(tmp_path: Path, isolated_home: Path) -> None:
    folder = tmp_path / "real" / "notes"
    folder.mkdir(parents=True)
    (tmp_path / "tmp").symlink_to(tmp_path / "real")
    linked = tmp_path / "tmp" / "notes"
    assert resolve(linked).key == resolve(folder).key == str(folder)
    hook("SessionStart", linked, "p1", source="startup")
    entry = ledger.get(Paths(isolated_home), "p1")
    assert entry is not None and entry["project_root"] == str(folder)


def test_real_path_keeps_what_only_looks_alike(tmp_path: Path) -> None:
    """On a case-sensitive file system 'App' and 'app' are two folders, and a missing path
    keeps its spelling."""
    (tmp_path / "App").mkdir()
    (tmp_path / "app").mkdir()
    assert real_path(tmp_path / "App") == str(tmp_path / "App")
    assert real_path(tmp_path / "app") == str(tmp_path / "app")
    assert real_path(tmp_path / "Missing" / "x") == str(tmp_path / "Missing" / "x")
    (tmp_path / "chain").symlink_to("App")
    (tmp_path / "chain2").symlink_to(tmp_path / "chain")
    assert real_path(tmp_path / "chain2") == str(tmp_path / "App")


# --- a case-insensitive file system ----------------------------------------------------------


@pytest.fixture
def case_insensitive(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(a repository as made, the same repository spelled in other letter case) on a real
    case-insensitive file system (FUSE: see helpers.casefold_fs)."""
    with mounted(tmp_path / "mnt") as disk:
        repo = make_repo(disk / "Code" / "MyApp")
        yield repo, disk / "code" / "myapp"


def test_a_folder_spelled_in_other_case_has_one_name(case_insensitive: tuple[Path, Path]) -> None:
    made, other = case_insensitive
    assert os.path.samefile(made, other) and os.path.realpath(other) == str(other)
    assert real_path(other) == real_path(made) == str(made)
    assert resolve(other).key == resolve(made).key == str(made)
    assert resolve(other).name == "MyApp"


def test_pause_and_resume_in_other_letter_case_are_one_project(
    case_insensitive: tuple[Path, Path], isolated_home: Path
) -> None:
    made, other = case_insensitive
    hook("SessionStart", other, "s1", source="startup")
    cli("pause", "--session-id", "s1", "--summary", "Spelled otherwise", where=other)
    assert "Spelled otherwise" in pause_note(made, "s2")
    assert "Paused: on main" in cli("status", where=made)
    assert "Spelled otherwise" in cli("resume", "--session-id", "s2", where=made)
    assert resumed_by(isolated_home) == {str(made): "s2"}
    entry = ledger.get(Paths(isolated_home), "s1")
    assert entry is not None and entry["project_root"] == str(made)
