"""WIP commits (newcomer-2 2.8, 2.10): the pause's context says the tree as it is after the WIP
commit, and end squashes unpushed WIP commits into the end commit (never pushed ones). In
process, real git, a real bare remote."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_session.base.context import parse
from claude_session.core.facade import Core
from claude_session.errors import GitError
from helpers.gitrepo import commit_file, git, make_remote, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    make_remote(r, tmp_path / "remote.git")
    return r


def _subjects(repo: Path, rev: str = "HEAD") -> list[str]:
    return git(repo, "log", "--format=%s", rev).splitlines()


def test_the_wip_context_and_transfer_prompt_do_not_call_committed_files_uncommitted(
    repo: Path,
) -> None:
    (repo / "app.py").write_text("x = 1\n")
    (repo / "README.md").write_text("changed\n")
    with Core() as core:
        core.start(repo, session_id="s")
        paused = core.pause(
            repo, session_id="s", summary="greet on main", wip_commit=True, handoff=True
        )
    assert git(repo, "status", "--porcelain") == ""
    ctx = parse(Path(paused.context_file).read_text())
    assert ctx.dirty_files == [] and ctx.untracked_files == []
    assert ctx.head == paused.wip_commit
    assert ctx.commits == [f"{(paused.wip_commit or '')[:7]} WIP: greet on main"]
    assert sorted(ctx.files_changed) == ["README.md", "app.py"]
    assert "squashes it into the end commit" in ctx.notes
    assert paused.transfer_prompt and "uncommitted" not in paused.transfer_prompt.lower()


def test_end_squashes_the_unpushed_wip_commit_into_the_end_commit(
    repo: Path, tmp_path: Path
) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        (repo / "app.py").write_text("half\n")
        paused = core.pause(repo, session_id="s", summary="midway", wip_commit=True)
        core.resume(repo, session_id="s")
        (repo / "app.py").write_text("whole\n")
        (repo / "test_app.py").write_text("ok\n")
        ended = core.end(repo, session_id="s", summary="done", message="Add the app")
    assert ended.squashed_wip == [paused.wip_commit]
    assert _subjects(repo) == ["Add the app", "initial"]
    assert _subjects(tmp_path / "remote.git", "main") == ["Add the app", "initial"]
    assert ended.record.commits_count == 1
    assert sorted(ended.record.files_changed) == ["app.py", "test_app.py"]
    assert not any("WIP" in w for w in ended.warnings)


def test_a_later_session_squashes_the_wip_commit_of_the_pause_it_picked_up(repo: Path) -> None:
    """As in Claude Code: one session pauses with a WIP commit, the next starts from it."""
    with Core() as core:
        core.start(repo, session_id="a")
        (repo / "lexer.py").write_text("half\n")
        paused = core.pause(repo, session_id="a", summary="lexer", wip_commit=True)
        started = core.start(repo, session_id="b")  # picks up (and clears) the pause
        assert started.status == "ready"
        ended = core.end(repo, session_id="b", summary="lexer done", message="Lexer")
    assert ended.squashed_wip == [paused.wip_commit]
    assert _subjects(repo) == ["Lexer", "initial"]
    assert ended.record.commits_count == 1 and ended.record.files_changed == ["lexer.py"]


def test_a_wip_commit_already_pushed_is_never_rewritten(repo: Path, tmp_path: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        (repo / "app.py").write_text("half\n")
        paused = core.pause(repo, session_id="s", summary="midway", wip_commit=True)
        git(repo, "push", "-q")
        (repo / "app.py").write_text("whole\n")
        ended = core.end(repo, session_id="s", summary="done", message="Finish")
    assert ended.squashed_wip == []
    assert _subjects(repo) == ["Finish", "WIP: midway", "initial"]
    assert git(repo, "rev-parse", "HEAD~1") == paused.wip_commit
    assert ended.record.commits_count == 2
    said = [w for w in ended.warnings if (paused.wip_commit or "")[:10] in w]
    assert said and "pushed already" in said[0]


def test_keep_wip_keeps_the_wip_commit_and_says_so(repo: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        (repo / "app.py").write_text("half\n")
        core.pause(repo, session_id="s", summary="midway", wip_commit=True)
        (repo / "app.py").write_text("whole\n")
        ended = core.end(repo, session_id="s", summary="done", message="Finish", keep_wip=True)
    assert ended.squashed_wip == []
    assert _subjects(repo) == ["Finish", "WIP: midway", "initial"]
    assert any("kept as made (--keep-wip)" in w for w in ended.warnings)


def test_a_wip_commit_under_a_commit_of_the_persons_own_is_kept(repo: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        (repo / "app.py").write_text("half\n")
        core.pause(repo, session_id="s", summary="midway", wip_commit=True)
        commit_file(repo, "mine.txt", "by hand\n", "My own commit")
        (repo / "app.py").write_text("whole\n")
        ended = core.end(repo, session_id="s", summary="done", message="Finish")
    assert _subjects(repo) == ["Finish", "My own commit", "WIP: midway", "initial"]
    assert ended.squashed_wip == [] and any("stays in the history" in w for w in ended.warnings)


def test_end_on_a_clean_tree_still_replaces_the_wip_commit(repo: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        (repo / "app.py").write_text("all of it\n")
        core.pause(repo, session_id="s", summary="midway", wip_commit=True)
        ended = core.end(repo, session_id="s", summary="done", message="The app")
    assert _subjects(repo) == ["The app", "initial"]
    assert git(repo, "show", "HEAD:app.py") == "all of it"
    assert ended.commit == git(repo, "rev-parse", "HEAD")


def test_the_first_commit_of_a_new_repository_can_be_a_squashed_wip(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "fresh", commit=False)
    with Core() as core:
        core.start(repo, session_id="s")
        (repo / "a.py").write_text("1\n")
        core.pause(repo, session_id="s", summary="first steps", wip_commit=True)
        (repo / "b.py").write_text("2\n")
        ended = core.end(repo, session_id="s", summary="done", message="First", push=False)
    assert _subjects(repo) == ["First"]
    assert ended.record.commits_count == 1
    assert sorted(ended.record.files_changed) == ["a.py", "b.py"]


def test_a_refused_end_commit_puts_the_wip_commit_back(repo: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        (repo / "app.py").write_text("half\n")
        paused = core.pause(repo, session_id="s", summary="midway", wip_commit=True)
        hook = repo / ".git" / "hooks" / "pre-commit"
        hook.write_text("#!/bin/sh\necho 'lint failed' >&2\nexit 1\n")
        hook.chmod(0o755)
        (repo / "app.py").write_text("whole\n")
        with pytest.raises(GitError, match="lint failed"):
            core.end(repo, session_id="s", summary="done", message="Finish")
    assert git(repo, "rev-parse", "HEAD") == paused.wip_commit
    assert (repo / "app.py").read_text() == "whole\n"  # the work is where it was
    assert _subjects(repo) == ["WIP: midway", "initial"]


def test_wip_commit_outside_git_says_it_did_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    with Core() as core:
        paused = core.pause(folder, summary="plain", wip_commit=True)
    assert paused.wip_commit is None
    assert any(w.startswith("--wip-commit did nothing") for w in paused.warnings)
