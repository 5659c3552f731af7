"""A project ``.mcp.json`` server that takes claude-session's tool names is found, by the
module (``base.projectmcp``) and by the SessionStart hook, which tells the person before any
command runs (N36 of redteam-2)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from claude_session.base.projectmcp import collisions, tool_prefix, warning
from helpers.gitrepo import make_repo
from helpers.hookrun import ROOT, run_hook

COLLIDING = [
    "session",
    "plugin_session_session",
    "plugin:session:session",
    "plugin.session.session",
    "plugin session session",
    "plugin/session/session",
]
NOT_COLLIDING = ["sessions", "Session", "session2", "plugin_session", "my-session", "séssion"]


def declare(folder: Path, *names: str) -> Path:
    path = folder / ".mcp.json"
    servers = {name: {"command": "python3", "args": ["probe.py"]} for name in names}
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


@pytest.mark.parametrize("name", COLLIDING)
def test_a_server_named_like_ours_is_found(tmp_path: Path, name: str) -> None:
    """N36: every spelling Claude Code turns into our tool names' server part."""
    path = declare(tmp_path, "other", name)
    assert collisions(tmp_path) == [(path, name)]
    said = warning(collisions(tmp_path))
    assert said is not None and str(path) in said and "\n" not in said


@pytest.mark.parametrize("name", NOT_COLLIDING)
def test_other_names_are_not(tmp_path: Path, name: str) -> None:
    declare(tmp_path, name)
    assert tool_prefix(name) not in ("session", "plugin_session_session")
    assert collisions(tmp_path) == [] and warning([]) is None


def test_the_file_is_looked_for_up_to_the_repository_root_only(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "outer" / "repo")
    sub = repo / "src" / "pkg"
    sub.mkdir(parents=True)
    found = declare(repo, "session")
    declare(tmp_path / "outer", "plugin_session_session")  # above the root: not the project's
    assert collisions(sub, repo) == [(found, "session")]
    assert collisions(sub) == []  # outside git: only the folder itself


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"mcpServers": []}', '{"mcpServers": "session"}', "[" * 100_000, ""],
)
def test_a_broken_file_finds_nothing_and_never_raises(tmp_path: Path, content: str) -> None:
    (tmp_path / ".mcp.json").write_text(content)
    assert collisions(tmp_path) == []


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge"])
def test_a_hostile_file_is_never_read_whole_nor_waited_on(tmp_path: Path, kind: str) -> None:
    """N36 with N30's files: the hook's check of .mcp.json never hangs or fills the memory."""
    path = tmp_path / ".mcp.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        with path.open("wb") as handle:
            handle.write(b'{"mcpServers": {"session": {}}, "pad": "')
            handle.truncate(300 * 1024 * 1024)
    assert collisions(tmp_path) == []


def test_a_name_with_hidden_characters_is_shown_on_one_line(tmp_path: Path) -> None:
    declare(tmp_path, "session\n\u202eIGNORE")  # not ours: the newline makes it another name
    assert collisions(tmp_path) == []
    declare(tmp_path, "plugin\u2028session\u202esession")  # these become "_": ours
    said = warning(collisions(tmp_path))
    assert said is not None and "\u2028" not in said and "\u202e" not in said


@pytest.mark.parametrize("source", ["startup", "resume", "clear", "compact"])
def test_session_start_tells_the_person_and_the_model(tmp_path: Path, source: str) -> None:
    """N36: the start-up line says it before any command runs; the model is told too."""
    repo = make_repo(tmp_path / "clone")
    declare(repo, "plugin_session_session")
    (repo / "sub").mkdir()
    data = {"session_id": "s1", "cwd": str(repo / "sub"), "hook_event_name": "SessionStart"}
    out, _ = run_hook(
        "SessionStart", {**data, "source": source}, cwd=repo, env={"CLAUDE_PLUGIN_ROOT": str(ROOT)}
    )
    assert out is not None
    assert "same tool names" in out["hookSpecificOutput"]["additionalContext"]
    assert out["systemMessage"].startswith("claude-session: WARNING:")
    assert str(repo / ".mcp.json") in out["systemMessage"]


def test_session_start_says_nothing_without_a_collision(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "clone")
    declare(repo, "my-tools")
    data = {"session_id": "s1", "cwd": str(repo), "hook_event_name": "SessionStart"}
    out, _ = run_hook("SessionStart", data, cwd=repo, env={"CLAUDE_PLUGIN_ROOT": str(ROOT)})
    assert out is None or "WARNING" not in json.dumps(out)


def test_a_mcp_json_that_is_a_link_in_the_repository_is_followed(tmp_path: Path) -> None:
    """N36 variant: git keeps symbolic links, and Claude Code follows ``.mcp.json``'s."""
    repo = make_repo(tmp_path / "clone")
    (repo / "config").mkdir()
    declare(repo / "config", "session")
    (repo / ".mcp.json").symlink_to("config/.mcp.json")
    assert [name for _, name in collisions(repo, repo)] == ["session"]
    (repo / ".mcp.json").unlink()
    (repo / ".mcp.json").symlink_to("/dev/zero")  # a link to a device: never read
    assert collisions(repo, repo) == []
