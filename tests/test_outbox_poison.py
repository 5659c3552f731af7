"""No record holds back the others (issue 10, redteam C1), and the client sends only what its
tracker stores.

The tracker is the real service on 127.0.0.1: on PostgreSQL for the reproduction of C1 (a NUL
byte the service cannot store, queued as an older client version queued it), on SQLite with
the ``Faults`` layer answering 500 for one record id for the rest. Rows are counted in the
tracker's own database.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from claude_session.config import Settings
from claude_session.core.lifecycle import Core
from claude_session.models import MaintenanceRun, SessionRecord, utcnow
from claude_session.paths import Paths
from claude_session.tracker.client import HttpTracker
from claude_session.tracker.delivery import PROBE_LIMIT, Delivery
from claude_session.tracker.outbox import DEAD_AFTER, Outbox, close_connections
from claude_session.tracker.sanitize import BODY_TARGET, FREE_DEPTH, sanitize_record
from claude_session.tracker.store.limits import LATEST, MAX_DEPTH, MAX_INT, check_document
from helpers.gitrepo import make_repo
from helpers.tracker_stub import Fault, Faults, Service, serve, tracker_service


@pytest.fixture(autouse=True)
def _close_outboxes() -> Iterator[None]:
    yield
    close_connections()


@pytest.fixture
def paths(isolated_home: Path) -> Paths:
    return Paths(isolated_home)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with tracker_service(tmp_path) as running:
        yield running


def record(**changes: object) -> SessionRecord:
    base = SessionRecord(
        application_name="demo",
        repository_url="https://example.com/o/demo",
        started_at=utcnow(),
        ended_at=utcnow(),
        summary="work",
    )
    return base.model_copy(update=changes)


def delivery(paths: Paths, url: str, key: str) -> Delivery:
    return Delivery(paths, HttpTracker(url, key, backoff=0.01))


POISON = Fault(500, body={"error": "Internal Server Error"})


# --- one record the tracker fails on -------------------------------------------------------


def test_a_record_the_tracker_fails_on_does_not_hold_back_the_others(
    paths: Paths, service: Service
) -> None:
    box = Outbox(paths.outbox_db)
    poison = record(summary="the tracker fails on this one")
    normal = [record(summary=f"normal {n}") for n in range(5)]
    box.put_many([poison, *normal])  # the poison is the oldest
    service.faults.for_record(poison.id, POISON)
    sender = delivery(paths, service.url, service.key)

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
    assert (letter.id, letter.state, letter.application) == (poison.id, "rejected", "demo")
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
    sender = delivery(paths, service.url, service.key)
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
    sender = delivery(paths, service.url, service.key)
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
    report = delivery(paths, service.url, service.key).drain()
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
    sender = delivery(paths, service.url, service.key)
    for _ in range(DEAD_AFTER + 1):
        sender.drain(force=True)
    (entry,) = box.claim(10, lease=0.0)
    assert (entry.id, entry.failures) == (rec.id, 0) and sender.dead_letters() == []


# --- C1 on PostgreSQL: the real service, a NUL byte, ends through the core ------------------


@contextlib.contextmanager
def postgres_tracker() -> Iterator[tuple[str, str, Faults, str]]:
    """The real service on a fresh PostgreSQL database: URL, key, faults, database URL."""
    from claude_session.tracker.service.app import create_api_key, create_app
    from test_tracker_service import postgres_database

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


def remote_settings(home: Path, url: str, key: str) -> Settings:
    return Settings.from_env(
        {
            "CLAUDE_CONFIG_DIR": str(home),
            "CLAUDE_SESSION_TRACKER_URL": url,
            "CLAUDE_SESSION_TRACKER_TOKEN": key,
        }
    )


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


# --- the client sends only what its tracker stores ------------------------------------------


def awkward_record() -> SessionRecord:
    far = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-12)))
    return record(
        summary="a\x00b \ud800 c",
        application_name="app\x00",
        starting_branch="feat/\x00x",
        duration_minutes=2**64,
        commits_count=-5,
        tokens_input=2**63 - 1,
        ended_at=far,
        started_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        accomplishments=["one\x00", "two"],
        security_findings=[
            {"k\x00ey": ["v\x00", {"deep\x00": "x\x00"}], "n": float("nan"), "big": 10**30}
        ],
        maintenance_runs=[
            MaintenanceRun(command="scan\x00", status="ok", results={"snippet": "PK\x00\x03"})
        ],
    )


def test_sanitize_removes_nul_everywhere_and_bounds_numbers_and_dates() -> None:
    clean, changes = sanitize_record(awkward_record())
    text = clean.model_dump_json()
    assert "\\u0000" not in text and "\x00" not in text
    assert clean.summary == "ab \ufffd c" and clean.application_name == "app"
    assert clean.security_findings == [{"key": ["v", {"deep": "x"}], "n": None, "big": str(10**30)}]
    assert clean.maintenance_runs[0].results == {"snippet": "PK\x03"}
    assert clean.duration_minutes == MAX_INT and clean.commits_count == 0
    assert clean.tokens_input == 2**63 - 1  # bigint: kept
    assert clean.ended_at == LATEST and clean.started_at.year == 1970
    said = " ".join(changes)
    for words in (
        "NUL characters removed from application_name",
        "summary",
        "more",
        "unpaired surrogates",
        "duration_minutes 18446744073709551616",
        "commits_count",
        "ended_at 9999-12-31T23:00:00-12:00",
        "NaN",
        "past 64 bits",
    ):
        assert words in said, words


def test_sanitize_is_idempotent_and_leaves_a_clean_record_alone() -> None:
    clean, changes = sanitize_record(awkward_record())
    assert changes
    assert sanitize_record(clean) == (clean, [])
    plain = record(accomplishments=["ü ✓ 😀"], summary="line\nline")
    assert sanitize_record(plain) == (plain, [])


def test_sanitize_keeps_a_huge_record_under_the_body_limit_and_counts_what_it_cut() -> None:
    big = record(
        summary="s" * 200_000,
        files_changed=[f"f{n}" for n in range(50_000)],
        maintenance_runs=[
            MaintenanceRun(command="c", status="s", results={"rows": ["r" * 5_000] * 2_000})
            for _ in range(20)
        ],
    )
    clean, changes = sanitize_record(big)
    size = len(clean.model_dump_json().encode())
    assert size <= BODY_TARGET
    assert clean.summary.endswith("characters cut]") and len(clean.summary) <= 20_000
    assert clean.files_changed[-1].endswith("more entries cut]")
    said = " ".join(changes)
    assert "long texts cut" in said and "long lists cut" in said and "files_changed" in said


def test_sanitize_cuts_deep_nesting_and_turns_non_json_into_text() -> None:
    deep: object = "bottom"
    for _ in range(sys.getrecursionlimit() // 4):
        deep = [deep]
    run = MaintenanceRun(
        command="c", status="s", results={"deep": deep, "b": b"\xff\x00", "s": {1}}
    )
    clean, changes = sanitize_record(record(maintenance_runs=[run]))
    clean.model_dump_json()  # serializable now
    assert f"nested deeper than {FREE_DEPTH} levels" in " ".join(changes)
    assert clean.maintenance_runs[0].results["b"] == "\ufffd" and clean.maintenance_runs[0].results[
        "s"
    ] == [1]


def test_what_sanitize_keeps_the_store_holds() -> None:
    """One definition of what the tracker can hold (store/limits.py): nothing the client's
    cleaning lets through is refused by the store's check."""
    deep: object = "bottom"
    for _ in range(MAX_DEPTH * 2):
        deep = {"k": deep}
    run = MaintenanceRun(command="c", status="s", results={"deep": deep})
    for raw in (awkward_record(), record(maintenance_runs=[run], security_findings=[deep])):
        clean, changes = sanitize_record(raw)
        assert changes
        check_document(clean)


def test_deliver_sends_a_sanitized_record_and_says_what_it_changed(
    paths: Paths, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    awkward = awkward_record()
    result = delivery(paths, service.url, service.key).deliver(awkward)
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
    report = delivery(paths, service.url, service.key).drain()
    assert report.sent == 1 and any("NUL" in w for w in report.warnings)
    with HttpTracker(service.url, service.key) as client:
        stored = client.get_session(awkward.id)
    assert stored is not None and stored.summary == "hook  text"
    assert stored.duration_minutes == 2**33  # the tracker's columns hold 64 bits: kept
