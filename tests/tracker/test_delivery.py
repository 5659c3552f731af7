"""Getting records to the tracker without losing one (``tracker/delivery.py``): deliver, drain,
the hooks' spool, keys refused, records refused or failed on; nothing lost when the tracker is
down, slow or killed midway, nothing sent twice, and no record holds back the others (issue 10,
redteam C1). The tracker is the real service on 127.0.0.1 (``Faults`` in front of it answers
chosen requests); rows are counted in the tracker's own database."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.errors import StateError
from claude_session.models import MaintenanceRun, SessionRecord
from claude_session.paths import Paths
from claude_session.tracker import LocalTracker, open_tracker
from claude_session.tracker.client import HttpTracker
from claude_session.tracker.delivery import DELIVER_BUDGET, PROBE_LIMIT, Delivery
from claude_session.tracker.outbox import DEAD_AFTER, Outbox
from claude_session.tracker.outboxfile import drain_lock
from claude_session.tracker.store.limits import MAX_INT
from helpers.gitrepo import make_repo
from helpers.records import awkward_record, record
from helpers.tracker_service import Fault, Faults, Service, closed_port, serve, tracker_service

ROOT = Path(__file__).resolve().parents[2]


# --- helpers ----------------------------------------------------------------------------------


def remote(url: str, key: str | None, **options: object) -> HttpTracker:
    options.setdefault("backoff", 0.01)
    return HttpTracker(url, key, **options)  # type: ignore[arg-type]


def delivery(paths: Paths, service: Service, key: str | None = None) -> Delivery:
    """Delivery to the service with its key (or ``key``)."""
    return Delivery(paths, remote(service.url, key or service.key))


def dead(paths: Paths) -> Delivery:
    return Delivery(paths, remote(f"http://127.0.0.1:{closed_port()}", "k"))


def queue(paths: Paths, count: int) -> list[str]:
    records = [record() for _ in range(count)]
    Outbox(paths.outbox_db).put_many(records)
    return [r.id for r in records]


def spool(paths: Paths, rec: SessionRecord) -> Path:
    """What the hooks do: a JSON file per record under claude-session/spool/."""
    target = paths.data / "spool" / f"{rec.id}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(rec.model_dump_json())
    return target


def remote_settings(home: Path, url: str, key: str) -> Settings:
    return Settings.from_env(
        {
            "CLAUDE_CONFIG_DIR": str(home),
            "CLAUDE_SESSION_TRACKER_URL": url,
            "CLAUDE_SESSION_TRACKER_TOKEN": key,
        }
    )


POISON = Fault(500, body={"error": "Internal Server Error"})


DRAINER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {server!r})
    from claude_session.paths import Paths
    from claude_session.tracker.client import HttpTracker
    from claude_session.tracker.delivery import Delivery
    from pathlib import Path
    Delivery(Paths(Path({home!r})), HttpTracker({url!r}, {key!r})).drain(limit=1000,
                                                                         budget=120)
""")


# --- deliver: the end flow --------------------------------------------------------------------


def test_deliver_sends_and_leaves_nothing_behind(paths: Paths, service: Service) -> None:
    result = delivery(paths, service).deliver(rec := record())
    assert result.outcome == "sent"
    assert service.ids() == [rec.id]
    assert Outbox(paths.outbox_db).depth() == 0


def test_deliver_to_the_local_tracker_is_immediate(paths: Paths) -> None:
    with LocalTracker(paths.tracker_db) as local:
        result = Delivery(paths, local).deliver(rec := record())
        assert result.outcome == "local"
        assert local.get_session(rec.id) is not None
    assert Delivery(paths, LocalTracker(paths.tracker_db)).depth() == 0


def test_a_dead_tracker_queues_the_record_and_says_so(paths: Paths) -> None:
    result = dead(paths).deliver(record())
    assert result.outcome == "queued"
    assert result.warning and "claude-session sync" in result.warning
    box = Outbox(paths.outbox_db)
    assert box.depth() == 1 and box.backoff().remaining() > 0
    assert "cannot be reached" in (box.last_error() or "")


def test_while_backing_off_deliver_queues_without_touching_the_network(
    paths: Paths, service: Service
) -> None:
    Outbox(paths.outbox_db).note_failure("down a moment ago")
    service.faults.always(Fault(delay=5.0))
    result = delivery(paths, service).deliver(record())
    assert result.outcome == "queued" and "not trying again before" in (result.detail or "")
    assert service.faults.hits == []  # the network was never touched


def test_the_end_flow_waits_a_few_seconds_at_most_on_a_hanging_tracker(
    paths: Paths, service: Service
) -> None:
    service.faults.always(Fault(delay=120.0))
    started = time.monotonic()
    result = delivery(paths, service).deliver(record())
    assert result.outcome == "queued"
    # the budget, not the tracker, decided: far below the tracker's 120 s (no tight bound)
    assert time.monotonic() - started < 60


def test_a_503_then_ok_inside_deliver_is_sent(paths: Paths, service: Service) -> None:
    service.faults.add(Fault(503))
    assert delivery(paths, service).deliver(record()).outcome == "sent"
    assert service.rows() == 1


def test_a_refused_key_parks_the_record_and_logs_the_error(
    paths: Paths, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    result = delivery(paths, service, key="wrong-key-0000").deliver(record())
    assert result.outcome == "auth_failed"
    assert "refused the key" in (result.warning or "")
    assert Outbox(paths.outbox_db).counts()["auth_failed"] == 1
    assert any(
        r.levelname == "ERROR" and "refused the key" in r.getMessage() for r in caplog.records
    )
    assert not any("wrong-key-0000" in r.getMessage() for r in caplog.records)


def test_parked_records_wait_while_the_key_is_unchanged(paths: Paths, service: Service) -> None:
    delivery(paths, service, key="wrong-key-0000").deliver(record())
    before = service.faults.posts()
    report = delivery(paths, service, key="wrong-key-0000").drain()
    assert service.faults.posts() == before
    assert report.auth_failed == 1 and report.remaining == 1
    assert "valid tracker key" in (report.last_error or "") or "refused" in (
        report.last_error or ""
    )


def test_parked_records_go_once_the_key_changes(paths: Paths, service: Service) -> None:
    rec = record()
    delivery(paths, service, key="wrong-key-0000").deliver(rec)
    report = delivery(paths, service).drain()
    assert report.sent == 1 and report.remaining == 0
    assert service.ids() == [rec.id]


def test_parked_records_go_after_a_later_successful_send(paths: Paths, service: Service) -> None:
    service.faults.add(Fault(401, body={"error": "key revoked for a moment"}))
    first, second = record(), record()
    sender = delivery(paths, service)
    assert sender.deliver(first).outcome == "auth_failed"
    assert sender.deliver(second).outcome == "sent"
    assert sender.drain().sent == 1
    assert sorted(service.ids()) == sorted([first.id, second.id])


def test_a_refused_record_is_kept_as_a_dead_letter_naming_the_field(
    paths: Paths, service: Service
) -> None:
    sender = delivery(paths, service)
    result = sender.deliver(record(id="not-a-uuid"))
    assert result.outcome == "rejected" and "field 'id'" in (result.detail or "")
    box = Outbox(paths.outbox_db)
    (letter,) = box.dead_letters()
    assert (letter.id, letter.state, letter.field) == ("not-a-uuid", "rejected", "id")
    before = service.faults.posts()
    report = sender.drain()
    assert service.faults.posts() == before  # a dead letter is not resent by itself
    assert report.rejected == 1 and sender.depth() == 1
    assert "field 'id'" in (sender.last_error() or "")
    assert box.requeue_rejected() == 1 and box.counts()["pending"] == 1


def test_an_unusable_outbox_still_sends_and_warns(paths: Paths, service: Service) -> None:
    paths.outbox_db.mkdir(parents=True)  # a folder where the database file should be
    result = delivery(paths, service).deliver(rec := record())
    assert result.outcome == "sent" and "outbox" in (result.warning or "")
    assert service.ids() == [rec.id]


def test_an_unusable_outbox_and_a_dead_tracker_is_an_error_not_a_silent_loss(paths: Paths) -> None:
    paths.outbox_db.mkdir(parents=True)
    with pytest.raises(StateError, match="end the session again"):
        dead(paths).deliver(record())


# --- drain ------------------------------------------------------------------------------------


def test_drain_sends_what_waits_and_is_capped_per_run(paths: Paths, service: Service) -> None:
    ids = queue(paths, 30)
    sender = delivery(paths, service)
    first = sender.drain(limit=10)
    assert (first.sent, first.remaining) == (10, 20)
    assert sender.drain(limit=100).sent == 20
    assert sorted(service.ids()) == sorted(ids)


def test_drain_stops_at_the_first_sign_the_tracker_is_down(paths: Paths, service: Service) -> None:
    queue(paths, 10)
    service.faults.always(Fault(503))
    report = delivery(paths, service).drain()
    assert report.sent == 0 and report.remaining == 10
    assert service.faults.posts() <= 3  # one record's retries, not ten records'
    assert "HTTP 503" in (report.last_error or "")


def test_drain_skips_sending_while_backing_off_unless_forced(
    paths: Paths, service: Service
) -> None:
    queue(paths, 3)
    Outbox(paths.outbox_db).note_failure("down a moment ago")
    skipped = delivery(paths, service).drain()
    assert skipped.sent == 0 and skipped.skipped and service.faults.hits == []
    assert delivery(paths, service).drain(force=True).sent == 3


def test_a_long_retry_after_backs_the_outbox_off_that_long(paths: Paths, service: Service) -> None:
    queue(paths, 2)
    service.faults.add(Fault(429, headers={"Retry-After": "600"}))
    report = delivery(paths, service).drain()
    assert report.sent == 0
    assert Outbox(paths.outbox_db).backoff().remaining() > 590


def test_drain_is_skipped_while_another_process_drains(paths: Paths, service: Service) -> None:
    queue(paths, 2)
    with drain_lock(paths.outbox_db):
        report = delivery(paths, service).drain()
    assert report.sent == 0 and "another" in (report.skipped or "")


def test_drain_waits_a_little_for_one_under_way_then_sends(paths: Paths, service: Service) -> None:
    """The MCP server's startup sync holds the drain as the first tool call (start, end)
    drains: the call waits for it instead of leaving its records to a sync that may not get
    to finish (Claude Code stops the server when its turn is over)."""
    import threading

    queue(paths, 2)
    held, release = threading.Event(), threading.Event()

    def other_drain() -> None:
        with drain_lock(paths.outbox_db):
            held.set()
            release.wait(5)

    other = threading.Thread(target=other_drain)
    other.start()
    held.wait(5)
    threading.Timer(0.5, release.set).start()
    report = delivery(paths, service).drain()
    other.join()
    assert report.sent == 2 and report.skipped is None


def test_drain_moves_the_hooks_spool_into_the_outbox_first(paths: Paths, service: Service) -> None:
    rec = record()
    spooled = spool(paths, rec)
    sender = delivery(paths, service)
    assert sender.depth() == 1
    report = sender.drain()
    assert report.sent == 1 and not spooled.exists()
    assert service.ids() == [rec.id]


def test_spooled_records_stay_in_the_outbox_while_the_tracker_is_down(paths: Paths) -> None:
    spooled = spool(paths, record())
    report = dead(paths).drain()
    assert not spooled.exists() and report.remaining == 1
    assert Outbox(paths.outbox_db).depth() == 1


def test_an_unreadable_spool_file_is_moved_aside_with_a_warning(
    paths: Paths, service: Service
) -> None:
    bad = paths.data / "spool" / "broken.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json")
    with flow.begin() as current:  # the spool's owner tells the calling flow
        delivery(paths, service).drain()
    assert current.warnings and "moved" in current.warnings[0]
    assert not bad.exists() and list(bad.parent.glob("broken.json.corrupt-*"))


# --- outages and crashes: nothing lost, nothing twice -----------------------------------------


def test_after_an_outage_every_record_arrives_exactly_once(paths: Paths, tmp_path: Path) -> None:
    with tracker_service(tmp_path) as first:
        url, key, port = first.url, first.key, int(first.url.rsplit(":", 1)[1])
        database = first.database
    # The tracker is down: every end queues its record (the first tries, the rest back off).
    ids = [record() for _ in range(5)]
    outcomes = {Delivery(paths, remote(url, key)).deliver(r).outcome for r in ids}
    assert outcomes == {"queued"}
    # Back up on the same address and database; a start or sync drains the outbox.
    with tracker_service(tmp_path, port=port) as again:
        assert again.database == database
        again.key = key
        report = Delivery(paths, remote(url, key)).drain(force=True)
        assert report.sent == 5 and report.remaining == 0
        assert Delivery(paths, remote(url, key)).drain(force=True).sent == 0
        assert sorted(again.ids()) == sorted(r.id for r in ids)
        assert again.rows() == 5


def test_a_drain_killed_midway_loses_nothing_and_duplicates_nothing(
    paths: Paths, service: Service
) -> None:
    ids = queue(paths, 40)
    service.faults.always(Fault(delay=0.05))  # slow enough to kill the drainer mid-way
    script = DRAINER.format(
        server=str(ROOT / "server"), home=str(paths.home), url=service.url, key=service.key
    )
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while service.rows() < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    landed = service.rows()
    assert 8 <= landed < 40, "the kill did not land mid-drain"
    service.faults.always(None)
    report = delivery(paths, service).drain(limit=100, force=True)
    assert report.remaining == 0
    assert sorted(service.ids()) == sorted(ids)
    assert service.rows() == 40


def test_status_shows_the_outbox_depth_and_last_error(paths: Paths) -> None:
    sender = dead(paths)
    sender.deliver(record())
    spool(paths, record())
    assert sender.depth() == 2
    assert sender.counts() == {"pending": 1, "auth_failed": 0, "rejected": 0, "spooled": 1}
    assert "cannot be reached" in (sender.last_error() or "")


# --- one record the tracker fails on (issue 10) -----------------------------------------------


def test_a_record_the_tracker_fails_on_does_not_hold_back_the_others(
    paths: Paths, service: Service
) -> None:
    box = Outbox(paths.outbox_db)
    poison = record(summary="the tracker fails on this one")
    normal = [record(summary=f"normal {n}") for n in range(5)]
    box.put_many([poison, *normal])  # the poison is the oldest
    service.faults.for_record(poison.id, POISON)
    sender = delivery(paths, service)

    first = sender.drain()
    assert first.sent == 5 and sorted(service.ids()) == sorted(r.id for r in normal)
    assert box.backoff().remaining() == 0  # the tracker works: no backoff
    (struck,) = box.claim(10, lease=0.0)
    assert (struck.id, struck.failures) == (poison.id, 1)
    box.release([struck])
    assert "failed on" in (sender.last_error() or "") and "HTTP 500" in (sender.last_error() or "")

    # Later drains try it alone: the tracker answers a read, so each failure is a strike.
    reports = [sender.drain() for _ in range(DEAD_AFTER - 1)]
    moved = [any(poison.id in w and "refused" in w for w in r.warnings) for r in reports]
    assert moved == [False] * (DEAD_AFTER - 2) + [True]
    (letter,) = sender.dead_letters()
    assert (letter.id, letter.state, letter.application) == (poison.id, "rejected", "widgets")
    assert "HTTP 500" in (letter.error or "") and "Internal Server Error" in (letter.error or "")
    assert any(poison.id in w and "--retry-rejected" in w for w in reports[-1].warnings)
    assert sender.counts()["rejected"] == 1 and sender.depth() == 1  # kept, not dropped

    # A dead letter is not sent by itself; --retry-rejected brings it back.
    before = service.faults.posts()
    assert sender.drain().sent == 0 and service.faults.posts() == before
    service.faults.for_record(poison.id, None)  # the tracker was fixed
    again = sender.drain(force=True, retry_rejected=True)
    assert again.sent == 1 and sender.depth() == 0
    assert sorted(service.ids()) == sorted(r.id for r in [poison, *normal])
    assert service.rows() == 6


def test_a_struck_record_is_tried_after_newer_ones_and_with_one_try(
    paths: Paths, service: Service
) -> None:
    box = Outbox(paths.outbox_db)
    poison, other = record(), record()
    box.put(poison)
    service.faults.for_record(poison.id, POISON)
    sender = delivery(paths, service)
    sender.drain()  # strike 1
    box.put(other)
    claimed = box.claim(10, lease=0.0)
    assert [e.id for e in claimed] == [other.id, poison.id]  # the newer record goes first
    box.release(claimed)
    posts = service.faults.posts()
    report = sender.drain()
    assert report.sent == 1 and service.ids() == [other.id]
    assert service.faults.posts() == posts + 2  # the struck record got one POST, no retries


def test_the_end_flow_with_a_poison_record_queues_it_without_backing_off(
    paths: Paths, service: Service
) -> None:
    poison = record()
    service.faults.for_record(poison.id, POISON)
    sender = delivery(paths, service)
    result = sender.deliver(poison)
    assert result.outcome == "queued" and "HTTP 500" in (result.detail or "")
    assert "tried again after the others" in (result.warning or "")
    assert Outbox(paths.outbox_db).backoff().remaining() == 0
    following = record()
    assert sender.deliver(following).outcome == "sent"  # not held back by a backoff
    assert service.ids() == [following.id]


def test_a_tracker_failing_every_record_and_every_read_is_down_and_backs_off(
    paths: Paths, service: Service
) -> None:
    box = Outbox(paths.outbox_db)
    box.put_many([record() for _ in range(10)])
    service.faults.always(Fault(500))
    report = delivery(paths, service).drain()
    assert report.sent == 0 and report.remaining == 10 and not report.warnings
    assert box.backoff().remaining() > 0 and "HTTP 500" in (report.last_error or "")
    assert all(entry.failures == 0 for entry in box.claim(100, lease=0.0))  # no strikes
    assert service.faults.posts() <= PROBE_LIMIT * 3  # three records' retries, not ten


def test_a_tracker_that_is_down_gives_no_strikes(paths: Paths, service: Service) -> None:
    """One record, a 500 for it and for the read that checks the tracker: the tracker is down,
    not the record; after many drains it is still pending, untouched."""
    box = Outbox(paths.outbox_db)
    box.put(rec := record())
    service.faults.always(Fault(500))
    sender = delivery(paths, service)
    for _ in range(DEAD_AFTER + 1):
        sender.drain(force=True)
    (entry,) = box.claim(10, lease=0.0)
    assert (entry.id, entry.failures) == (rec.id, 0) and sender.dead_letters() == []


# --- what the tracker cannot store is made storable first -------------------------------------


def test_deliver_sends_a_sanitized_record_and_says_what_it_changed(
    paths: Paths, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    awkward = awkward_record()
    result = delivery(paths, service).deliver(awkward)
    assert result.outcome == "sent" and result.changes
    assert any("NUL characters removed" in c for c in result.changes)
    assert any("NUL characters removed" in r.getMessage() for r in caplog.records)
    with HttpTracker(service.url, service.key) as client:
        stored = client.get_session(awkward.id)
    assert stored is not None and stored.summary == "ab \ufffd c"
    assert stored.duration_minutes == MAX_INT


def test_records_the_hooks_spooled_are_sanitized_on_import(paths: Paths, service: Service) -> None:
    spooled = paths.data / "spool"
    spooled.mkdir(parents=True)
    awkward = record(summary="hook \x00 text", duration_minutes=2**33)
    (spooled / f"{awkward.id}.json").write_text(awkward.model_dump_json())
    report = delivery(paths, service).drain()
    assert report.sent == 1 and any("NUL" in w for w in report.warnings)
    with HttpTracker(service.url, service.key) as client:
        stored = client.get_session(awkward.id)
    assert stored is not None and stored.summary == "hook  text"
    assert stored.duration_minutes == 2**33  # the tracker's columns hold 64 bits: kept


# --- through the core -------------------------------------------------------------------------


def test_sync_sends_spooled_records_to_the_configured_tracker(
    paths: Paths, service: Service, isolated_home: Path
) -> None:
    rec = record()
    spool(paths, rec)
    settings = Settings.from_env(
        {
            "CLAUDE_CONFIG_DIR": str(isolated_home),
            "CLAUDE_SESSION_TRACKER_URL": service.url,
            "CLAUDE_SESSION_TRACKER_TOKEN": service.key,
        }
    )
    with Core(settings) as core:
        result = core.sync()
    assert result.sent == 1 and result.remaining == 0
    assert service.ids() == [rec.id]
    assert json.loads(result.model_dump_json())["tracker"].startswith("tracker at http://")


def test_end_in_a_configured_project_lands_its_record_on_the_tracker(
    isolated_home: Path, service: Service, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "project")
    with Core(remote_settings(isolated_home, service.url, service.key)) as core:
        core.start(repo, session_id="s1")
        ended = core.end(repo, session_id="s1", summary="shipped it", push=False)
    assert ended.tracker == "sent"
    assert service.ids() == [ended.record.id]
    with HttpTracker(service.url, service.key) as client:
        stored = client.get_session(ended.record.id)
    assert stored is not None and stored.summary == "shipped it"


def test_end_with_a_dead_tracker_queues_quickly_and_sync_sends_later(
    isolated_home: Path, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "project")
    with tracker_service(tmp_path) as first:
        url, key, port = first.url, first.key, int(first.url.rsplit(":", 1)[1])
    settings = remote_settings(isolated_home, url, key)
    with Core(settings) as core:
        core.start(repo, session_id="s1")
        started = time.monotonic()
        ended = core.end(repo, session_id="s1", summary="offline", push=False)
        took = time.monotonic() - started
        assert ended.tracker == "queued" and took < DELIVER_BUDGET
        assert core.status(repo).outbox_depth == 1
    with tracker_service(tmp_path, port=port) as again, Core(settings) as core:
        Outbox(Paths(isolated_home).outbox_db).note_success()  # as after the backoff ran out
        result = core.sync()
        assert (result.sent, result.remaining) == (1, 0)
        assert again.ids() == [ended.record.id]


def test_an_unusable_tracker_url_keeps_records_in_the_outbox_with_the_reason(
    paths: Paths, isolated_home: Path
) -> None:
    settings = remote_settings(isolated_home, "tracker.example.com", "k")
    with flow.begin() as current:
        tracker = open_tracker(settings, paths)
    assert "CLAUDE_SESSION_TRACKER_URL" in current.warnings[0]
    result = Delivery(paths, tracker).deliver(record())
    assert result.outcome == "queued"
    assert Outbox(paths.outbox_db).depth() == 1
    assert "CLAUDE_SESSION_TRACKER_URL" in (Delivery(paths, tracker).last_error() or "")


# --- C1 on PostgreSQL: the real service, a NUL byte, ends through the core --------------------


@contextlib.contextmanager
def postgres_tracker() -> Iterator[tuple[str, str, Faults, str]]:
    """The real service on a fresh PostgreSQL database: URL, key, faults, database URL."""
    from claude_session.tracker.service.app import create_api_key, create_app
    from helpers.tracker_service import postgres_database

    with postgres_database() as database:
        key = create_api_key(database, "eve")
        faults = Faults(create_app(database))
        with serve(faults) as url:
            yield url, key, faults, database


def stored_ids(database: str) -> set[str]:
    from claude_session.tracker.store.database import create_engine

    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            return {str(r[0]) for r in conn.execute(sa.text("SELECT id FROM claude_sessions"))}
    finally:
        engine.dispose()


def test_c1_a_nul_record_on_postgresql_holds_back_no_later_end(
    isolated_home: Path, tmp_path: Path
) -> None:
    with postgres_tracker() as (url, key, faults, database):
        # The poison, queued as a client without sanitizing queued it (redteam C1): a NUL in
        # a scan finding and in the summary. PostgreSQL cannot store it: the service answers
        # 500 today, a 4xx once it checks; either way nothing after it may wait on it.
        poison = record(
            summary="bad \x00 nul",
            maintenance_runs=[
                MaintenanceRun(
                    command="security-scan",
                    status="failed",
                    results={"findings": [{"snippet": "PK\x00\x03 binary"}]},
                )
            ],
        )
        box = Outbox(Paths(isolated_home).outbox_db)
        box.put(poison)
        repo = make_repo(tmp_path / "project")
        ended = []
        with Core(remote_settings(isolated_home, url, key)) as core:
            for n in range(DEAD_AFTER + 1):
                core.start(repo, session_id=f"s{n}")
                ended.append(core.end(repo, session_id=f"s{n}", summary=f"normal {n}", push=False))
            assert [e.tracker for e in ended] == ["sent"] * len(ended)
            normal = {e.record.id for e in ended}
            assert normal <= stored_ids(database)  # every normal record arrived
            status = core.status(repo)
            assert status.outbox == {"pending": 0, "auth_failed": 0, "rejected": 1, "spooled": 0}
            (letter,) = box.dead_letters()
            assert letter.id == poison.id and letter.state == "rejected"
            assert "HTTP 500" in (letter.error or "") or "HTTP 4" in (letter.error or ""), letter
            assert poison.id not in stored_ids(database)
            assert "refused" in (status.outbox_last_error or "")
            assert [d.id for d in status.dead_letters] == [poison.id]  # status lists it
            # --retry-rejected: the dead letter is made storable and sent; nothing was lost.
            synced = core.sync(retry_rejected=True)
            assert synced.sent == 1 and synced.remaining == 0 and synced.rejected == 0
            assert any("NUL characters removed" in w for w in synced.warnings), synced.warnings
        assert stored_ids(database) == normal | {poison.id}
        with HttpTracker(url, key) as client:
            stored = client.get_session(poison.id)
        assert stored is not None and stored.summary == "bad  nul"
        assert stored.maintenance_runs[0].results == {"findings": [{"snippet": "PK\x03 binary"}]}
