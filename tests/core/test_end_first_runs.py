"""End on a newcomer's first run (newcomer-2 1.2): a machine where git does not know who
commits, and a repository whose first commit the session makes. In process, real git."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_session.core.facade import Core
from claude_session.errors import GitError
from helpers.gitrepo import commit_file, git, make_repo


@pytest.fixture
def anonymous(monkeypatch: pytest.MonkeyPatch) -> None:
    """git with no name or email anywhere, and no guessing one from the host name (which
    succeeds on some machines): as on a fresh HOME."""
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{name}_NAME", raising=False)
        monkeypatch.delenv(f"GIT_{name}_EMAIL", raising=False)
    monkeypatch.delenv("EMAIL", raising=False)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.useConfigOnly")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "true")


def test_end_without_a_git_identity_says_what_to_set_and_stages_nothing(
    tmp_path: Path, anonymous: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "app", commit=False)
    (repo / "README.md").write_text("hello\n")
    with Core() as core:
        core.start(repo, session_id="s")
        with pytest.raises(GitError) as refused:
            core.end(repo, session_id="s", summary="first", message="First commit", push=False)
        message = str(refused.value)
        lines = message.splitlines()
        assert lines[0].startswith("Nothing was committed (nothing was staged either)")
        assert "  Author identity unknown" in lines  # git's own words, on their own lines
        assert '    git config --global user.email "you@example.com"' in lines
        assert '    git config --global user.name "Your Name"' in lines
        assert lines[-1] == "Set both as it shows, then run this again."
        assert git(repo, "status", "--porcelain") == "?? README.md"  # not left staged
        assert core.history().records == []  # nothing recorded: end can run again
        monkeypatch.setenv("GIT_CONFIG_COUNT", "3")
        monkeypatch.setenv("GIT_CONFIG_KEY_1", "user.name")
        monkeypatch.setenv("GIT_CONFIG_VALUE_1", "New Person")
        monkeypatch.setenv("GIT_CONFIG_KEY_2", "user.email")
        monkeypatch.setenv("GIT_CONFIG_VALUE_2", "new@example.com")
        ended = core.end(repo, session_id="s", summary="first", message="First commit", push=False)
    assert ended.commit and git(repo, "log", "-1", "--format=%an %s") == "New Person First commit"


def test_a_wip_commit_without_a_git_identity_leaves_the_pause_and_the_tree_as_they_were(
    tmp_path: Path, anonymous: None
) -> None:
    repo = tmp_path / "app"
    make_repo(repo, commit=False)
    (repo / "notes.txt").write_text("half\n")
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary="lunch", wip_commit=True)
    assert paused.wip_commit is None
    assert any("No WIP commit" in w and "Author identity unknown" in w for w in paused.warnings)
    assert git(repo, "status", "--porcelain") == "?? notes.txt"
    assert Path(paused.context_file).exists()


def test_the_first_commit_of_a_new_repository_is_the_sessions(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", commit=False)
    (repo / "README.md").write_text("hello\n")
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("x = 1\n")
    with Core() as core:
        core.start(repo, session_id="s")
        ended = core.end(repo, session_id="s", summary="first", message="First", push=False)
    assert ended.record.commits_count == 1
    assert sorted(ended.record.files_changed) == ["README.md", "src/app.py"]


def test_commits_made_by_hand_in_a_new_repository_count_from_the_first(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", commit=False)
    with Core() as core:
        core.start(repo, session_id="s")
        commit_file(repo, "one.txt", "1\n")  # the person commits by hand
        commit_file(repo, "two.txt", "2\n")
        core.status(repo, session_id="s")  # a flow that touches the entry must not move the start
        ended = core.end(repo, session_id="s", summary="done", push=False)
    assert ended.record.commits_count == 2
    assert sorted(ended.record.files_changed) == ["one.txt", "two.txt"]
