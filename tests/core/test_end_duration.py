"""A session's duration counts worked time, not paused time (newcomer-2: sessions.py counted
``ended - started``). In process, a clock the test moves, real git."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from claude_session.core.facade import Core
from helpers.gitrepo import make_repo


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def wait(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


def test_the_time_between_a_pause_and_its_resume_is_in_no_record(tmp_path: Path) -> None:
    """A pause closes a stretch (its record sent); the stretch after it starts when the same
    session picks the pause up again (resume, or start), not at the pause."""
    repo = make_repo(tmp_path / "app")
    clock = Clock()
    with Core(now=clock) as core:
        core.start(repo, session_id="s")
        clock.wait(30)
        core.pause(repo, session_id="s", summary="lunch")
        clock.wait(60)  # paused
        core.resume(repo, session_id="s")
        clock.wait(20)
        core.pause(repo, session_id="s", summary="meeting")
        clock.wait(45)  # paused
        core.start(repo, session_id="s")  # picking the pause up as start does
        clock.wait(10)
        ended = core.end(repo, session_id="s", summary="done", push=False)
        records = core.history(limit=10).records
    assert ended.record.duration_minutes == 10
    assert sorted(r.duration_minutes for r in records) == [10, 20, 30]


def test_another_session_resuming_the_pause_counts_from_its_own_start(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app")
    clock = Clock()
    with Core(now=clock) as core:
        core.pause(repo, session_id="a", summary="half")
        clock.wait(90)
        core.resume(repo, session_id="b")
        clock.wait(15)
        ended = core.end(repo, session_id="b", summary="done", push=False)
    assert ended.record.duration_minutes == 15
