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


def test_resume_with_its_context_file_gone_goes_on_from_the_pause_entry(repo: Path) -> None:
    """SPEC section 3: a missing context file is no reason to refuse."""
    with Core() as core:
        paused = core.pause(
            repo,
            session_id="a",
            summary="Tokenizer half done",
            next_steps=["escape the lexer"],
            note="watch the unicode cases",
        )
        Path(paused.context_file).unlink()
        resumed = core.resume(repo, session_id="b")
    assert resumed.status == "ready"
    assert "Tokenizer half done" in resumed.context and "watch the unicode" in resumed.context
    assert f"The context file {paused.context_file} is missing" in resumed.context
    said = [w for w in resumed.warnings if paused.context_file in w]
    assert len(said) == 1 and "next steps, accomplishments and working state" in said[0]
    assert "--on-mismatch stay" not in said[0]  # no outdated advice


def test_start_with_the_paused_context_file_gone_also_goes_on_from_the_entry(repo: Path) -> None:
    with Core() as core:
        paused = core.pause(repo, session_id="a", summary="Parser half done")
        Path(paused.context_file).unlink()
        started = core.start(repo, session_id="b")
    assert started.status == "ready" and "Parser half done" in started.context
    assert any(paused.context_file in w for w in started.warnings)
