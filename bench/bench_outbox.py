"""How fast the outbox drains into a real tracker, and what a dead tracker costs a command.

The tracker service runs as its own process (uvicorn, SQLite database) on 127.0.0.1. We queue
10,000 session records in the outbox, drain them all through ``Delivery.drain`` (batches of 20,
one POST per record over a kept-alive connection), check the tracker's database holds each
exactly once, and print records/s. Then: the time one default drain run (50 records) takes, and
the time ``deliver`` (the end flow's send) takes when the tracker refuses connections, first
try and while the outbox backs off.

    python3 bench/bench_outbox.py [--records N] [--runs N]
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


from bench_tracker import free_port, service  # noqa: E402

from claude_session.base.clock import now as utcnow  # noqa: E402
from claude_session.models import MaintenanceRun, SessionRecord  # noqa: E402
from claude_session.paths import Paths  # noqa: E402
from claude_session.tracker.client import HttpTracker  # noqa: E402
from claude_session.tracker.delivery import Delivery  # noqa: E402
from claude_session.tracker.outbox import Outbox  # noqa: E402
from claude_session.tracker.service.app import create_api_key  # noqa: E402

SERVER = str(Path(__file__).resolve().parent.parent / "server")


def tracker(database: Path) -> contextlib.AbstractContextManager[str]:
    """The tracker service in its own process on ``database``; yields its base URL."""
    return service(f"sqlite:///{database}")


def records(count: int) -> list[SessionRecord]:
    now = utcnow()
    return [
        SessionRecord(
            application_name=f"app-{n % 7}",
            repository_url=None,
            started_at=now,
            ended_at=now,
            summary=f"session {n}",
            accomplishments=["a", "b"],
            files_changed=["x.py", "y.py"],
            maintenance_runs=[MaintenanceRun(command="lint", status="ok")],
        )
        for n in range(count)
    ]


def rows(database: Path) -> tuple[int, int]:
    with contextlib.closing(sqlite3.connect(database)) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT id) FROM claude_sessions"
        ).fetchone()
    return int(total), int(distinct)


def bench_drain(folder: Path, count: int) -> None:
    database = folder / "tracker.db"
    key = create_api_key(f"sqlite:///{database}", "bench")
    paths = Paths(folder / "home")
    batch = records(count)
    started = time.perf_counter()
    Outbox(paths.outbox_db).put_many(batch)
    queued = time.perf_counter() - started
    print(f"queue {count} records in the outbox: {queued:.2f} s ({count / queued:,.0f} records/s)")
    with tracker(database) as url, HttpTracker(url, key) as remote:
        delivery = Delivery(paths, remote)
        started = time.perf_counter()
        report = delivery.drain(limit=count, budget=3600, force=True)
        took = time.perf_counter() - started
        total, distinct = rows(database)
        print(
            f"drain {report.sent} records to the tracker: {took:.2f} s "
            f"({report.sent / took:,.0f} records/s); left in the outbox: {report.remaining}; "
            f"rows on the tracker: {total} ({distinct} distinct)"
        )
        Outbox(paths.outbox_db).put_many(records(50))
        started = time.perf_counter()
        report = delivery.drain()
        print(
            f"one default drain run (limit 50): {report.sent} sent in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )


def bench_dead_tracker(folder: Path, runs: int) -> None:
    paths = Paths(folder / "dead")
    remote = HttpTracker(f"http://127.0.0.1:{free_port()}", "k")
    first: list[float] = []
    backing_off: list[float] = []
    for _ in range(runs):
        Outbox(paths.outbox_db).note_success()  # as if the tracker had just been fine
        for timings in (first, backing_off):
            started = time.perf_counter()
            outcome = Delivery(paths, remote).deliver(records(1)[0]).outcome
            timings.append((time.perf_counter() - started) * 1000)
            assert outcome == "queued"
    print(
        f"deliver with the tracker refusing connections, median of {runs}: first try "
        f"{statistics.median(first):.0f} ms (3 attempts with backoff), while backing off "
        f"{statistics.median(backing_off):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
        bench_drain(Path(tmp), args.records)
        bench_dead_tracker(Path(tmp), args.runs)


if __name__ == "__main__":
    main()
