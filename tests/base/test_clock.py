"""``clock.now_iso`` writes the text ``datetime.isoformat`` writes, without ``datetime``."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from claude_session.base import clock


@pytest.mark.parametrize("nanoseconds", [0, 1_000, 999_999_000, 1_764_888_000_123_456_789])
def test_now_iso_is_the_isoformat_of_that_moment(
    nanoseconds: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "time_ns", lambda: nanoseconds)
    moment = datetime.fromtimestamp(nanoseconds // 1000 / 1_000_000, timezone.utc)
    assert clock.now_iso() == moment.isoformat()  # no fraction when the microseconds are 0


def test_now_iso_reads_back_as_now() -> None:
    before = clock.now()
    stamp = clock.now_iso()
    parsed = clock.parse_time(stamp)
    assert parsed is not None and parsed.isoformat() == stamp
    assert before <= parsed <= clock.now()
