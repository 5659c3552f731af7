#!/usr/bin/env python3
"""The tracker's search and filters at scale: one user's 100,000 records, on SQLite and on
PostgreSQL (127.0.0.1:5432, database ``test``, trust auth; skipped when absent).

    python3 bench/bench_search.py [--records 100000] [--runs 15] [--quick]

Each query is ``History.list_sessions`` as the list page and the API run it: a page of 50 and
the total (counted up to 1,000, then "more than"), newest first; the first page, the second
(after the first's cursor) and the twentieth. Figures: the median of ``--runs`` runs per query
and page, against the goal of issue 27 (< 50 ms). The rows go in by bulk insert (the FTS
triggers and the generated column keep the index as they do for every record); ``--quick``:
20,000 records, 5 runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from figures import figure  # noqa: E402

WORDS = [
    "parser",
    "lexer",
    "tokenizer",
    "gzip",
    "chunked",
    "headers",
    "login",
    "form",
    "checkout",
    "cart",
    "invoice",
    "report",
    "migration",
    "schema",
    "index",
    "cache",
    "retry",
    "timeout",
    "upload",
    "download",
    "theme",
    "layout",
    "sidebar",
]
BRANCHES = ["main", "develop", *(f"feature/{w}" for w in WORDS)]
MACHINES = ["laptop", "desktop", "ci", "vm"]
MODES = ["standard", "paused", "unended", "handoff"]
QUERIES: dict[str, dict[str, Any]] = {
    "text: one word": {"text": "gzip"},
    "text: two words, prefix": {"text": "chunked head"},
    "text: rare word": {"text": "zyxxyz"},
    "branch": {"branch": "feature/login"},
    "branch: rare": {"branch": "fix/rare"},
    "machine + end mode": {"machine": "ci", "end_mode": "paused"},
    "dates: one week": {"days": 7},
    "text + branch + dates": {"text": "invoice", "branch": "main", "days": 90},
    "text + rare branch": {"text": "gzip", "branch": "fix/rare"},
    "text + a week long ago": {"text": "gzip", "days": 7, "ago": 300},
}


def rows(user: str, app: str, count: int) -> list[dict[str, Any]]:
    rng = random.Random(27)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    made = []
    for n in range(count):
        at = start + timedelta(minutes=5 * n)
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        made.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "user_id": user,
                "application_id": app,
                "started_at": at,
                "ended_at": at + timedelta(minutes=30),
                "duration_minutes": 30,
                "starting_branch": "main",
                "ending_branch": _branch(rng, n),
                "commits_count": n % 4,
                "session_source": "claude-code",
                "tokens_input": 1000,
                "tokens_output": 200,
                "tokens_cache_creation": 0,
                "tokens_cache_read": 0,
                "summary": f"Session {n}: {words}" + (" zyxxyz" if n % 50_000 == 7 else ""),
                "accomplishments": [rng.choice(WORDS)],
                "next_steps": [rng.choice(WORDS)],
                "files_changed": [f"src/{rng.choice(WORDS)}.py"],
                "maintenance_runs": [],
                "security_findings": [],
                "machine": rng.choice(MACHINES),
                "end_mode": rng.choice(MODES),
                "created_at": at,
                "updated_at": at,
                "cost_usd": 0.5,
                "models": ["claude-sonnet-4-5"],
            }
        )
    return made


def _branch(rng: random.Random, n: int) -> str:
    chosen = rng.choice(BRANCHES)
    return "fix/rare" if n % 10_000 == 3 else chosen  # 10 records


def fill(url: str, count: int) -> tuple[Any, Any, Any]:
    from claude_session.models import SessionRecord
    from claude_session.tracker.store.database import create_engine, migrate
    from claude_session.tracker.store.schema import claude_sessions
    from claude_session.tracker.store.storage import Store

    engine = create_engine(url)
    migrate(engine)
    store = Store(engine)
    owner = store.auth.user("alice")
    at = datetime(2025, 1, 1, tzinfo=timezone.utc)
    first = SessionRecord(application_name="widgets", started_at=at, ended_at=at)
    store.records.save(owner, first)  # makes the application
    app = store.history.get_session(owner, first.id).application_id
    made = rows(owner.id, app, count)
    with engine.begin() as conn:
        for at in range(0, count, 5000):
            conn.execute(claude_sessions.insert(), made[at : at + 5000])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE claude_sessions")
    return engine, store, owner


#: the pages timed: the first, the second and the twentieth
PAGES = (1, 2, 20)


def measure(store: Any, owner: Any, runs: int) -> dict[str, tuple[list[float | None], str]]:
    """Per query: the median milliseconds of each of PAGES (None past the last page), and
    how many were found as the page says it."""
    from claude_session.tracker.store.search import Filters

    end = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(days=330)
    found: dict[str, tuple[list[float | None], str]] = {}
    for name, given in QUERIES.items():
        given = dict(given)
        days = given.pop("days", None)
        ago = end - timedelta(days=given.pop("ago", 0))
        if days:
            given.update(since=ago - timedelta(days=days), until=ago)
        filters = Filters(**given)
        cursors: dict[int, Any] = {1: None}  # the cursor each timed page starts after
        page = store.history.list_sessions(owner, filters=filters, limit=50)
        said = f"more than {page.total:,}" if page.capped else f"{page.total:,}"
        for number in range(2, max(PAGES) + 1):
            if not page.older:
                break
            cursors[number] = page.last
            page = store.history.list_sessions(owner, filters=filters, limit=50, after=page.last)
        medians: list[float | None] = []
        for number in PAGES:
            if number not in cursors:
                medians.append(None)
                continue
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                store.history.list_sessions(owner, filters=filters, limit=50, after=cursors[number])
                times.append((time.perf_counter() - t0) * 1000)
            medians.append(statistics.median(times))
        found[name] = (medians, said)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    count, runs = (20_000, 5) if args.quick else (args.records, args.runs)
    import tempfile

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers.tracker_service import postgres_admin_url

    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{tmp}/search.db")]
        admin = postgres_admin_url()
        if admin is not None:
            targets.append(("PostgreSQL", admin))
        for label, url in targets:
            database = _fresh_postgres(url) if label == "PostgreSQL" else url
            t0 = time.perf_counter()
            engine, store, owner = fill(database, count)
            print(f"{label}: {count:,} records in {time.perf_counter() - t0:.1f} s")
            print(f"  {'':28} " + "".join(f"{'page ' + str(n):>11}" for n in PAGES))
            for name, (medians, said) in measure(store, owner, runs).items():
                cells = "".join("          -" if ms is None else f"{ms:8.1f} ms" for ms in medians)
                print(f"  {name:28} {cells}  ({said} found)")
                for number, ms in zip(PAGES, medians, strict=True):
                    if ms is not None:
                        title = name if number == 1 else f"{name}, page {number}"
                        figure(f"search {label}: {title}", round(ms, 1), "ms", goal=50, issue=27)
            engine.dispose()
            if label == "PostgreSQL":
                _drop_postgres(url, database)
    return 0


def _fresh_postgres(admin: str) -> str:
    import sqlalchemy as sa

    name = f"cs_bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(admin).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return admin.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres(admin: str, database: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(admin).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database.rsplit("/", 1)[1]}" WITH (FORCE)')
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
