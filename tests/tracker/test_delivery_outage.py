"""1,000 ends while the tracker goes down and comes back: every record reaches the tracker
exactly once. The tracker is the real service over HTTP on 127.0.0.1, stopped and restarted on
the same port; the ends are ``Core.end`` in this process with the HTTP tracker configured."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from claude_session.core.facade import Core
from claude_session.tracker.service.app import create_api_key, create_app
from helpers.tracker_service import closed_port, serve

pytestmark = pytest.mark.slow

UP_BEFORE, DURING, UP_AFTER = 50, 100, 50  # a thousand and more: bench/bench_outbox.py


def _stored_ids(base: str, key: str) -> list[str]:
    ids: list[str] = []
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        params: dict[str, str | int] = {"limit": 500}
        while True:
            page = client.get("/api/sessions", params=params).json()
            ids.extend(s["id"] for s in page["sessions"])
            if page["next_cursor"] is None:
                return ids
            params = {"limit": 500, "cursor": page["next_cursor"]}


@pytest.fixture
def tracker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str, int]]:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    key = create_api_key(url, "dev")
    port = closed_port()
    monkeypatch.setenv("CLAUDE_SESSION_TRACKER_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("CLAUDE_SESSION_TRACKER_TOKEN", key)
    yield url, key, port


def _end_many(core: Core, folder: Path, first: int, count: int) -> dict[str, str]:
    outcomes = {}
    for i in range(first, first + count):
        ended = core.end(
            folder, session_id=f"s{i:04d}", summary=f"session {i}", push=False, force=True
        )
        outcomes[ended.record.id] = ended.tracker
    return outcomes


def _outage(tmp_path: Path, tracker: tuple[str, str, int]) -> tuple[Core, dict[str, str]]:
    url, _, port = tracker
    folder = tmp_path / "project"
    folder.mkdir()
    core = Core()
    with serve(create_app(url), port=port):
        outcomes = _end_many(core, folder, 0, UP_BEFORE)
    assert set(outcomes.values()) == {"sent"}
    down = _end_many(core, folder, UP_BEFORE, DURING)
    assert set(down.values()) == {"queued"}
    outcomes.update(down)
    return core, outcomes


def test_two_hundred_ends_through_an_outage_reach_the_tracker_exactly_once(
    tmp_path: Path, tracker: tuple[str, str, int]
) -> None:
    url, key, port = tracker
    started = time.monotonic()
    core, outcomes = _outage(tmp_path, tracker)
    folder = tmp_path / "project"
    with serve(create_app(url), port=port) as base:
        outcomes.update(_end_many(core, folder, UP_BEFORE + DURING, UP_AFTER))
        for _ in range(100):  # what `claude-session sync` does, until nothing waits
            report = core.delivery.drain(force=True, limit=200, budget=30)
            if report.remaining == 0:
                break
        assert report.remaining == 0 and core.delivery.depth() == 0, report
        stored = _stored_ids(base, key)
    core.close()
    assert len(outcomes) == UP_BEFORE + DURING + UP_AFTER
    assert len(stored) == len(set(stored)) == len(outcomes)  # nothing twice
    assert set(stored) == set(outcomes)  # nothing lost
    assert time.monotonic() - started < 150


def test_sync_after_the_tracker_comes_back_sends_what_waits(
    tmp_path: Path, tracker: tuple[str, str, int]
) -> None:
    """An explicit sync sends even while the outbox backs off after the outage (it did not
    before lifecycle.Core.sync drained with force=True)."""
    url, key, port = tracker
    folder = tmp_path / "project"
    folder.mkdir()
    with Core() as core:
        with serve(create_app(url), port=port):
            _end_many(core, folder, 0, 1)
        _end_many(core, folder, 1, 5)  # down: queued, the outbox starts backing off
        with serve(create_app(url), port=port) as base:
            synced = core.sync()
            assert synced.sent == 5 and synced.remaining == 0, synced
            assert len(_stored_ids(base, key)) == 6
