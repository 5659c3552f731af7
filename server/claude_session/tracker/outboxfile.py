"""The outbox file (``claude-session/outbox.db``) as this process holds it: one connection per
file, made, migrated and kept open until the process exits (``close_connections`` closes them
sooner), and the drain lock beside it.

Closing the last connection to a WAL database checkpoints it with an fsync, which made every
outbox operation cost about 4 ms when each opened its own connection.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from claude_session.base import locking
from claude_session.base.state.outbox import SCHEMA
from claude_session.base.statefile import open_private
from claude_session.errors import StateError
from claude_session.paths import FILE_MODE, ensure_dir

_Shared = tuple[sqlite3.Connection, threading.RLock]
_OPEN: dict[tuple[str, int], _Shared] = {}
_OPEN_LOCK = threading.Lock()


def connection(path: Path, busy_timeout: float) -> _Shared:
    """The process's open connection to ``path`` (made, migrated and chmod-ed on first use)."""
    key = (str(path), os.getpid())  # a forked child must not share its parent's connection
    with _OPEN_LOCK:
        shared = _OPEN.get(key)
        if shared is None:
            shared = (_open(path, busy_timeout), threading.RLock())
            _OPEN[key] = shared
        return shared


def _open(path: Path, busy_timeout: float) -> sqlite3.Connection:
    try:
        ensure_dir(path.parent)
        fresh = not path.exists()
        if fresh:  # made 0600 before SQLite opens it (and its -wal/-shm copy that mode)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        conn = sqlite3.connect(
            path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
    except (OSError, sqlite3.Error) as exc:
        raise StateError(
            f"Cannot open the tracker outbox {path} ({exc}). Check that the "
            f"folder is writable and the disk not full."
        ) from exc
    try:
        if fresh:
            os.chmod(path, FILE_MODE)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for statement in SCHEMA:
            conn.execute(statement)
    except (OSError, sqlite3.Error) as exc:
        conn.close()
        raise StateError(
            f"Cannot use the tracker outbox {path} ({exc}). Move it aside to start a fresh one."
        ) from exc
    return conn


def forget(path: Path) -> None:
    with _OPEN_LOCK:
        shared = _OPEN.pop((str(path), os.getpid()), None)
    if shared is not None:
        with contextlib.suppress(sqlite3.Error):
            shared[0].close()


def close_connections() -> None:
    """Close this process's outbox connections (tests, long-lived processes tidying up)."""
    for path, pid in list(_OPEN):
        if pid == os.getpid():
            forget(Path(path))


@contextlib.contextmanager
def drain_lock(outbox_path: Path, *, wait: float = 0.0) -> Iterator[bool]:
    """Try to become the one drainer of this outbox, waiting up to ``wait`` seconds for one
    that is sending (another process, or the MCP server's startup sync in this one); yields
    False if it is still at it.

    A ``flock`` dies with its process, so a drain killed midway never blocks the next one.
    """
    lock_path = outbox_path.with_name(f".{outbox_path.name}.drain-lock")
    try:
        ensure_dir(lock_path.parent)
        fd = open_private(lock_path, os.O_RDWR)
    except OSError as exc:
        raise StateError(
            f"Cannot create {lock_path} ({exc.strerror}); check that the folder is writable."
        ) from exc
    try:
        deadline = time.monotonic() + wait
        while not locking.try_lock(fd):
            if time.monotonic() >= deadline:
                yield False
                return
            time.sleep(0.02)
        yield True
    finally:
        os.close(fd)
