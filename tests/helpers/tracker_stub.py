"""The real tracker service on 127.0.0.1 for client tests, with failures put in front of it.

Despite the module's name nothing here stands in for the service: ``tracker_service`` runs
``claude_session.tracker.service.app.create_app`` on a SQLite file under uvicorn in a thread,
and ``Faults`` is an ASGI layer in front of it that answers chosen requests with a status
(503, 429 with Retry-After, 401, 400 ...) or delays them, then lets the rest through to the
real app. Connection refused is a port nobody listens on (``closed_port``).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import uvicorn

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
    from claude_session.tracker.service.app import create_api_key, create_app

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
