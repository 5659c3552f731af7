"""On a slow link, the deadline a command gets from 1Password's measured times (when the person
chose none) lets a hand-off through that the fixed 5 s would have sent to the queue
(findings/onepassword-2.md L7). Each command runs as a new process would (``op_sdk.reset``):
it signs in again. The fake 1Password's calls take their time on the fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.paths import Paths
from claude_session.vault import op_latency, op_sdk
from claude_session.vault.op_latency import LatencyMemory
from helpers.fake_onepassword import FakeOnePassword
from helpers.handoff_world import core, fake, pending_requests, repo, settings, warned

__all__ = ["core", "fake", "repo", "settings"]  # the fixtures used here

SLOW = 1.2  # seconds each request takes, sign-in included: a hand-off needs 5 of them


def _latency(settings: Settings) -> dict[str, dict[str, list[float]]]:
    return dict(json.loads((Paths(settings.home).data / op_latency.FILE_NAME).read_text()))


def test_L7_a_slow_link_measured_once_gives_the_handoff_the_time_it_needs(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """L7: start measures a 1.2 s sign-in and 1.2 s calls; the pause after it, a new process
    needing sign-in and four calls (6 s), gets twice that and makes its item at once, where
    the fixed 5 s left it waiting with "did not answer"."""
    fake.stall("*", seconds=SLOW)
    with core() as c:
        c.start(repo, session_id="s1")
    [measured] = _latency(settings).values()
    assert measured == {"sign_in": [SLOW], "call": [SLOW]}
    op_sdk.reset()  # a new process
    with core() as c:
        assert c.vault.deadline() == pytest.approx(2 * 6 * SLOW)  # what doctor waits for
        paused = c.pause(repo, session_id="s1", summary="half", handoff=True)
    assert paused.handoff_item is not None, paused.warnings
    assert pending_requests(settings) == [] and len(fake.items) == 1


def test_L7_a_deadline_the_person_chose_is_kept_whatever_was_measured(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """L7: with ``op_deadline`` set, the measures do not change it: the slow hand-off waits,
    and the message says what happened."""
    fake.stall("*", seconds=SLOW)
    with core() as c:
        c.start(repo, session_id="s1")
    op_sdk.reset()
    with core(use=settings.replace(op_deadline=5.5, problems=())) as c:
        chosen = c.pause(repo, session_id="s1", summary="half", handoff=True)
    assert chosen.handoff_item is None and len(pending_requests(settings)) == 1
    warned(chosen, "Nothing is lost")


def test_L7_the_learned_deadline_is_bounded_and_measures_only_answers(tmp_path: Path) -> None:
    """L7: no measure, 5 s; fast answers never go below 5 s; a very slow link never above
    30 s (a 1Password that stopped answering still costs a bounded time); the median of
    the last commands decides, so one slow command does not."""
    memory = LatencyMemory(tmp_path / "latency.json", "key")
    assert memory.deadline() == 5.0
    memory.record(sign_in=0.3, call=0.1)
    assert memory.deadline() == 5.0
    for _ in range(3):
        memory.record(sign_in=1.0, call=0.8)
    assert memory.deadline() == pytest.approx(2 * (1.0 + 5 * 0.8))
    memory.record(sign_in=None, call=50.0)  # one very slow call: the median holds
    assert memory.deadline() == pytest.approx(2 * (1.0 + 5 * 0.8))
    for _ in range(op_latency.KEPT):
        memory.record(sign_in=20.0, call=9.0)
    assert memory.deadline() == op_latency.LONGEST
    assert len(memory.samples()["call"]) == op_latency.KEPT
