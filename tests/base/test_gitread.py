"""``base/gitread.py``: the safe git reader; here its one ``git status`` parser."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from claude_session.base import gitread
from claude_session.base.state import ledger
from claude_session.paths import Paths
from helpers.clirun import cli
from helpers.gitrepo import commit_file, git, make_repo
from helpers.hookrun import hook


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


# --- as the hooks read an untrusted repository (red team H9-H11) ------------------------


def test_H9_hooks_never_take_the_index_lock(repo: Path, isolated_home: Path) -> None:
    assert cli("remind", "on", "--every", "1", "--dirty-files", "1", cwd=repo).returncode == 0
    (repo / "README.md").write_text("hello\n")  # same content, new mtime: index entry stale
    os.utime(repo / "README.md", (1, 1))
    (repo / "new.txt").write_text("x")
    index = repo / ".git" / "index"
    before = index.stat()
    out = hook("UserPromptSubmit", repo, prompt="hi")
    assert out and "uncommitted" in out["hookSpecificOutput"]["additionalContext"]
    hook("PreCompact", repo)
    after = index.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_H10_a_head_pointing_outside_the_repository_is_never_read(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    secret = tmp_path / "private-note.txt"
    secret.write_text("MY_PRIVATE_NOTE_line1\nsecond line\n")
    rel = os.path.relpath(secret, repo / ".git")
    (repo / ".git" / "HEAD").write_text(f"ref: {rel}\n")
    hook("SessionStart", repo, source="startup")
    hook("PreCompact", repo)
    out = hook("SessionStart", repo, source="compact")
    assert "MY_PRIVATE_NOTE" not in json.dumps(entry(isolated_home, "s1"))
    assert "MY_PRIVATE_NOTE" not in json.dumps(out or {})
    for path in isolated_home.rglob("*"):
        if path.is_file():
            assert b"MY_PRIVATE_NOTE" not in path.read_bytes(), path


def test_H10_a_ref_symlinked_out_of_the_repository_is_never_read(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    secret = tmp_path / "victim-secret"
    secret.write_text("0123456789abcdef0123456789abcdef01234567\n")  # even if it looks like a sha
    ref = repo / ".git" / "refs" / "heads" / "main"
    ref.unlink()
    ref.symlink_to(secret)
    hook("SessionStart", repo, source="startup")
    assert entry(isolated_home, "s1")["starting_head"] is None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a repository to another user")
def test_H10_a_repository_owned_by_another_user_is_not_read(
    tmp_path: Path, isolated_home: Path
) -> None:
    import pwd

    nobody = pwd.getpwnam("nobody")
    shared = make_repo(tmp_path / "shared")
    secret = tmp_path / "victim-0600"
    secret.write_text("VICTIM-SECRET\n")
    secret.chmod(0o600)
    ref = shared / ".git" / "refs" / "heads" / "main"
    ref.unlink()
    ref.symlink_to(secret)
    work = shared / "work"
    work.mkdir()
    for base, dirs, files in os.walk(shared):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(base, name), nobody.pw_uid, nobody.pw_gid)
    os.chown(shared, nobody.pw_uid, nobody.pw_gid)
    os.chown(work, os.geteuid(), os.getegid())  # the victim's own folder inside it
    assert gitread.find_git(work) is None
    hook("SessionStart", work, source="startup")
    assert "VICTIM" not in json.dumps(entry(isolated_home, "s1"))


def test_H11_a_ref_name_never_reaches_git_as_an_option(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    target = tmp_path / "INJECTED"
    (repo / ".git" / "refs" / "heads" / "evil").write_text(f"--output={target}\n")
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/evil\n")
    hook("SessionStart", repo, source="startup")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "a.txt", "a")
    hook("SessionEnd", repo)
    assert not target.exists()
    assert not Path(f"{target}..HEAD").exists()


def test_the_git_reader_refuses_names_that_are_options_or_escape() -> None:
    assert not gitread.is_ref_name("refs/heads/-x")
    assert not gitread.is_ref_name("../../etc/passwd")
    assert not gitread.is_ref_name("refs/heads/../../../x")
    assert not gitread.is_ref_name("--output=/tmp/x")
    assert gitread.is_ref_name("refs/heads/feature/x-1")
    assert not gitread.is_oid("--output=/tmp/x")
    assert gitread.session_files(Path("/"), "--output=/tmp/x") == []


def entry(home: Path, sid: str) -> dict[str, Any]:
    found = ledger.get(Paths(home), sid)
    assert found is not None
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")
