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


def test_the_time_between_a_pause_and_its_resume_is_not_in_the_duration(tmp_path: Path) -> None:
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
    assert ended.record.duration_minutes == 60  # 30 + 20 + 10


def test_a_session_ended_while_paused_counts_until_its_pause(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app")
    clock = Clock()
    with Core(now=clock) as core:
        core.start(repo, session_id="s")
        clock.wait(25)
        core.pause(repo, session_id="s", summary="stopping here")
        clock.wait(120)
        ended = core.end(repo, session_id="s", summary="done", push=False)
    assert ended.record.duration_minutes == 25


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
