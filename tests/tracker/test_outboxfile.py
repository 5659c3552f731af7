"""The outbox file as a process holds it (``tracker/outboxfile.py``): the drain lock."""

from __future__ import annotations

from claude_session.paths import Paths
from claude_session.tracker.outboxfile import drain_lock


def test_only_one_process_drains_at_a_time(paths: Paths) -> None:
    with drain_lock(paths.outbox_db) as first, drain_lock(paths.outbox_db) as second:
        assert first and not second
    with drain_lock(paths.outbox_db) as again:
        assert again
