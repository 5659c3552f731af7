"""``base/gitread.py``: the safe git reader; here its one ``git status`` parser."""

from __future__ import annotations

import os
from pathlib import Path

from claude_session.base import gitread
from helpers.gitrepo import commit_file, git, make_repo


def test_status_reads_changes_renames_and_untracked_paths_as_they_are(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    commit_file(repo, "old name.txt", "a\n")
    commit_file(repo, "kept.txt", "a\n")
    git(repo, "mv", "old name.txt", "new name.txt")
    (repo / "kept.txt").write_text("b\n")
    (repo / "odd\nname é.txt").write_text("x")
    found = gitread.status(repo)
    assert found is not None
    assert (found.branch, found.detached) == ("main", False)
    assert found.head == git(repo, "rev-parse", "HEAD")
    assert sorted(found.dirty_files) == ["kept.txt", "new name.txt"]
    assert found.untracked_files == ["odd\nname é.txt"]


def test_status_of_a_detached_head_and_of_an_unborn_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    git(repo, "checkout", "-q", "--detach")
    detached = gitread.status(repo)
    assert detached is not None and detached.detached and detached.branch is None
    unborn = gitread.status(make_repo(tmp_path / "new", commit=False))
    assert unborn is not None and unborn.head is None and unborn.branch == "main"


def test_an_unmerged_path_is_a_changed_one() -> None:
    record = "u UU N... 100644 100644 100644 100644 " + " ".join(["a" * 40] * 3) + " both me.py"
    assert gitread.parse_status([record]).dirty_files == ["both me.py"]


def test_status_outside_git_is_none(tmp_path: Path) -> None:
    assert gitread.status(tmp_path) is None


def test_git_commands_side_by_side_each_get_their_own_whole_output(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    for n in range(1200):  # more than a pipe's buffer of output
        (repo / f"{n:04d}-{'long-name-' * 8}.txt").write_text(f"{n}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "many files")
    (repo / "dirty.txt").write_text("dirty\n")
    files, status, failed = gitread.git_lines_together(
        repo,
        [
            (("ls-files",), False),
            (("status", "--porcelain", "-z"), True),
            (("rev-parse", "--verify", "--quiet", "no-such-ref"), False),
        ],
    )
    assert files is not None and len("\n".join(files)) > 65536
    assert files == git(repo, "ls-files").splitlines()
    assert status == ["?? dirty.txt"]
    assert failed is None


def test_a_command_that_does_not_finish_in_time_is_stopped_and_the_others_kept() -> None:
    """Not stopped, ``sleep`` would end with an empty output; ``true`` ended in time while the
    first was waited for."""
    outs = gitread._run([["sleep", "30"], ["true"]], dict(os.environ), timeout=0.5)
    assert outs == [None, b""]
