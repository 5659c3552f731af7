"""``paths.py``'s names under attack: project and branch names built to escape folders, break
lines or pass as options stay one plain path component, inside the home, through real flows."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_session.base.context import context_file_name
from claude_session.core.facade import Core
from claude_session.paths import safe_name
from claude_session.vault.base import base_title
from helpers.gitrepo import git, make_repo

SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
HOSTILE_NAMES = [
    "../../etc",
    "a/b/c",
    "line\nbreak",
    "-rf",
    "--help",
    "naïve-ünïcode",
    "项目",
    "..",
    ".",
    "",
    "   ",
    "-",
    "CON",
    "a" * 300,
    "x\u0000y",
    "tab\there",
    "emoji-🚀",
]


@settings(max_examples=500, deadline=None)
@given(st.text() | st.sampled_from(HOSTILE_NAMES))
def test_safe_names_are_one_plain_path_component(text: str) -> None:
    name = safe_name(text)
    assert SAFE.match(name) and name not in (".", ".."), (text, name)
    file_name = context_file_name(text, "pause", datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert "/" not in file_name and "\n" not in file_name and not file_name.startswith(("-", "."))
    assert Path(file_name).name == file_name
    title = base_title(text, datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert re.fullmatch(r"session-[A-Za-z0-9][A-Za-z0-9._-]*-2025-01-01", title), title


@pytest.mark.parametrize(
    "folder",
    [
        "--help",
        "-rf",
        "line\nbreak",
        "naïve ünïcode",
        "项目",
        "$(touch PWNED)",
        "a'b\"c",
        "..hidden",
    ],
)
def test_hostile_project_folders_stay_inside_the_home(
    folder: str, tmp_path: Path, isolated_home: Path
) -> None:
    repo = make_repo(tmp_path / "projects" / folder)
    with Core() as core:
        core.start(repo, session_id="s", no_import=True)
        paused = core.pause(repo, session_id="s", summary="hostile folder", handoff=True)
        resumed = core.resume(repo, session_id="s")
        ended = core.end(repo, session_id="s", summary="done", push=False, mode="handoff")
        items = core.vault.list_items()
    for path in (paused.context_file, ended.context_file):
        assert Path(path or "").parent == isolated_home / "contexts"
        assert SAFE.match(Path(path or "").name)
    assert resumed.status == "ready" and "hostile folder" in resumed.context
    assert items and all(re.fullmatch(r"session-[A-Za-z0-9._-]+", i.title) for i in items)
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()
    for path in isolated_home.rglob("*"):
        assert isolated_home in path.resolve().parents or path.resolve() == isolated_home


@pytest.mark.parametrize(
    "branch",
    [
        "feature/deep/name",
        "ünï-côdé",
        "with'quote",
        "$(touch-PWNED)",
        "semi;colon",
        "`id`",
        "x--force",
    ],
)
def test_odd_branch_names_round_trip_through_pause_and_resume(branch: str, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    git(repo, "checkout", "-q", "-b", branch)
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary="odd branch")
        git(repo, "checkout", "-q", "main")
        switched = core.resume(repo, session_id="s", on_mismatch="switch")
    assert paused.branch == branch and switched.status == "ready"
    assert git(repo, "branch", "--show-current") == branch
    assert not list(tmp_path.rglob("PWNED"))
