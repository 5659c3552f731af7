"""A CLI session pauses and another session resumes that pause (core/continued.py): the pausing
session's part ends at the resume, so no record of it is finalized hours later with the resuming
session's commits, and the pausing session's own later end still works: it records a new part
from then on, says what happened, and counts only its own commits. Real CLI processes, a real
git repository with a bare remote."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from helpers.clirun import cli
from helpers.gitrepo import commit_file, make_remote, make_repo


@pytest.fixture
def repo(tmp_path: Path, isolated_home: Path) -> Path:
    made = make_repo(tmp_path / "shop")
    make_remote(made, tmp_path / "remote.git")
    return made


def run(repo: Path, *args: str) -> dict[str, Any]:
    proc = cli(*args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return json.loads(proc.stdout)


def entry(home: Path, sid: str) -> dict[str, Any]:
    return json.loads((home / "claude-session" / "ledger" / f"{sid}.json").read_text())


def records(repo: Path, sid: str) -> list[dict[str, Any]]:
    found = run(repo, "history", "--limit", "100")["records"]
    return [r for r in found if r["claude_session_id"] == sid]


def pause_then_resume_elsewhere(repo: Path) -> None:
    """Session A commits once and pauses; session B resumes A's pause."""
    run(repo, "start", "--session-id", "A", "--no-import")
    commit_file(repo, "a.txt", "a\n", "A's own work")
    run(repo, "pause", "--session-id", "A", "--summary", "A halfway")
    assert run(repo, "resume", "--session-id", "B")["status"] == "ready"


def test_the_paused_part_ends_at_the_resume_and_never_counts_the_resumers_commits(
    repo: Path, isolated_home: Path
) -> None:
    pause_then_resume_elsewhere(repo)
    closed = entry(isolated_home, "A")
    commit_file(repo, "b1.txt", "b\n", "B's first")
    commit_file(repo, "b2.txt", "b\n", "B's second")
    ended = run(repo, "end", "--session-id", "B", "--summary", "B done", "--no-push")
    # half a day on: whatever finalizes silent sessions runs
    ledger = isolated_home / "claude-session" / "ledger" / "A.json"
    aged = json.loads(ledger.read_text())
    old = (datetime.now(timezone.utc) - timedelta(hours=13)).isoformat()
    aged.update(last_activity=old, started_at=old)
    ledger.write_text(json.dumps(aged))
    run(repo, "sync")

    a_records = records(repo, "A")
    assert [(r["end_mode"], r["commits_count"]) for r in a_records] == [("paused", 1)]
    assert closed["status"] == "finalized" and closed["continued_by"] == "B"
    assert closed["record_id"] == a_records[0]["id"]  # no record of its own: nothing after
    (b_record,) = records(repo, "B")
    assert b_record["id"] == ended["record"]["id"]
    assert b_record["continues"] == a_records[0]["id"] and b_record["commits_count"] == 2


def test_the_pausing_sessions_own_later_end_records_a_new_part_of_its_own(
    repo: Path, isolated_home: Path
) -> None:
    pause_then_resume_elsewhere(repo)
    commit_file(repo, "b1.txt", "b\n", "B's work, before A comes back")
    (repo / "a2.txt").write_text("A again\n")
    proc = cli("end", "--session-id", "A", "--summary", "A back", "--no-push", "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    ended = json.loads(proc.stdout)
    told = " ".join(ended["warnings"])
    assert "resumed by session B" in told and "new part" in told
    paused = next(r for r in records(repo, "A") if r["end_mode"] == "paused")
    record = ended["record"]
    assert record["continues"] == paused["id"]
    assert record["commits_count"] == 1  # its end commit, not B's commit
    assert record["files_changed"] == ["a2.txt"]
    assert entry(isolated_home, "A")["status"] == "ended"


def test_a_session_that_picked_its_own_pause_up_is_left_open_by_a_later_resume(
    repo: Path, isolated_home: Path
) -> None:
    """The case ten sessions on one project meet (tests/core/test_load.py): A resumes its own
    pause, then B resumes the same pause; A works on and its end is its usual one."""
    run(repo, "start", "--session-id", "A", "--no-import")
    run(repo, "pause", "--session-id", "A", "--summary", "A halfway")
    run(repo, "resume", "--session-id", "A")
    run(repo, "resume", "--session-id", "B")
    assert entry(isolated_home, "A")["status"] == "active"
    (repo / "a.txt").write_text("a\n")
    ended = run(repo, "end", "--session-id", "A", "--summary", "A done", "--no-push")
    assert not any("resumed by session" in w for w in ended["warnings"])
    assert ended["record"]["commits_count"] == 1
