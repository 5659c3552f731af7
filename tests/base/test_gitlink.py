"""A ``.git`` that is a symbolic link keys the project as git and the CLI do, following the
link only to a git folder of this same user (N32 of redteam-2)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from claude_session.base import gitread
from helpers.clirun import cli
from helpers.gitrepo import make_repo
from helpers.hookrun import ROOT, run_hook


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A repository whose ``.git`` is a link to its git folder kept beside it."""
    repo = make_repo(tmp_path / "gl")
    os.rename(repo / ".git", tmp_path / "gl-gitdir")
    (repo / ".git").symlink_to(tmp_path / "gl-gitdir")
    (repo / "sub").mkdir()
    return repo


def test_the_hooks_reader_finds_the_root_and_branch_through_the_link(linked: Path) -> None:
    head = gitread.git_head(linked / "sub")
    assert head is not None and head[0] == linked and head[1] == "main" and head[2]


def test_a_pause_made_by_the_cli_is_told_by_the_hook_in_a_subfolder(linked: Path) -> None:
    """N32: the CLI and the hooks key the project alike (the root), so the pause is told."""
    assert cli("start", "--session-id", "a", cwd=linked / "sub").returncode == 0
    paused = cli("pause", "--session-id", "a", "--summary", "Half way", cwd=linked / "sub")
    assert paused.returncode == 0, paused.stderr
    data = {"session_id": "b", "cwd": str(linked / "sub"), "hook_event_name": "SessionStart"}
    out, _ = run_hook("SessionStart", data, cwd=linked, env={"CLAUDE_PLUGIN_ROOT": str(ROOT)})
    assert out is not None and "Half way" in json.dumps(out)


@pytest.mark.parametrize("target", ["a folder without HEAD", "/dev/zero", "a file", "missing"])
def test_a_link_to_anything_but_a_git_folder_is_not_followed(tmp_path: Path, target: str) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    if target == "a folder without HEAD":
        (tmp_path / "plain").mkdir()
        (repo / ".git").symlink_to(tmp_path / "plain")
    elif target == "a file":
        (tmp_path / "f").write_text("gitdir: /etc\n")
        (repo / ".git").symlink_to(tmp_path / "f")
    elif target == "missing":
        (repo / ".git").symlink_to(tmp_path / "nowhere")
    else:
        (repo / ".git").symlink_to(target)
    assert gitread.find_git(repo) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand a folder to another user")
def test_a_link_to_another_users_git_folder_is_not_followed(linked: Path, tmp_path: Path) -> None:
    gitdir = tmp_path / "gl-gitdir"
    for folder, _, files in os.walk(gitdir):
        shutil.chown(folder, user="nobody")
        for name in files:
            shutil.chown(os.path.join(folder, name), user="nobody")
    assert gitread.git_head(linked / "sub") is None
