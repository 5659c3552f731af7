"""A crash at every durable write of pause and end: state stays consistent, a re-run completes
the flow, no context is lost and no record is counted twice.

The flow runs in a child process (``helpers/crashpoints.py``) that SIGKILLs itself right after
its Nth write; a first run with no kill lists the write points, then one run per point.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claude_session.core.facade import Core
from claude_session.errors import NoActiveSession
from claude_session.models import SessionRecord
from claude_session.paths import Paths
from helpers.gitrepo import git, make_remote, make_repo

pytestmark = pytest.mark.slow

HELPER = Path(__file__).resolve().parents[1] / "helpers" / "crashpoints.py"


def _setup(base: Path, flow: str) -> Path:
    """A started session with uncommitted work (and, for end, a pause saved before)."""
    repo = make_repo(base / "shop")
    make_remote(repo, base / "remote.git")
    (repo / "work.py").write_text("UNCOMMITTED-WORK = 1\n")
    with Core() as core:
        core.start(repo, session_id="s")
        if flow == "end":
            core.pause(repo, session_id="s", summary="EARLIER-PAUSE summary")
    return repo


def _run(flow: str, kill_at: int, log: Path, repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HELPER), flow, str(kill_at), str(log), str(repo)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _points(tmp_path: Path, flow: str) -> list[str]:
    base = tmp_path / "enumerate"
    repo = _setup(base, flow)
    log = base / "points.log"
    done = _run(flow, 0, log, repo)
    assert done.returncode == 0, done.stderr
    return [line.split("\t", 1)[1] for line in log.read_text().splitlines()]


def _assert_state_consistent(home: Path, repo: Path) -> None:
    """Every state file parses, nothing was moved aside, every pause entry's context exists,
    git has no lock left and the user's uncommitted work is still on disk."""
    leftovers = [p.name for p in home.rglob("*") if ".corrupt-" in p.name]
    assert not leftovers, leftovers
    state = home / "pause-state.json"
    pause = json.loads(state.read_text()) if state.exists() else {"projects": {}}
    for entry in pause["projects"].values():
        assert Path(entry["context_file"]).is_file(), entry
    for path in (home / "claude-session" / "ledger").glob("*.json"):
        assert json.loads(path.read_text())["session_id"]
    assert not (repo / ".git" / "index.lock").exists()
    assert (repo / "work.py").read_text() == "UNCOMMITTED-WORK = 1\n"
    git(repo, "fsck", "--no-progress")


def _reset_home(home: Path) -> None:
    for child in home.iterdir():
        if child.is_dir():
            subprocess.run(["rm", "-rf", str(child)], check=True)
        else:
            child.unlink()


@pytest.fixture
def fresh(tmp_path: Path, isolated_home: Path):  # type: ignore[no-untyped-def]
    """Per crash point: an empty home and a new folder for the repository."""
    counter = iter(range(1000))

    def make(flow: str) -> Path:
        _reset_home(isolated_home)
        return _setup(tmp_path / f"point{next(counter)}", flow)

    return make


def test_pause_crash_at_every_write_loses_no_context(
    tmp_path: Path, isolated_home: Path, fresh
) -> None:  # type: ignore[no-untyped-def]
    points = _points(tmp_path, "pause")
    # context written, WIP commit, context rewritten with the WIP sha, pause entry, ledger
    assert any(p.startswith("write contexts/") for p in points), points
    assert any(p.startswith("git commit") for p in points), points
    assert "write pause-state.json" in points and "write ledger/s.json" in points, points
    for n, label in enumerate(points, start=1):
        repo = fresh("pause")
        crashed = _run("pause", n, tmp_path / f"log{n}", repo)
        assert crashed.returncode == -9, (label, crashed.stderr)
        _assert_state_consistent(isolated_home, repo)
        with Core() as core:
            again = core.pause(
                repo,
                session_id="s",
                summary="PAUSE-MARK summary",
                next_steps=["NEXT-MARK step"],
                wip_commit=True,
            )
            assert "PAUSE-MARK" in Path(again.context_file).read_text(), label
            resumed = core.resume(repo, session_id="s")
        assert resumed.status == "ready", (label, resumed)
        assert "PAUSE-MARK" in resumed.context and "NEXT-MARK" in resumed.context, label
        _assert_state_consistent(isolated_home, repo)
        # the uncommitted work is in exactly one WIP commit, never in two
        wips = git(repo, "log", "--format=%s", "--grep=WIP").splitlines()
        assert len(wips) == 1, (label, wips)


def _ends_of(session_id: str, core: Core) -> list[SessionRecord]:
    """The session's records but its pause's (a stretch of its own, sent with the pause)."""
    return [
        r
        for r in core.history(limit=10).records
        if r.claude_session_id == session_id and r.end_mode != "paused"
    ]


def _records_of(session_id: str) -> list[str]:
    """The session's end records (the pause before it sent its own, a stretch of its own)."""
    with Core() as core:
        return [
            r.id
            for r in core.history(limit=100).records
            if r.claude_session_id == session_id and r.end_mode != "paused"
        ]


def test_end_crash_at_every_write_then_rerun_leaves_one_record(
    tmp_path: Path, isolated_home: Path, fresh
) -> None:  # type: ignore[no-untyped-def]
    points = _points(tmp_path, "end")
    # ledger (record id fixed), commit, context, push, outbox, tracker, ledger closed, pause
    for wanted in (
        "git commit end of session",
        "git push",
        "outbox put",
        "tracker store record",
        "write pause-state.json",
    ):
        assert wanted in points, (wanted, points)
    assert any(p.startswith("write contexts/") for p in points), points
    # After the ledger is closed the flow is complete: ending again is refused (test_seams).
    closing = [n for n, p in enumerate(points, start=1) if p == "write ledger/s.json"][-1]
    failures = []
    for n, label in enumerate(points, start=1):
        repo = fresh("end")
        crashed = _run("end", n, tmp_path / f"log{n}", repo)
        assert crashed.returncode == -9, (label, crashed.stderr)
        _assert_state_consistent(isolated_home, repo)
        with Core() as core:
            if n >= closing:  # the flow had completed: ending again is refused, never a copy
                with pytest.raises(NoActiveSession):
                    core.end(
                        repo,
                        session_id="s",
                        summary="END-MARK summary",
                        push=True,
                        message="end of session",
                    )
                assert len(_records_of("s")) == 1, label
                continue
            ended = core.end(
                repo,
                session_id="s",
                summary="END-MARK summary",
                push=True,
                message="end of session",
            )
        assert ended.tracker == "local", (label, ended.tracker)
        assert "END-MARK" in Path(ended.context_file or "").read_text(), label
        _assert_state_consistent(isolated_home, repo)
        pause = json.loads((isolated_home / "pause-state.json").read_text())["projects"]
        assert str(repo.resolve()) not in pause, label
        records = _records_of("s")
        if n < closing and len(records) != 1:
            failures.append(f"after a crash at write {n} ({label}): {len(records)} records")
        # the work reached the remote exactly once
        assert git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", "origin/main"), label
        assert "UNCOMMITTED-WORK" in git(repo, "show", "HEAD:work.py"), label
    assert not failures, failures


def test_end_rerun_after_crash_past_the_ledger_close_makes_no_second_record(
    tmp_path: Path, isolated_home: Path
) -> None:
    """The crash falls after the record was stored and the pause cleared, before the ledger
    entry is marked ended (it stays 'ending'); the user runs end again: one record."""
    points = _points(tmp_path, "end")
    closing = points.index("write pause-state.json") + 1
    _reset_home(isolated_home)
    repo = _setup(tmp_path / "late", "end")
    assert _run("end", closing, tmp_path / "late.log", repo).returncode == -9
    with Core() as core:
        core.end(repo, session_id="s", summary="END-MARK summary", push=False)
    assert len(_records_of("s")) == 1


def test_crashed_end_is_not_overwritten_by_the_unended_record_of_its_session(
    tmp_path: Path, isolated_home: Path
) -> None:
    from claude_session.base import sessions

    points = _points(tmp_path, "end")
    stored = points.index("tracker store record") + 1
    _reset_home(isolated_home)
    repo = _setup(tmp_path / "orphan", "end")
    assert _run("end", stored, tmp_path / "orphan.log", repo).returncode == -9
    # Claude Code exits: its SessionEnd hook spools the record end wrote into the ledger
    # (never an 'unended' one that would overwrite it)
    assert sessions.finalize_session(Paths(isolated_home), "s")
    with Core() as core:
        core.sync()
        records = _ends_of("s", core)
    assert len(records) == 1
    assert records[0].summary == "END-MARK summary" and records[0].end_mode == "standard"


def test_end_crash_at_every_write_leaves_no_change_or_a_record_that_is_delivered(
    tmp_path: Path, isolated_home: Path, fresh
) -> None:  # type: ignore[no-untyped-def]
    """No re-run of end: Claude Code exits (its SessionEnd hook finalizes) and the next sync
    delivers. Before end wrote its record into the ledger, the session is an unended one
    (still one record, its id fixed); from that write on, it is end's record."""
    from claude_session.base import sessions

    points = _points(tmp_path, "end")
    outbox = points.index("outbox put")
    # the write that makes the record the ledger's: the last ledger write before the outbox
    owned = max(n for n, p in enumerate(points[:outbox], start=1) if p == "write ledger/s.json")
    failures = []
    for n, label in enumerate(points, start=1):
        repo = fresh("end")
        crashed = _run("end", n, tmp_path / f"nolog{n}", repo)
        assert crashed.returncode == -9, (label, crashed.stderr)
        _assert_state_consistent(isolated_home, repo)
        sessions.finalize_session(Paths(isolated_home), "s")  # the SessionEnd hook
        with Core() as core:
            core.sync()
            records = _ends_of("s", core)
        _assert_state_consistent(isolated_home, repo)
        kind = "end" if n >= owned else "unended"
        if kind == "unended" and not records:
            continue  # nothing happened since the pause, whose record holds the session
        if len(records) != 1:
            failures.append(f"crash at write {n} ({label}): {len(records)} records")
        elif kind == "end" and (records[0].summary, records[0].end_mode) != (
            "END-MARK summary",
            "standard",
        ):
            failures.append(
                f"crash at write {n} ({label}): not end's record: "
                f"{records[0].end_mode} {records[0].summary[:40]!r}"
            )
        elif kind == "unended" and records[0].end_mode not in ("paused", "unended"):
            failures.append(f"crash at write {n} ({label}): {records[0].end_mode}")
        if kind == "end":  # what end would have cleared is cleared
            pause = json.loads((isolated_home / "pause-state.json").read_text())["projects"]
            if str(repo.resolve()) in pause:
                failures.append(f"crash at write {n} ({label}): the pause is left")
    assert not failures, failures


_ = Paths  # the home layout the assertions walk is Paths' (pause-state.json, ledger/, contexts/)
