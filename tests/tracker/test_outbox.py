"""The durable outbox (``tracker/outbox.py``) on real SQLite: one row per record, versions,
leases (a clock the test moves), claims in order, the backoff."""

from __future__ import annotations

import stat

from claude_session.paths import Paths
from claude_session.tracker.outbox import Outbox, backoff_delay
from helpers.records import record

# --- the outbox file ------------------------------------------------------------------------


def test_queuing_a_record_twice_keeps_one_row(paths: Paths) -> None:
    box = Outbox(paths.outbox_db)
    rec = record()
    assert box.put(rec) == 1
    assert box.put(rec.model_copy(update={"summary": "newer"})) == 2
    assert box.depth() == 1
    (entry,) = box.claim(10)
    assert entry.record().summary == "newer"


def test_the_outbox_file_is_private(paths: Paths) -> None:
    Outbox(paths.outbox_db).put(record())
    assert stat.S_IMODE(paths.outbox_db.stat().st_mode) == 0o600


def test_confirming_an_old_version_keeps_a_newer_copy_queued_meanwhile(paths: Paths) -> None:
    box = Outbox(paths.outbox_db)
    rec = record()
    box.put(rec)
    (sent,) = box.claim(10)
    box.put(rec.model_copy(update={"summary": "written while the old copy was on the wire"}))
    assert box.confirm([sent]) == 0
    (again,) = box.claim(10)
    assert again.record().summary.startswith("written while")


def test_a_claimed_record_is_not_claimed_again_until_its_lease_ends(paths: Paths) -> None:
    now = [1_800_000_000.0]
    box = Outbox(paths.outbox_db, clock=lambda: now[0])
    box.put(record())
    assert len(box.claim(10, lease=30)) == 1
    now[0] += 29
    assert box.claim(10) == []
    now[0] += 1
    assert len(box.claim(10)) == 1


def test_records_are_claimed_oldest_first(paths: Paths) -> None:
    box = Outbox(paths.outbox_db)
    ids = [record().id for _ in range(5)]
    for rid in ids:
        box.put(record(id=rid))
    assert [e.id for e in box.claim(3)] + [e.id for e in box.claim(3)] == ids


def test_backoff_doubles_from_15_seconds_up_to_15_minutes_and_honours_retry_after() -> None:
    assert [backoff_delay(n) for n in (1, 2, 3)] == [15, 30, 60]
    assert backoff_delay(20) == 900
    assert backoff_delay(1, retry_after=120) == 120


def test_a_success_clears_the_backoff_and_the_last_error(paths: Paths) -> None:
    box = Outbox(paths.outbox_db)
    box.note_failure("down")
    second = box.note_failure("still down")
    assert second.failures == 2 and second.remaining() > 25
    assert box.last_error() == "still down"
    box.note_success()
    assert box.backoff().remaining() == 0 and box.last_error() is None


# --- deliver: the end flow ------------------------------------------------------------------


# --- drain ----------------------------------------------------------------------------------


# --- outages and crashes: nothing lost, nothing twice ---------------------------------------


# --- through the core -----------------------------------------------------------------------
