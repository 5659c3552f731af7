"""Git trouble around the flows: an index.lock held for a moment or left stale, a detached
HEAD, a shallow clone, submodules, the paused branch deleted, the repository moved while
paused, hostile ref names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_session.core import gitlocks as git_module
from claude_session.core.facade import Core
from claude_session.errors import ClaudeSessionError, GitError
from helpers.gitrepo import commit_file, git, make_remote, make_repo
from helpers.locks import attempts, lock_held_until_tried


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    make_remote(r, tmp_path / "remote.git")
    return r


def _records(core: Core, sid: str) -> list[str]:
    return [r.id for r in core.history(limit=50).records if r.claude_session_id == sid]


# --- index.lock ---------------------------------------------------------------------------


def test_pause_without_wip_commit_works_with_a_stale_index_lock(repo: Path) -> None:
    (repo / "work.py").write_text("x = 1\n")
    (repo / ".git" / "index.lock").write_text("")
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary="LOCKED pause")
        resumed = core.resume(repo, session_id="s")
    assert "work.py" in Path(paused.context_file).read_text()
    assert "LOCKED pause" in resumed.context


def test_pause_whose_wip_commit_meets_a_stale_lock_still_saves_the_pause(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(git_module, "LOCK_WAIT", 0.5)
    (repo / "work.py").write_text("x = 1\n")
    lock = repo / ".git" / "index.lock"
    lock.write_text("")
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary="LOCKED pause", wip_commit=True)
        resumed = core.resume(repo, session_id="s")
    assert paused.wip_commit is None
    assert any("index.lock" in w and "after waiting 0.5 s" in w for w in paused.warnings)
    assert "LOCKED pause" in resumed.context
    assert lock.exists()  # a stale lock is reported, never removed by us


def test_end_under_a_stale_index_lock_is_refused_after_the_wait_and_a_rerun_records_once(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = tmp_path / "trace"
    with Core() as core:
        core.start(repo, session_id="s", no_import=True)
        (repo / "work.py").write_text("x = 1\n")
        lock = repo / ".git" / "index.lock"
        lock.write_text("")
        monkeypatch.setenv("GIT_TRACE", str(trace))  # the default bound, LOCK_WAIT (5 s)
        with pytest.raises(GitError) as caught:
            core.end(repo, session_id="s", summary="first try", push=False)
        assert "index.lock" in str(caught.value)
        assert f"after waiting {git_module.LOCK_WAIT:g} s" in str(caught.value)
        assert attempts(trace, "git add") >= 2  # it waited and tried again before refusing
        assert lock.exists()  # never removed by us
        assert _records(core, "s") == []
        lock.unlink()  # the user removes it, as the message says
        ended = core.end(repo, session_id="s", summary="second try", push=False)
        assert _records(core, "s") == [ended.record.id]
    assert ended.commit is not None and ended.record.commits_count == 1


def test_pause_waits_for_an_index_lock_another_process_releases(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "work.py").write_text("x = 1\n")
    lock, trace = repo / ".git" / "index.lock", tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    with Core() as core, lock_held_until_tried(lock, trace, "git add", hold=1.0) as holder:
        paused = core.pause(repo, session_id="s", summary="WAITED pause", wip_commit=True)
    assert holder.returncode == 0 and attempts(trace, "git add") >= 2
    assert paused.wip_commit is not None and paused.warnings == []
    assert paused.wip_commit == git(repo, "rev-parse", "HEAD")
    assert git(repo, "status", "--porcelain") == ""


def test_end_waits_for_an_index_lock_another_process_releases(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock, trace = repo / ".git" / "index.lock", tmp_path / "trace"
    with Core() as core:
        core.start(repo, session_id="s", no_import=True)
        (repo / "work.py").write_text("x = 1\n")
        monkeypatch.setenv("GIT_TRACE", str(trace))
        with lock_held_until_tried(lock, trace, "git add", hold=1.0) as holder:
            ended = core.end(repo, session_id="s", summary="WAITED end", push=False)
        assert _records(core, "s") == [ended.record.id]
    assert holder.returncode == 0 and attempts(trace, "git add") >= 2
    assert ended.commit == git(repo, "rev-parse", "HEAD") and ended.record.commits_count == 1


# --- detached HEAD ------------------------------------------------------------------------


def test_flows_work_on_a_detached_head(repo: Path) -> None:
    commit_file(repo, "a.py", "a\n")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    with Core() as core:
        started = core.start(repo, session_id="s", no_import=True)
        paused = core.pause(repo, session_id="s", summary="DETACHED work")
        resumed = core.resume(repo, session_id="s")
        (repo / "b.py").write_text("b\n")
        ended = core.end(repo, session_id="s", summary="done detached", message="b")
    assert started.status == "ready" and started.branch is None and paused.branch is None
    assert resumed.status == "ready" and "DETACHED work" in resumed.context
    assert ended.commit is not None and ended.pushed is False
    assert "detached" in (ended.push_detail or "").lower()
    assert ended.record.ending_branch is None and ended.record.commits_count == 1


def test_resume_paused_on_a_branch_from_a_detached_head_offers_the_choices(repo: Path) -> None:
    with Core() as core:
        core.pause(repo, session_id="s", summary="on main")
        git(repo, "checkout", "-q", "--detach")
        asked = core.resume(repo, session_id="s")
        switched = core.resume(repo, session_id="s", on_mismatch="switch")
    assert asked.status == "branch_mismatch" and asked.paused_branch == "main"
    assert switched.status == "ready" and git(repo, "branch", "--show-current") == "main"


# --- shallow clone and submodules -----------------------------------------------------------


def test_flows_work_in_a_shallow_clone(repo: Path, tmp_path: Path) -> None:
    for i in range(5):
        commit_file(repo, f"f{i}.py", f"{i}\n")
    git(repo, "push", "-q")
    shallow = tmp_path / "shallow"
    git(
        tmp_path,
        "clone",
        "-q",
        "--depth",
        "1",
        "-b",
        "main",
        f"file://{tmp_path / 'remote.git'}",
        str(shallow),
    )
    assert git(shallow, "rev-parse", "--is-shallow-repository") == "true"
    with Core() as core:
        core.start(shallow, session_id="s", no_import=True)
        core.pause(shallow, session_id="s", summary="SHALLOW pause")
        assert "SHALLOW pause" in core.resume(shallow, session_id="s").context
        commit_file(shallow, "new.py", "n\n")
        (shallow / "more.py").write_text("m\n")
        ended = core.end(shallow, session_id="s", summary="shallow done", message="more")
    assert ended.record.commits_count == 2 and ended.pushed, ended
    assert sorted(ended.record.files_changed) == ["more.py", "new.py"]


def test_flows_work_with_a_dirty_submodule(repo: Path, tmp_path: Path) -> None:
    lib = make_repo(tmp_path / "lib")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "lib")
    git(repo, "commit", "-q", "-m", "add lib")
    (repo / "lib" / "README.md").write_text("changed inside the submodule\n")
    (repo / "top.py").write_text("t\n")
    with Core() as core:
        core.start(repo, session_id="s", no_import=True)
        paused = core.pause(repo, session_id="s", summary="SUBMODULE pause", wip_commit=True)
        resumed = core.resume(repo, session_id="s")
        ended = core.end(repo, session_id="s", summary="done", message="end", push=False)
    assert paused.wip_commit is not None and "SUBMODULE pause" in resumed.context
    assert ended.record.commits_count >= 1
    # the submodule's own change was not committed into the superproject by force
    assert (repo / "lib" / "README.md").read_text() == "changed inside the submodule\n"


# --- branch deleted, repository moved ---------------------------------------------------------


def test_resume_after_the_paused_branch_was_deleted_says_what_to_do(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    with Core() as core:
        core.pause(repo, session_id="s", summary="FEATURE work")
        git(repo, "checkout", "-q", "main")
        git(repo, "branch", "-q", "-D", "feature")
        with pytest.raises(ClaudeSessionError) as caught:
            core.resume(repo, session_id="s", on_mismatch="switch")
        assert "no longer exists" in str(caught.value) and "stay" in str(caught.value)
        stayed = core.resume(repo, session_id="s", on_mismatch="stay")
        started = core.start(repo, session_id="s2", no_import=True)
    assert stayed.cleared_pause and started.status == "ready"
    context = Path(
        json.loads(json.dumps(stayed.warnings))
        and stayed.warnings[0].split("kept in ")[-1].rstrip(".")
    ).read_text()
    assert "FEATURE work" in context  # the paused context is kept, not deleted


def test_resume_recreates_a_paused_branch_deleted_here_but_pushed(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "push", "-q", "-u", "origin", "feature")
    with Core() as core:
        core.pause(repo, session_id="s", summary="FEATURE work")
        git(repo, "checkout", "-q", "main")
        git(repo, "branch", "-q", "-D", "feature")
        git(repo, "branch", "-q", "-r", "-d", "origin/feature")
        resumed = core.resume(repo, session_id="s", on_mismatch="switch")
    assert resumed.status == "ready" and git(repo, "branch", "--show-current") == "feature"


def test_start_follows_a_repository_moved_while_paused(repo: Path, tmp_path: Path) -> None:
    with Core() as core:
        core.pause(repo, session_id="s", summary="BEFORE the move")
    moved = tmp_path / "elsewhere" / "shop"
    moved.parent.mkdir()
    repo.rename(moved)
    with Core() as core:
        started = core.start(moved, session_id="s2", no_import=True)
    assert "BEFORE the move" in started.context


def test_resume_and_end_follow_a_repository_moved_while_paused(repo: Path, tmp_path: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s", no_import=True)
        core.pause(repo, session_id="s", summary="BEFORE the move")
    moved = tmp_path / "elsewhere" / "shop-renamed"
    moved.parent.mkdir()
    repo.rename(moved)
    with Core() as core:
        resumed = core.resume(moved, session_id="s")
        ended = core.end(moved, session_id="s", summary="after the move", push=False)
        state = json.loads((core.paths.pause_state).read_text())["projects"]
    assert "BEFORE the move" in resumed.context
    assert state == {} and ended.record.application_name == "shop-renamed"


# --- option injection through ref names ------------------------------------------------------


@pytest.mark.parametrize(
    "branch", ["--upload-pack=touch PWNED", "-b", "--orphan=x", "main\n--force", "../../etc"]
)
def test_hostile_paused_branch_names_never_reach_git_as_options(
    repo: Path, tmp_path: Path, branch: str
) -> None:
    with Core() as core:
        core.pause(repo, session_id="s", summary="x")
        path = core.paths.pause_state
        data = json.loads(path.read_text())
        data["projects"][str(repo)]["branch"] = branch
        path.write_text(json.dumps(data))
        with pytest.raises(ClaudeSessionError) as caught:
            core.resume(repo, session_id="s", on_mismatch="switch")
    assert "Refused" in str(caught.value) or "not a valid branch" in str(caught.value)
    assert not list(repo.glob("PWNED*")) and not list(tmp_path.glob("PWNED*"))
    assert git(repo, "branch", "--show-current") == "main"
