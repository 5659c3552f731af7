"""claude_session.core.repository on real repositories, real bare remotes and real git processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from claude_session.base.gitread import (
    normalize_remote,
    session_commits,
    session_files,
    strip_credentials,
)
from claude_session.core.repository import (
    WIP_TRAILER,
    Repository,
    find_root,
    working_state,
)
from claude_session.errors import GitError, GitRefused
from helpers.gitrepo import commit_file, git, make_remote, make_repo
from helpers.locks import attempts, lock_held_until_tried

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


@pytest.fixture
def remote(repo: Path, tmp_path: Path) -> Path:
    """A bare repository as origin; main tracks origin/main."""
    return make_remote(repo, tmp_path / "remote.git")


def _clone(bare: Path, dest: Path, branch: str = "main") -> Path:
    git(dest.parent, "clone", "-q", "-b", branch, str(bare), str(dest))
    return dest


def _start_conflict(repo: Path, operation: str) -> None:
    """Leave ``repo`` in the middle of a merge or rebase with a real conflict."""
    git(repo, "checkout", "-q", "-b", "other")
    commit_file(repo, "README.md", "theirs\n")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "README.md", "ours\n")
    if operation == "merge":
        git(repo, "merge", "other", check=False)
    else:
        git(repo, "rebase", "other", check=False)


# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:tok@github.com/o/r.git", "github.com/o/r"),
        ("https://github.com/o/r", "github.com/o/r"),
        ("https://GitHub.com/o/r.git/", "github.com/o/r"),
        ("http://ghp_abc@example.com:8080/group/sub/r.git", "example.com/group/sub/r"),
        ("ssh://git@github.com/o/r.git", "github.com/o/r"),
        ("ssh://git@github.com:22/o/r.git", "github.com/o/r"),
        ("git+ssh://git@github.com/o/r.git", "github.com/o/r"),
        ("git@github.com:o/r.git", "github.com/o/r"),
        ("github.com:o/r", "github.com/o/r"),
        ("file:///srv/git/r.git", "/srv/git/r"),
        ("/srv/git/r.git", "/srv/git/r"),
        ("../remote.git", "../remote"),
        ("C:\\repos\\r.git", "C:\\repos\\r"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_remote_gives_one_identity_for_every_url_form(
    url: str | None, expected: str | None
) -> None:
    assert normalize_remote(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:ghp_xxx@host/o/r.git", "https://host/o/r.git"),
        ("https://ghp_xxx@host/o/r.git", "https://host/o/r.git"),
        ("https://host/o/r.git", "https://host/o/r.git"),
        ("ssh://git:secret@host/o/r.git", "ssh://git@host/o/r.git"),
        ("ssh://git@host/o/r.git", "ssh://git@host/o/r.git"),
        ("git@host:o/r.git", "git@host:o/r.git"),
        ("/srv/git/r.git", "/srv/git/r.git"),
        (None, None),
    ],
)
def test_strip_credentials_removes_secrets_and_keeps_the_address(
    url: str | None, expected: str | None
) -> None:
    assert strip_credentials(url) == expected


def test_origin_url_with_a_token_is_stored_stripped(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://user:ghp_xxx@host/o/r.git")
    with Repository(repo) as r:
        assert r.origin_url() == "https://host/o/r.git"
        assert r.state().origin_url == "https://host/o/r.git"


# ---------------------------------------------------------------- finding and state


def test_find_root_gives_the_top_level_from_a_subfolder(repo: Path) -> None:
    (repo / "a" / "b").mkdir(parents=True)
    assert find_root(repo / "a" / "b") == repo.resolve()


def test_outside_git_find_root_is_none_and_repository_raises(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert find_root(plain) is None
    assert find_root(tmp_path / "missing") is None
    assert working_state(plain) is None
    with pytest.raises(GitError, match="not inside a git repository"):
        Repository(plain)


def test_state_reports_branch_changes_untracked_and_stashes(repo: Path) -> None:
    commit_file(repo, "tracked.txt", "one\n")
    (repo / "tracked.txt").write_text("stashed\n")
    git(repo, "stash", "-q")
    (repo / "tracked.txt").write_text("two\n")
    (repo / "staged.txt").write_text("new\n")
    git(repo, "add", "staged.txt")
    (repo / "odd name é.txt").write_text("untracked\n")

    state = working_state(repo)

    assert state is not None
    assert state.root == str(repo.resolve())
    assert (state.branch, state.detached, state.empty) == ("main", False, False)
    assert state.head == git(repo, "rev-parse", "HEAD")
    assert sorted(state.dirty_files) == ["staged.txt", "tracked.txt"]
    assert state.untracked_files == ["odd name é.txt"]
    assert len(state.stashes) == 1 and state.stashes[0].startswith("stash@{0}")
    assert state.operation is None
    assert state.origin_url is None


def test_detached_head_has_no_branch(repo: Path) -> None:
    sha = commit_file(repo, "a.txt", "a\n")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    with Repository(repo) as r:
        state = r.state()
        assert r.branch() is None
        assert r.head() != sha
    assert state.detached and state.branch is None and state.head == git(repo, "rev-parse", "HEAD")


def test_empty_repo_has_a_branch_name_no_head_and_takes_a_wip_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "empty", branch="trunk", commit=False)
    (repo / "first.txt").write_text("first\n")
    with Repository(repo) as r:
        state = r.state()
        assert (state.branch, state.head, state.empty) == ("trunk", None, True)
        assert r.head() is None
        sha = r.wip_commit("first steps")
        assert sha is not None and r.head() == sha
    assert git(repo, "ls-files") == "first.txt"


# ---------------------------------------------------------------- history


def test_a_sessions_commits_and_files_cover_its_range_newest_first(repo: Path) -> None:
    """What /end and the hooks measure (``gitread.session_commits``/``session_files``)."""
    start = git(repo, "rev-parse", "HEAD")
    first = commit_file(repo, "src/a.py", "a\n", "add a")
    second = commit_file(repo, "src/b.py", "b\n", "add b")
    git(repo, "mv", "src/a.py", "src/c.py")
    git(repo, "commit", "-q", "-m", "rename a")
    third = git(repo, "rev-parse", "HEAD")
    assert session_commits(repo, start) == [
        (third, "rename a"),
        (second, "add b"),
        (first, "add a"),
    ]
    assert session_commits(repo, first) == [(third, "rename a"), (second, "add b")]
    assert sorted(session_files(repo, start)) == ["src/b.py", "src/c.py"]
    assert sorted(session_files(repo, first)) == ["src/a.py", "src/b.py", "src/c.py"]
    assert session_files(repo, third) == []


def test_a_sessions_range_from_nothing_or_no_commit_is_empty(repo: Path) -> None:
    assert session_commits(repo, None) == []
    assert session_commits(repo, "no-such-branch") == []
    assert session_commits(repo, "0" * 40) == []
    assert session_files(repo, None) == []
    assert session_files(repo, "deadbeef") == []


@pytest.mark.parametrize("ref", ["--output=/tmp/pwned", "-p"])
def test_revisions_starting_with_a_dash_are_refused(repo: Path, ref: str) -> None:
    with Repository(repo) as r, pytest.raises(GitRefused, match="start with '-'"):
        r.checkout_commit(ref)
    assert session_commits(repo, ref) == [] and session_files(repo, ref) == []


# ---------------------------------------------------------------- commits


def test_wip_commit_is_marked_so_it_can_be_found(repo: Path) -> None:
    (repo / "work.txt").write_text("half done\n")
    with Repository(repo) as r:
        sha = r.wip_commit("parser half done\n\n# keep this line")
    assert sha == git(repo, "rev-parse", "HEAD")
    assert git(repo, "log", "-1", "--format=%s") == "WIP: parser half done"
    assert "# keep this line" in git(repo, "log", "-1", "--format=%b")
    assert git(repo, "log", "-1", "--format=%(trailers:key=claude-session,valueonly)") == "wip"
    assert git(repo, "log", "--format=%H", f"--grep={WIP_TRAILER}") == sha


def test_wip_commit_does_not_double_the_prefix(repo: Path) -> None:
    (repo / "x.txt").write_text("x\n")
    with Repository(repo) as r:
        r.wip_commit("WIP: already marked")
    assert git(repo, "log", "-1", "--format=%s") == "WIP: already marked"


def test_wip_commit_and_commit_return_none_when_clean(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    with Repository(repo) as r:
        assert r.wip_commit("nothing") is None
        assert r.commit("nothing") is None
    assert git(repo, "rev-parse", "HEAD") == head


def test_wip_commit_leaves_ignored_files_out(repo: Path) -> None:
    commit_file(repo, ".gitignore", "secrets.env\nbuild/\n")
    (repo / "secrets.env").write_text("TOKEN=abc\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.bin").write_text("bin\n")
    (repo / "kept.txt").write_text("kept\n")
    (repo / "README.md").unlink()
    with Repository(repo) as r:
        assert r.wip_commit("save") is not None
    files = git(repo, "show", "--name-status", "--format=", "HEAD").splitlines()
    assert sorted(files) == ["A\tkept.txt", "D\tREADME.md"]
    assert (repo / "secrets.env").exists()


def test_commit_makes_a_proper_commit_of_all_changes(repo: Path) -> None:
    (repo / "README.md").write_text("changed\n")
    (repo / "new.txt").write_text("new\n")
    with Repository(repo) as r:
        sha = r.commit("Add new.txt\n\nLonger explanation.")
        assert r.state().dirty_files == [] and r.state().untracked_files == []
    assert sha == git(repo, "rev-parse", "HEAD")
    assert git(repo, "log", "-1", "--format=%s%n%b") == "Add new.txt\nLonger explanation."
    assert "claude-session" not in git(repo, "log", "-1", "--format=%B")


def test_commit_without_a_message_is_an_error(repo: Path) -> None:
    (repo / "x.txt").write_text("x\n")
    with Repository(repo) as r, pytest.raises(GitError, match="needs a message"):
        r.commit("   \n")


@pytest.mark.parametrize("operation", ["merge", "rebase"])
def test_commits_are_refused_while_an_operation_is_in_progress(repo: Path, operation: str) -> None:
    _start_conflict(repo, operation)
    before = git(repo, "status", "--porcelain")
    head = git(repo, "rev-parse", "HEAD")
    with Repository(repo) as r:
        assert r.operation_in_progress() == operation
        assert r.state().operation == operation
        with pytest.raises(GitRefused, match=f"{operation} is in progress"):
            r.wip_commit("save")
        with pytest.raises(GitRefused, match=f"git {operation} --abort"):
            r.commit("save")
    assert git(repo, "status", "--porcelain") == before
    assert git(repo, "rev-parse", "HEAD") == head


def test_a_failing_commit_hook_is_a_git_error_with_the_hooks_words(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'lint failed: trailing spaces in x.txt' >&2\nexit 1\n")
    hook.chmod(0o755)
    (repo / "x.txt").write_text("x \n")
    head = git(repo, "rev-parse", "HEAD")
    with Repository(repo) as r, pytest.raises(GitError) as caught:
        r.wip_commit("save")
    assert "lint failed: trailing spaces in x.txt" in str(caught.value)
    assert caught.value.status == 1
    assert git(repo, "rev-parse", "HEAD") == head


# ---------------------------------------------------------------- locks held by another git


def test_commit_waits_for_an_index_lock_another_process_releases(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "work.py").write_text("x = 1\n")
    lock, trace = repo / ".git" / "index.lock", tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    with lock_held_until_tried(lock, trace, "git add", hold=1.0) as holder, Repository(repo) as r:
        sha = r.commit("work while another git ran")
    assert holder.returncode == 0  # our git add started while the lock was held
    assert attempts(trace, "git add") >= 2  # refused, waited, tried again
    assert sha is not None and sha == git(repo, "rev-parse", "HEAD")
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "work.py"
    assert not lock.exists()


def test_commit_waits_for_a_branch_ref_lock_another_process_releases(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "work.py").write_text("x = 1\n")
    lock, trace = repo / ".git" / "refs" / "heads" / "main.lock", tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    with (
        lock_held_until_tried(lock, trace, "git commit", hold=1.0) as holder,
        Repository(repo) as r,
    ):
        sha = r.wip_commit("ref locked")
    assert holder.returncode == 0 and attempts(trace, "git commit") >= 2
    assert sha is not None and sha == git(repo, "rev-parse", "main")
    assert git(repo, "status", "--porcelain") == ""


def test_checkout_waits_for_an_index_lock_another_process_releases(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "branch", "feature")
    lock, trace = repo / ".git" / "index.lock", tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    with (
        lock_held_until_tried(lock, trace, "git checkout", hold=1.0) as holder,
        Repository(repo) as r,
    ):
        r.checkout("feature")
    assert holder.returncode == 0 and attempts(trace, "git checkout") >= 2
    assert git(repo, "branch", "--show-current") == "feature"


def test_a_stale_index_lock_is_reported_after_the_wait_and_never_removed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_session.core import gitlocks as git_module

    monkeypatch.setattr(git_module, "LOCK_WAIT", 1.0)
    (repo / "work.py").write_text("x = 1\n")
    lock, trace = repo / ".git" / "index.lock", tmp_path / "trace"
    lock.write_text("left by a crashed git")
    monkeypatch.setenv("GIT_TRACE", str(trace))
    head = git(repo, "rev-parse", "HEAD")
    with Repository(repo) as r, pytest.raises(GitError) as caught:
        r.commit("never made")
    message = str(caught.value)
    assert "index.lock" in message and "after waiting 1 s" in message
    assert "wait for it (or remove .git/index.lock)" in message
    assert attempts(trace, "git add") >= 2  # it did wait and try again
    assert lock.read_text() == "left by a crashed git"  # still there, untouched
    assert git(repo, "rev-parse", "HEAD") == head


# Holds the commit turn (an flock on the git folder) as another claude-session process
# committing would; after ``hold`` seconds it checks that no git add started meanwhile.
_TURN_HOLDER = (
    "import fcntl, os, sys, time\n"
    "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "print('held', flush=True)\n"
    "time.sleep(float(sys.argv[3]))\n"
    "trace = sys.argv[2]\n"
    "early = os.path.exists(trace) and 'built-in: git add' in open(trace).read()\n"
    "os.close(fd)\n"
    "sys.exit(4 if early else 0)\n"
)


def test_a_commit_waits_its_turn_behind_another_session_committing(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "work.py").write_text("x = 1\n")
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    holder = subprocess.Popen(
        [sys.executable, "-c", _TURN_HOLDER, str(repo / ".git"), str(trace), "1.0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with Repository(repo) as r:
        sha = r.commit("after my turn")
    assert holder.wait(timeout=60) == 0  # nothing was staged while the other held the turn
    assert sha == git(repo, "rev-parse", "HEAD")
    assert git(repo, "log", "-1", "--format=%s") == "after my turn"


def test_a_commit_turn_held_past_the_bound_is_refused_and_changes_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_session.core import gitlocks as git_module

    monkeypatch.setattr(git_module, "COMMIT_TURN_WAIT", 0.5)
    (repo / "work.py").write_text("x = 1\n")
    head = git(repo, "rev-parse", "HEAD")
    holder = subprocess.Popen(
        [sys.executable, "-c", _TURN_HOLDER, str(repo / ".git"), "/nonexistent", "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with Repository(repo) as r, pytest.raises(GitError) as caught:
            r.wip_commit("never made")
    finally:
        holder.kill()
        holder.wait()
    assert "Another claude-session process has been committing" in str(caught.value)
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == "?? work.py"  # not even staged


def test_reads_never_take_the_index_lock(repo: Path, remote: Path) -> None:
    commit_file(repo, "a.py", "a\n")
    index = repo / ".git" / "index"
    # Same content, an older mtime than the index has for it: a git status that may take
    # optional locks refreshes that entry and rewrites the index.
    os.utime(repo / "a.py", (1_000_000_000, 1_000_000_000))
    (repo / "new.py").write_text("untracked\n")
    before = index.read_bytes()
    with Repository(repo) as r:
        r.state()
        r.branch()
        r.head()
        r.push()  # nothing new: only reads and the network
    start = git(repo, "rev-parse", "HEAD~1")
    session_commits(repo, start)
    session_files(repo, start)
    assert index.read_bytes() == before
    # Control: git status with optional locks does rewrite it, so the check above can fail.
    git(repo, "status", "--porcelain")
    assert index.read_bytes() != before


def test_every_git_command_runs_without_optional_locks(
    repo: Path, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = _clone(remote, tmp_path / "other")
    git(other, "checkout", "-q", "-b", "feature")
    commit_file(other, "f.py", "f\n")
    git(other, "push", "-q", "-u", "origin", "feature")
    real_git = subprocess.run(
        ["sh", "-c", "command -v git"], capture_output=True, text=True, check=True
    ).stdout.strip()
    bin_dir, log = tmp_path / "bin", tmp_path / "git-calls.log"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(
        f'#!/bin/sh\necho "${{GIT_OPTIONAL_LOCKS:-unset}} $*" >> {log}\nexec {real_git} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    (repo / "work.py").write_text("w\n")
    with Repository(repo) as r:
        r.state()
        r.commit("work")
        assert r.push().pushed
        r.checkout("feature")  # known only on origin: fetched first
    # GitPython's own ``git version`` (on its first import) runs outside any repository; a
    # commit message's line breaks split a logged call
    calls = [c for c in log.read_text().splitlines() if c.startswith(("0 ", "unset "))]
    calls = [c for c in calls if _command(c) != "version"]
    assert {"add", "commit", "push", "fetch", "checkout", "status"} <= {_command(c) for c in calls}
    assert [c for c in calls if not c.startswith("0 ")] == []
    # G4: and none may run the repository's fsmonitor program, GitPython's cat-file included
    assert [c for c in calls if "-c core.fsmonitor=false" not in c] == []


def _command(logged: str) -> str:
    """The git command word of a logged call (after the environment's value and the leading
    ``-c name=value`` options)."""
    words = logged.split()[1:]
    while words and words[0] == "-c":
        words = words[2:]
    return words[0] if words else ""


# ---------------------------------------------------------------- push


def test_push_sends_new_commits_to_the_upstream(repo: Path, remote: Path) -> None:
    sha = commit_file(repo, "a.txt", "a\n")
    with Repository(repo) as r:
        outcome = r.push()
    assert (outcome.status, outcome.pushed) == ("pushed", True)
    assert "origin/main" in outcome.detail
    assert git(remote, "rev-parse", "main") == sha


def test_push_with_nothing_new_is_up_to_date(repo: Path, remote: Path) -> None:
    with Repository(repo) as r:
        outcome = r.push()
    assert (outcome.status, outcome.pushed) == ("up_to_date", True)


def test_rejected_push_is_reported_and_nothing_is_forced(
    repo: Path, remote: Path, tmp_path: Path
) -> None:
    other = _clone(remote, tmp_path / "other")
    theirs = commit_file(other, "theirs.txt", "theirs\n")
    git(other, "push", "-q")
    commit_file(repo, "ours.txt", "ours\n")
    with Repository(repo) as r:
        outcome = r.push()
    assert (outcome.status, outcome.pushed) == ("rejected", False)
    assert "pull --rebase" in outcome.detail
    assert git(remote, "rev-parse", "main") == theirs


def test_push_without_a_remote_is_reported(repo: Path) -> None:
    with Repository(repo) as r:
        outcome = r.push()
    assert (outcome.status, outcome.pushed) == ("no_remote", False)


def test_push_without_an_upstream_says_how_to_set_one(repo: Path, tmp_path: Path) -> None:
    bare = make_remote(repo, tmp_path / "remote.git", upstream=False)
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "f.txt", "f\n")
    with Repository(repo) as r:
        outcome = r.push()
    assert (outcome.status, outcome.pushed) == ("no_upstream", False)
    assert "git push -u origin feature" in outcome.detail
    assert git(bare, "branch", "--list") == ""


def test_push_to_an_unreachable_remote_fails_as_an_outcome(repo: Path, remote: Path) -> None:
    git(repo, "remote", "set-url", "origin", str(remote.parent / "gone.git"))
    commit_file(repo, "a.txt", "a\n")
    with Repository(repo) as r:
        outcome = r.push()
    assert (outcome.status, outcome.pushed) == ("failed", False)
    assert "gone.git" in outcome.detail and "\n" not in outcome.detail


def test_push_failure_detail_never_shows_the_token(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://user:ghp_secret123@127.0.0.1:1/o/r.git")
    git(repo, "config", "branch.main.remote", "origin")
    git(repo, "config", "branch.main.merge", "refs/heads/main")
    with Repository(repo) as r:
        outcome = r.push(timeout=20)
    assert outcome.status == "failed"
    assert "ghp_secret123" not in outcome.detail


def test_push_from_a_detached_head_is_reported(repo: Path, remote: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    with Repository(repo) as r:
        outcome = r.push()
    assert (outcome.status, outcome.pushed) == ("detached", False)


# ---------------------------------------------------------------- checkout


def test_checkout_switches_to_an_existing_branch(repo: Path) -> None:
    git(repo, "branch", "feature")
    with Repository(repo) as r:
        r.checkout("feature")
        assert r.branch() == "feature"
        r.checkout("feature")  # already there: nothing to do
        assert r.branch() == "feature"


def test_checkout_refuses_uncommitted_changes_git_would_overwrite(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "README.md", "feature's readme\n")
    git(repo, "checkout", "-q", "main")
    (repo / "README.md").write_text("my unsaved work\n")
    with Repository(repo) as r, pytest.raises(GitRefused) as caught:
        r.checkout("feature")
    assert "README.md" in str(caught.value) and "stash" in str(caught.value)
    assert (repo / "README.md").read_text() == "my unsaved work\n"
    assert git(repo, "branch", "--show-current") == "main"


def test_checkout_carries_uncommitted_changes_where_git_does(repo: Path) -> None:
    git(repo, "branch", "feature")
    sha = git(repo, "rev-parse", "HEAD")
    (repo / "README.md").write_text("my unsaved work\n")
    with Repository(repo) as r:
        r.checkout("feature")
        assert r.branch() == "feature"
        r.checkout_commit(sha)  # a detached checkout carries them too
        assert r.branch() is None
    assert (repo / "README.md").read_text() == "my unsaved work\n"


def test_checkout_refuses_to_overwrite_untracked_files(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "notes.txt", "committed on feature\n")
    git(repo, "checkout", "-q", "main")
    (repo / "notes.txt").write_text("my own notes\n")
    with Repository(repo) as r, pytest.raises(GitRefused, match="notes.txt"):
        r.checkout("feature")
    assert (repo / "notes.txt").read_text() == "my own notes\n"


def test_checkout_is_refused_during_a_merge(repo: Path) -> None:
    _start_conflict(repo, "merge")
    with Repository(repo) as r, pytest.raises(GitRefused, match="merge is in progress"):
        r.checkout("other")


def test_checkout_of_a_branch_only_on_the_remote_creates_a_tracking_branch(
    repo: Path, remote: Path, tmp_path: Path
) -> None:
    other = _clone(remote, tmp_path / "other")
    git(other, "checkout", "-q", "-b", "paused-work")
    sha = commit_file(other, "p.txt", "p\n")
    git(other, "push", "-q", "-u", "origin", "paused-work")
    with Repository(repo) as r:
        r.checkout("paused-work")  # never fetched here: found on origin
        assert (r.branch(), r.head()) == ("paused-work", sha)
    assert git(repo, "rev-parse", "--abbrev-ref", "paused-work@{upstream}") == "origin/paused-work"


def test_checkout_of_a_missing_branch_says_it_no_longer_exists(repo: Path, remote: Path) -> None:
    with Repository(repo) as r, pytest.raises(GitError, match="no longer exists"):
        r.checkout("deleted-branch")


@pytest.mark.parametrize("name", ["-f", "--orphan=x", "", "bad..name"])
def test_checkout_refuses_option_like_or_invalid_names(repo: Path, name: str) -> None:
    with Repository(repo) as r, pytest.raises(GitRefused):
        r.checkout(name)
    assert git(repo, "branch", "--show-current") == "main"


# ---------------------------------------------------------------- resources


def _cat_file_children() -> int:
    """``git cat-file`` processes whose parent is this process, read from /proc."""
    me = str(os.getpid())
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if fields[1] == me and b"cat-file" in cmdline:
            count += 1
    return count


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_repository_leaves_no_cat_file_processes_behind(repo: Path) -> None:
    import git as gitpython

    # Control: an unclosed git.Repo that reads an object keeps cat-file children alive,
    # so the counter below can see a leak.
    leaky = gitpython.Repo(repo)
    assert leaky.head.commit.message
    assert _cat_file_children() > 0
    leaky.close()
    assert _cat_file_children() == 0

    for _ in range(50):
        with Repository(repo) as r:
            r.state()
            r.head()
            assert r._repo.head.commit.message  # make GitPython start its helpers
    assert _cat_file_children() == 0


def test_missing_git_binary_is_a_clear_git_error(tmp_path: Path, repo: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import claude_session.core.repository as g\n"  # importing our module must not need git
        "assert g.find_root(Path(sys.argv[1])) is None\n"
        "try:\n"
        "    g.Repository(Path(sys.argv[1]))\n"
        "except g.GitError as exc:\n"
        "    print(exc)\n"
    )
    env = {
        **os.environ,
        "PATH": str(Path(sys.executable).parent),
        "PYTHONPATH": str(ROOT / "server"),
    }
    assert not (Path(sys.executable).parent / "git").exists()
    proc = subprocess.run(
        [sys.executable, "-c", script, str(repo)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "git was not found" in proc.stdout


def test_linked_worktree_sees_its_own_operation_and_the_shared_stashes(
    repo: Path, tmp_path: Path
) -> None:
    (repo / "README.md").write_text("stashed\n")
    git(repo, "stash", "-q")
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "-b", "side", str(linked))
    git(linked, "checkout", "-q", "-b", "other")
    commit_file(linked, "README.md", "theirs\n")
    git(linked, "checkout", "-q", "side")
    commit_file(linked, "README.md", "ours\n")
    git(linked, "merge", "other", check=False)
    state = working_state(linked)
    assert state is not None
    assert (state.root, state.branch, state.operation) == (str(linked.resolve()), "side", "merge")
    assert len(state.stashes) == 1
    main_state = working_state(repo)
    assert main_state is not None and main_state.operation is None


# ---------------------------------------------------------------- the state after a commit


def test_the_state_after_a_commit_is_what_git_says_without_asking_it(repo: Path) -> None:
    (repo / "work.py").write_text("x = 1\n")
    (repo / "new").mkdir()
    (repo / "new" / "file.txt").write_text("new\n")
    with Repository(repo) as r:
        before = r.state()
        sha = r.commit("work", changed=True)
        assert sha is not None
        derived = r.committed_state(before, sha)
        asked = r.state()
    assert derived == asked
    assert derived is not None and derived.head == sha and derived.dirty_files == []


@pytest.mark.parametrize("where", ["hooks folder", "core.hooksPath"])
def test_a_commit_hook_that_edits_files_makes_git_be_asked(
    repo: Path, tmp_path: Path, where: str
) -> None:
    """A hook may change the tree while committing (a formatter): the state is then asked of
    git, and shows the file the hook changed."""
    script = "#!/bin/sh\necho '# formatted' >> work.py\n"
    if where == "hooks folder":
        hook = repo / ".git" / "hooks" / "post-commit"
    else:
        (tmp_path / "hooks").mkdir()
        hook = tmp_path / "hooks" / "post-commit"
        git(repo, "config", "core.hooksPath", str(tmp_path / "hooks"))
    hook.write_text(script)
    hook.chmod(0o755)
    (repo / "work.py").write_text("x = 1\n")
    with Repository(repo) as r:
        before = r.state()
        sha = r.commit("work", changed=True)
        assert sha is not None
        assert r.committed_state(before, sha) is None
        assert r.state().dirty_files == ["work.py"]


def test_submodules_or_a_detached_head_make_git_be_asked(repo: Path) -> None:
    (repo / "work.py").write_text("x = 1\n")
    with Repository(repo) as r:
        before = r.state()
        (repo / ".gitmodules").write_text("")
        sha = r.commit("work", changed=True)
        assert sha is not None
        assert r.committed_state(before, sha) is None  # a submodule's changes stay behind
    (repo / ".gitmodules").unlink()
    git(repo, "checkout", "-q", "--detach")
    with Repository(repo) as r:
        detached = r.state()
        assert detached.detached and detached.head is not None
        assert r.committed_state(detached, detached.head) is None
