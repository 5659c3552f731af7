"""Resume (core/resume.py): through ``Core``, in process, on real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_session.core.facade import Core
from helpers.gitrepo import make_remote, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    make_remote(r, tmp_path / "remote.git")
    return r


def test_resume_follows_a_repository_moved_on_disk(repo: Path, tmp_path: Path) -> None:
    with Core() as core:
        core.pause(repo, summary="before the move")
    moved = tmp_path / "moved" / "shop"
    moved.parent.mkdir()
    repo.rename(moved)
    with Core() as core:
        resumed = core.resume(moved)
    assert resumed.status == "ready" and "before the move" in resumed.context
    assert any("moved" in w for w in resumed.warnings)
