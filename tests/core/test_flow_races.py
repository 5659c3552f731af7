"""Flows racing on one session or one repository (``core/pause.py``, ``core/end.py``,
``steps.session_turn``; redteam N48, N49): real CLI processes, started together, a few dozen
rounds. A pause and an end of one session never bring it back to life or yield two records;
one session's end never clears another session's pause."""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest

from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.paths import Paths
from helpers.clirun import cli
from helpers.gitrepo import git, make_repo
from helpers.racing import cli_racers

ROUNDS = 24
STAGGER = 0.12  # seconds: how much later each round's pause leaves than the last's


def _start(repo: Path, session_id: str) -> None:
    """A session started in this process (the set-up; the race itself is between processes)."""
    with Core() as core:
        core.start(repo, session_id=session_id)


def _paths() -> Paths:
    return Paths(Settings.from_env().home)


def _ledger(session_id: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(_paths().ledger_entry(session_id).read_text())
    return data


def _pauses() -> dict[str, dict[str, object]]:
    path = _paths().pause_state
    if not path.exists():
        return {}
    projects: dict[str, dict[str, object]] = json.loads(path.read_text())["projects"]
    return projects


def _records() -> list[tuple[str, str | None]]:
    """(record id, Claude Code session id) of every record in the local tracker but those a
    pause sent for its stretch (the end's record continues them)."""
    with closing(sqlite3.connect(_paths().tracker_db)) as conn:
        rows = conn.execute(
            "SELECT id, claude_session_id, end_mode FROM claude_sessions"
        ).fetchall()
    return [(str(a), b) for a, b, mode in rows if mode != "paused"]


@pytest.mark.parametrize("wip", [False, True])
def test_N48_pause_racing_end_of_one_session_never_reopens_it_or_records_it_twice(
    tmp_path: Path, isolated_home: Path, wip: bool
) -> None:
    """redteam N48: ``pause`` and ``end`` of one session started together. Whichever runs
    first, the session ends once: its ledger entry is ``ended`` with end's record, no pause
    of it is left, and the tracker holds one record per session, also after a sync. A pause
    that comes second is refused, saying so; with ``--wip-commit`` the two commits take
    turns too."""
    repo = make_repo(tmp_path / "project")
    with cli_racers(2, cwd=repo) as race:
        for n in range(ROUNDS):
            sid = f"race-{n}-{uuid.uuid4().hex[:6]}"
            _start(repo, sid)
            (repo / f"work{n}.txt").write_text(f"round {n}\n")
            pause = ["pause", "--session-id", sid, "--summary", f"half {n}"]
            end = ["end", "--session-id", sid, "--summary", f"done {n}", "-m", f"round {n}"]
            (p_code, p_err), (e_code, e_err) = race(
                [*pause, *(["--wip-commit"] if wip else [])],
                [*end, "--no-push"],
                delays=(STAGGER * (n % 8), 0.0),  # the pause from with the end to after it
            )
            assert e_code == 0, e_err
            if p_code != 0:
                assert "has ended" in p_err and "nothing was paused" in p_err, p_err
            entry = _ledger(sid)
            assert entry["status"] == "ended", (n, entry)
            record = entry["record"]
            assert isinstance(record, dict) and record["id"] == entry["record_id"]
            assert not [p for p in _pauses().values() if p.get("session_id") == sid]
            assert git(repo, "status", "--porcelain") == ""
    assert cli("sync", cwd=repo).returncode == 0
    ids = [record_id for record_id, _ in _records()]
    assert len(ids) == ROUNDS == len(set(ids))  # one end record each (a pause's is its own)


def test_N49_another_sessions_end_keeps_this_sessions_pause(
    tmp_path: Path, isolated_home: Path
) -> None:
    """redteam N49, the reproduction: A pauses, B (same repository) ends; a new session C
    resumes A's pause, context and all."""
    repo = make_repo(tmp_path / "project")
    for sid in ("A", "B"):
        assert cli("start", "--session-id", sid, cwd=repo).returncode == 0
    assert cli("pause", "--session-id", "A", "--summary", "half-way", cwd=repo).returncode == 0
    (repo / "f.txt").write_text("x\n")
    ended = cli("end", "--session-id", "B", "--summary", "s", "-m", "m", "--no-push", cwd=repo)
    assert ended.returncode == 0, ended.stderr
    (kept,) = _pauses().values()
    assert kept["session_id"] == "A" and Path(str(kept["context_file"])).exists()
    resumed = cli("--json", "resume", "--session-id", "C", cwd=repo)
    answer = json.loads(resumed.stdout)
    assert answer["status"] != "no_pause_state" and "half-way" in answer["context"], answer


def test_N49_an_end_clears_the_pause_its_session_resumed_and_its_own(
    tmp_path: Path, isolated_home: Path
) -> None:
    """The other side: the pause a session picked up (resumed) or made is over at its end."""
    repo = make_repo(tmp_path / "project")
    assert cli("pause", "--session-id", "A", "--summary", "a", cwd=repo).returncode == 0
    assert cli("resume", "--session-id", "B", cwd=repo).returncode == 0
    assert cli("end", "--session-id", "B", "--summary", "b", "--no-push", cwd=repo).returncode == 0
    assert _pauses() == {}
    assert cli("pause", "--session-id", "C", "--summary", "c", cwd=repo).returncode == 0
    assert cli("end", "--session-id", "C", "--summary", "c", "--no-push", cwd=repo).returncode == 0
    assert _pauses() == {}


def test_N49_a_pause_racing_another_sessions_end_is_always_kept(
    tmp_path: Path, isolated_home: Path
) -> None:
    """A variation with processes: A pauses while B ends in the same repository, started
    together, round after round. A's pause is there after every round."""
    repo = make_repo(tmp_path / "project")
    with cli_racers(2, cwd=repo) as race:
        for n in range(ROUNDS):
            a, b = f"A{n}", f"B{n}"
            for sid in (a, b):
                _start(repo, sid)
            (repo / f"b{n}.txt").write_text("b\n")
            (p_code, p_err), (e_code, e_err) = race(
                ["pause", "--session-id", a, "--summary", f"a {n}"],
                ["end", "--session-id", b, "--summary", "b", "-m", f"b {n}", "--no-push"],
            )
            assert p_code == 0 and e_code == 0, (p_err, e_err)
            (kept,) = _pauses().values()
            assert kept["session_id"] == a, (n, kept)
            assert _ledger(a)["status"] == "active" and _ledger(b)["status"] == "ended"
