"""The real tracker service on 127.0.0.1 for tests, on SQLite or on PostgreSQL.

serve(app)             uvicorn in a thread on a free (or given) port; yields the base URL
tracker_service(dir)   the service on a SQLite file, ``Faults`` in front of it: an ASGI
                       layer that answers chosen requests with a status (503, 429 with
                       Retry-After, 401, 400 ...) or delays them, and lets the rest through
closed_port()          a port nobody listens on (connection refused)
postgres_database()    a fresh database on the PostgreSQL of 127.0.0.1:5432 (skips without)
Tracker(url, base)     a served database with two users' clients, alice and bob
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from claude_session.tracker.service.app import create_api_key, create_app
from claude_session.tracker.store.database import create_engine
from helpers.records import START, body, record

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass
class Fault:
    """What to do to the next matching request: answer ``status`` or wait ``delay`` first."""

    status: int | None = None
    delay: float = 0.0
    body: dict[str, Any] = field(default_factory=lambda: {"error": "injected failure"})
    headers: dict[str, str] = field(default_factory=dict)
    method: str | None = None  # only requests with this method (None: any)


class Faults:
    """ASGI middleware: queued faults first, then the wrapped app; counts requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._queue: deque[Fault] = deque()
        self._always: Fault | None = None
        self._records: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self.hits: list[tuple[str, str]] = []

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._queue.extend(faults)

    def always(self, fault: Fault | None) -> None:
        """Apply ``fault`` to every request until set to None."""
        with self._lock:
            self._always = fault

    def for_record(self, record_id: str, fault: Fault | None) -> None:
        """Apply ``fault`` to every POST of the record with this id (None: stop)."""
        with self._lock:
            if fault is None:
                self._records.pop(record_id, None)
            else:
                self._records[record_id] = fault

    def posts(self) -> int:
        return sum(1 for method, path in self.hits if method == "POST")

    def _next(self, method: str) -> Fault | None:
        with self._lock:
            if self._always is not None:
                return self._always
            if self._queue and self._queue[0].method in (None, method):
                return self._queue.popleft()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.hits.append((scope["method"], scope["path"]))
        fault = None
        if scope["method"] == "POST" and self._records:
            body, receive = await _buffered(receive)
            try:
                record_id = json.loads(body).get("id")
            except (ValueError, AttributeError):
                record_id = None
            with self._lock:
                fault = self._records.get(record_id) if isinstance(record_id, str) else None
        fault = fault or self._next(scope["method"])
        if fault is not None and fault.delay:
            await anyio.sleep(fault.delay)
        if fault is None or fault.status is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps(fault.body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in fault.headers.items()]
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body; a ``receive`` that hands it to the app again."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


@contextlib.contextmanager
def serve(app: ASGIApp, *, port: int = 0) -> Iterator[str]:
    """Run ``app`` under uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the tracker did not start on port {port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{bound}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Service:
    """A running tracker: its URL, a key for user ``alice``, its faults and its database."""

    url: str
    key: str
    faults: Faults
    database: Path

    def rows(self) -> int:
        """Session rows in the tracker's database (counted there, not through the API)."""
        with contextlib.closing(sqlite3.connect(self.database)) as conn:
            return int(conn.execute("SELECT count(*) FROM claude_sessions").fetchone()[0])

    def ids(self) -> list[str]:
        with contextlib.closing(sqlite3.connect(self.database)) as conn:
            return [str(r[0]) for r in conn.execute("SELECT id FROM claude_sessions")]


def make_app(database: Path) -> tuple[Faults, str]:
    """The real service app on ``database`` wrapped in ``Faults``, and a key for alice."""
    from claude_session.tracker.service.app import create_api_key

    url = f"sqlite:///{database}"
    key = create_api_key(url, "alice")
    return Faults(create_app(url)), key


@contextlib.contextmanager
def tracker_service(folder: Path, *, port: int = 0) -> Iterator[Service]:
    database = folder / "tracker-service.db"
    faults, key = make_app(database)
    with serve(faults, port=port) as url:
        yield Service(url=url, key=key, faults=faults, database=database)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PG_SERVER = "postgresql://{user}@127.0.0.1:5432/{db}"


def postgres_admin_url() -> str | None:
    """A URL to the test PostgreSQL server's `test` database, or None when there is none."""
    for user in ("postgres", "root"):
        url = PG_SERVER.format(user=user, db="test")
        engine = create_engine(url)
        try:
            with engine.connect():
                return url
        except sa.exc.OperationalError:
            continue
        finally:
            engine.dispose()
    return None


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (dropped after); skips when there is none."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip(
            "no PostgreSQL on 127.0.0.1:5432 (database `test`, trust auth); .ci/run starts one"
        )
    name = f"cs_tracker_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


class Tracker:
    """A running tracker with two users' clients and its database URL."""

    def __init__(self, url: str, base: str) -> None:
        self.url, self.base = url, base
        self.alice_key = create_api_key(url, "alice")
        self.alice = httpx.Client(base_url=base, headers=bearer(self.alice_key), timeout=30)
        self.bob = httpx.Client(
            base_url=base, headers=bearer(create_api_key(url, "bob")), timeout=30
        )
        self.anonymous = httpx.Client(base_url=base, timeout=30)

    def count(self, table: str) -> int:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
        finally:
            engine.dispose()

    def close(self) -> None:
        for client in (self.alice, self.bob, self.anonymous):
            client.close()


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for an API key."""
    return {"Authorization": f"Bearer {key}"}


def post(client: httpx.Client, data: Any) -> httpx.Response:
    """POST ``data`` as a record, whatever it holds (JSON made here, not by httpx)."""
    return client.post(
        "/api/sessions",
        content=json.dumps(data, default=str),
        headers={"Content-Type": "application/json"},
    )


@contextlib.contextmanager
def signed_in(tracker: Tracker, key: str | None = None) -> Iterator[httpx.Client]:
    """A browser signed in to the UI with ``key`` (alice's by default)."""
    with httpx.Client(base_url=tracker.base, timeout=30) as browser:
        answer = browser.post(
            "/login", data={"api_key": key or tracker.alice_key}, headers={"Origin": tracker.base}
        )
        assert answer.status_code == 303, answer.text
        yield browser


def api_keys(url: str, user: str) -> list[Any]:
    """The user's API keys, read from the database."""
    from claude_session.tracker.service.app import with_store

    return with_store(url, lambda store: store.auth.api_keys(user))


def many_sessions(tracker: Tracker, count: int) -> list[str]:
    """``count`` sessions, several sharing a start time; their ids newest first."""
    sent = [
        record(
            started_at=START + timedelta(hours=n // 3),
            ended_at=START + timedelta(hours=n // 3, minutes=5),
        )
        for n in range(count)
    ]
    for rec in sent:
        assert tracker.alice.post("/api/sessions", json=body(rec)).status_code == 201
    everything = tracker.alice.get("/api/sessions", params={"limit": 500}).json()["sessions"]
    return [s["id"] for s in everything]


def tracker_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    import argparse

    from claude_session.tracker.service import commands as cli

    parser = argparse.ArgumentParser()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true")
    cli.register(parser.add_subparsers(dest="verb"), common)
    args = parser.parse_args(["tracker", *argv])
    code = args.run(args)
    out, err = capsys.readouterr()
    return code, out, err
