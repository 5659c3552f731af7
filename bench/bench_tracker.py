"""How fast the tracker service takes and lists session records, on SQLite and PostgreSQL.

The service runs as ``claude-session tracker serve --workers 2`` (two uvicorn worker processes)
on 127.0.0.1; clients POST records (each a new session with two maintenance runs) and we time
every request. By default each client is its own process sending bodies made before the clock
starts over one keep-alive ``http.client`` connection, so that the numbers are the server's: the
machine has two CPUs, and the first version's clients (``--client threads``: httpx clients in
threads of one process, each building and serialising its record while timed) took about as
much CPU as a server worker. Then 100,000 sessions are bulk-loaded and ``GET /api/sessions`` is
timed on the first page, a deep page by cursor (keyset), and with application and date filters.
PostgreSQL is used when one answers on 127.0.0.1:5432 (database ``test``); a throwaway
database is made and dropped.

    python3 bench/bench_tracker.py [--posts N] [--sessions N] [--runs N] [--server-workers N]
                                   [--clients N] [--client processes|threads] [--only-posts]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from figures import figure  # noqa: E402

from claude_session.models import MaintenanceRun, SessionRecord  # noqa: E402
from claude_session.tracker.service.app import create_api_key  # noqa: E402
from claude_session.tracker.store.database import create_engine, migrate  # noqa: E402
from claude_session.tracker.store.history import Cursor  # noqa: E402
from claude_session.tracker.store.schema import applications, claude_sessions  # noqa: E402
from claude_session.tracker.store.storage import Store  # noqa: E402

SERVER = str(Path(__file__).resolve().parent.parent / "server")
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
WORKERS = 4  # client threads
SERVER_WORKERS = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def service(url: str, workers: int = SERVER_WORKERS) -> Iterator[str]:
    """``tracker serve --workers N`` in its own process; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claude_session.edges.cli",
            "tracker",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--database",
            url,
        ],
        env={**os.environ, "PYTHONPATH": SERVER},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the tracker did not start")
            time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def postgres() -> Iterator[str | None]:
    for user in ("postgres", "root"):
        admin = f"postgresql://{user}@127.0.0.1:5432/test"
        engine = create_engine(admin).execution_options(isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                name = f"cs_bench_{uuid.uuid4().hex[:10]}"
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError:
            engine.dispose()
            continue
        try:
            yield f"postgresql://{user}@127.0.0.1:5432/{name}"
        finally:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            engine.dispose()
        return
    yield None


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def bench_record(i: int) -> SessionRecord:
    """The record every POST sends (a new id each time, as the client's outbox sends)."""
    return SessionRecord(
        application_name=f"app-{i % 5}",
        repository_url=f"github.com/b/app-{i % 5}",
        started_at=START + timedelta(minutes=i),
        ended_at=START + timedelta(minutes=i + 30),
        summary="Bench session " * 10,
        accomplishments=["a", "b"],
        files_changed=[f"src/f{j}.py" for j in range(10)],
        maintenance_runs=[
            MaintenanceRun(command="audit", status="ok", results={"n": i}) for _ in range(2)
        ],
    )


def _post_client(
    base: str, key: str, bodies: list[bytes], start: Any, out: Any
) -> None:  # pragma: no cover - runs in a client process
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies, failures = [], []
    start.wait()
    for body in bodies:
        began = time.perf_counter()
        conn.request("POST", "/api/sessions", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - began)
        if response.status != 201:
            failures.append(response.status)
    conn.close()
    out.send((latencies, failures, time.perf_counter()))
    out.close()


def bench_posts_processes(
    base: str, key: str, count: int, clients: int = WORKERS
) -> dict[str, float]:
    """``clients`` processes, each POSTing its share of bodies made before timing starts."""
    context = multiprocessing.get_context("fork")
    start = context.Event()
    per = count // clients
    procs, pipes = [], []
    for c in range(clients):
        bodies = [
            json.dumps(bench_record(c * per + i).model_dump(mode="json")).encode()
            for i in range(per)
        ]
        receiving, sending = context.Pipe(duplex=False)
        proc = context.Process(target=_post_client, args=(base, key, bodies, start, sending))
        proc.start()
        sending.close()
        procs.append(proc)
        pipes.append(receiving)
    time.sleep(0.5)  # every client connected and waiting
    began = time.perf_counter()
    start.set()
    latencies: list[float] = []
    failures: list[int] = []
    ended = began
    for pipe in pipes:
        got, failed, done = pipe.recv()
        latencies += got
        failures += failed
        ended = max(ended, done)
    for proc in procs:
        proc.join(30)
    if failures:
        raise RuntimeError(f"{len(failures)} POSTs failed: {sorted(set(failures))}")
    return {
        "per_s": len(latencies) / (ended - began),
        "p50": percentile(latencies, 0.5) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
    }


def bench_posts(base: str, key: str, count: int, clients: int = WORKERS) -> dict[str, float]:
    """The first version's load: httpx clients in threads of this process."""
    latencies: list[float] = []
    failures: list[int] = []

    def worker(n: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
            for i in range(n):
                rec = bench_record(i)
                began = time.perf_counter()
                response = client.post("/api/sessions", json=rec.model_dump(mode="json"))
                latencies.append(time.perf_counter() - began)
                if response.status_code != 201:
                    failures.append(response.status_code)

    threads = [threading.Thread(target=worker, args=(count // clients,)) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} POSTs failed: {sorted(set(failures))}")
    return {
        "per_s": len(latencies) / wall,
        "p50": percentile(latencies, 0.5) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
    }


def bulk_load(url: str, key: str, count: int) -> None:
    """``count`` sessions over 10 applications, straight into the tables."""
    engine = create_engine(url)
    try:
        migrate(engine)
        store = Store(engine)
        owner = store.auth.user_for_api_key(key)
        assert owner is not None
        apps = [str(uuid.uuid4()) for _ in range(10)]
        now = datetime.now(timezone.utc)
        with engine.begin() as conn:
            conn.execute(
                applications.insert(),
                [
                    {
                        "id": a,
                        "name": f"bulk-{n}",
                        "user_id": owner.id,
                        "repository_url": f"github.com/bulk/{n}",
                        "created_at": now,
                    }
                    for n, a in enumerate(apps)
                ],
            )
        for chunk in range(0, count, 5000):
            rows = [
                {
                    "id": str(uuid.uuid4()),
                    "user_id": owner.id,
                    "application_id": apps[i % 10],
                    "started_at": START + timedelta(minutes=7 * i),
                    "ended_at": START + timedelta(minutes=7 * i + 30),
                    "duration_minutes": 30,
                    "commits_count": 1,
                    "tokens_input": 1000,
                    "tokens_output": 200,
                    "summary": f"Bulk session {i}",
                    "accomplishments": ["x"],
                    "next_steps": [],
                    "files_changed": ["a.py"],
                    "maintenance_runs": [],
                    "security_findings": [],
                    "tokens_cache_creation": 0,
                    "tokens_cache_read": 0,
                    "session_source": "cli",
                    "end_mode": "standard",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(chunk, min(chunk + 5000, count))
            ]
            with engine.begin() as conn:
                conn.execute(claude_sessions.insert(), rows)
        # What autovacuum / a first ANALYZE would have done to a table this size by the time
        # anyone lists it: statistics for the planner, a visibility map for index-only counts.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(
                "VACUUM ANALYZE claude_sessions" if url.startswith("postgres") else "ANALYZE"
            )
    finally:
        engine.dispose()


def deep_cursor(url: str, row: int) -> str:
    """The cursor after the ``row``-th session, newest first (read from the table, untimed)."""
    engine = create_engine(url)
    try:
        order = (claude_sessions.c.started_at, claude_sessions.c.created_at, claude_sessions.c.id)
        with engine.connect() as conn:
            found = conn.execute(
                sa.select(*order).order_by(*(c.desc() for c in order)).offset(row - 1).limit(1)
            ).one()
    finally:
        engine.dispose()
    return Cursor(found.started_at, found.created_at, str(found.id)).encode()


def bench_gets(
    base: str, key: str, runs: int, total: int, deep: str
) -> dict[str, tuple[float, float]]:
    middle = (START + timedelta(minutes=7 * total // 2)).isoformat()
    queries: dict[str, dict[str, Any]] = {
        "first page (50)": {"limit": 50},
        f"deep page by cursor (after row {total - 100})": {"limit": 50, "cursor": deep},
        "application filter": {"application": "bulk-3", "limit": 50},
        "since + until (1 week)": {
            "since": middle,
            "until": (datetime.fromisoformat(middle) + timedelta(days=7)).isoformat(),
        },
    }
    results = {}
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as client:
        for name, params in queries.items():
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                response = client.get("/api/sessions", params=params)
                times.append(time.perf_counter() - began)
                assert response.status_code == 200, response.text
            results[name] = (statistics.median(times) * 1000, percentile(times, 0.99) * 1000)
    return results


def run(label: str, url: str, args: argparse.Namespace) -> list[str]:
    key = create_api_key(url, "bench")
    lines = []
    post = bench_posts_processes if args.client == "processes" else bench_posts
    rounds = []
    with service(url, args.server_workers) as base:
        for _ in range(args.repeat):
            posts = post(base, key, args.posts, args.clients)
            rounds.append(posts)
            lines.append(
                f"| {label} | POST /api/sessions, {args.server_workers} server workers, "
                f"{args.clients} client {args.client}, {args.posts} records | "
                f"{posts['per_s']:.0f}/s | {posts['p50']:.1f} | {posts['p99']:.1f} |"
            )
    if len(rounds) > 1:
        lines.append(
            f"| {label} | POST /api/sessions: median of the {len(rounds)} rounds | "
            f"{statistics.median(r['per_s'] for r in rounds):.0f}/s | "
            f"{statistics.median(r['p50'] for r in rounds):.1f} | "
            f"{statistics.median(r['p99'] for r in rounds):.1f} |"
        )
    rate = statistics.median(r["per_s"] for r in rounds)
    p99 = statistics.median(r["p99"] for r in rounds)
    what = f"{label} POST /api/sessions, {args.server_workers} workers"
    figure(what, rate, "/s", goal=200.0, op=">=", issue=22)
    figure(f"{what}, p99", p99, "ms", goal=50.0, op="<", issue=22)
    if args.only_posts:
        return lines
    bulk_load(url, key, args.sessions)
    total = args.sessions + args.posts
    deep = deep_cursor(url, total - 100)
    with service(url, args.server_workers) as base:
        for name, (p50, p99) in bench_gets(base, key, args.runs, total, deep).items():
            lines.append(
                f"| {label} | GET /api/sessions, {args.sessions + args.posts} rows: "
                f"{name} | | {p50:.1f} | {p99:.1f} |"
            )
            figure(f"{label} GET {name}, p50", p50, "ms", goal=50.0, op="<", issue=10)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--server-workers", type=int, default=SERVER_WORKERS)
    parser.add_argument("--clients", type=int, default=WORKERS)
    parser.add_argument("--client", choices=["processes", "threads"], default="processes")
    parser.add_argument("--repeat", type=int, default=3, help="POST rounds (one row each)")
    parser.add_argument("--only-posts", action="store_true")
    args = parser.parse_args()
    lines = ["| database | operation | throughput | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as folder:
        lines += run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args)
    with postgres() as url:
        if url is None:
            lines.append("| PostgreSQL | (none on 127.0.0.1:5432) | | | |")
        else:
            lines += run("PostgreSQL", url, args)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
