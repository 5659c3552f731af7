"""The session record (core/records.py): one record however a session ended, /end or a hook
(red team: the end/hook agreement)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_session.base import sessions
from claude_session.base.state import ledger
from claude_session.core.facade import Core
from claude_session.paths import Paths
from helpers.gitrepo import commit_file, git, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def test_end_and_hook_finalization_agree_on_renames_deletions_and_non_ascii_paths(
    tmp_path: Path, isolated_home: Path
) -> None:
    def session(name: str) -> tuple[Path, str]:
        repo = make_repo(tmp_path / name)
        commit_file(repo, "a.txt", "a\n" * 50)
        commit_file(repo, "gone.txt", "bye")
        commit_file(repo, "sp ace é.txt", "1")
        start = git(repo, "rev-parse", "HEAD")
        git(repo, "mv", "a.txt", "b.txt")
        git(repo, "rm", "-q", "gone.txt")
        (repo / "sp ace é.txt").write_text("2")
        git(repo, "commit", "-qam", "rename, delete, edit")
        return repo, start

    by_hook, start = session("hooked")
    ledger.touch(
        Paths(isolated_home),
        ledger.new_entry(
            session_id="h",
            project="hooked",
            project_root=str(by_hook),
            branch="main",
            head=start,
            source="startup",
        ),
    )
    assert sessions.finalize_session(Paths(isolated_home), "h")
    spooled = json.loads(
        next((isolated_home / "claude-session" / "spool").glob("*.json")).read_text()
    )

    by_end, start = session("ended")
    with Core() as core:
        core.start(by_end, session_id="e")
        with ledger.edit(Paths(isolated_home), "e") as data:
            data["starting_head"] = start
        record = core.end(by_end, session_id="e", summary="done", push=False).record
    assert sorted(record.files_changed) == sorted(spooled["files_changed"])
    assert sorted(record.files_changed) == ["a.txt", "b.txt", "gone.txt", "sp ace é.txt"]
    assert record.commits_count == spooled["commits_count"] == 1


def test_a_pause_sends_its_record_now_and_the_resuming_session_continues_it(
    repo: Path, isolated_home: Path
) -> None:
    paths = Paths(isolated_home)
    with Core() as core:
        core.start(repo, session_id="cli-a")
        commit_file(repo, "first.txt", "1")
        core.pause(repo, session_id="cli-a", summary="First half.")
        [paused] = core.history(limit=5).records  # sent with the pause, not 12 h later
        core.resume(repo, session_id="cli-b")
        commit_file(repo, "second.txt", "2")
        core.end(repo, session_id="cli-b", summary="Second half.", push=False)
        records = core.history(limit=5).records
    # the pausing CLI session's part ended at the resume (tests/edges/test_resumed_pause.py:
    # its own later end records a new part)
    closed = ledger.get(paths, "cli-a")
    assert closed is not None and (closed["status"], closed["continued_by"]) == (
        "finalized",
        "cli-b",
    )
    assert closed["record_id"] == paused.id
    assert paused.end_mode == "paused" and paused.commits_count == 1
    assert paused.summary == "First half."
    ended = next(r for r in records if r.id != paused.id)
    assert [r.id for r in records if r.id == paused.id] == [paused.id] and len(records) == 2
    assert ended.continues == paused.id and ended.commits_count == 1


def test_a_session_that_goes_on_after_its_pause_gets_a_record_that_continues_it(
    repo: Path, isolated_home: Path
) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        core.pause(repo, session_id="s", summary="Lunch.")
        commit_file(repo, "after.txt", "1")
        core.end(repo, session_id="s", summary="Done.", push=False)
        paused, ended = sorted(core.history(limit=5).records, key=lambda r: r.started_at)
    assert (paused.end_mode, ended.end_mode) == ("paused", "standard")
    assert ended.continues == paused.id
    assert (paused.commits_count, ended.commits_count) == (0, 1)
