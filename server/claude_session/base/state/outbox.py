"""The tracker outbox's file (``claude-session/outbox.db``): its tables, and what it keeps,
counted without a lock.

Standard library only: the status line and the SessionStart hook read the counts here, and so
does ``claude-session status`` through ``tracker/outbox.py``, which owns every write (states,
leases, strikes, backoff; its docstring tells them).
"""

from __future__ import annotations

import os
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from sqlite3 import Connection

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS records (
        id TEXT PRIMARY KEY,
        payload TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'auth_failed', 'rejected')),
        queued_at REAL NOT NULL,
        seq INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_until REAL NOT NULL DEFAULT 0,
        error TEXT,
        field TEXT,
        key_fingerprint TEXT,
        failures INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS records_by_state ON records (state, seq)",
    """CREATE TABLE IF NOT EXISTS state (
        name TEXT PRIMARY KEY,
        value TEXT
    )""",
)
STATES = ("pending", "auth_failed", "rejected")


def counts(path: Path) -> dict[str, int] | None:
    """Records kept in the outbox at ``path``, by state (every state, zero when none), and
    ``failing``: how many sends in a row failed to reach the tracker (its backoff). None when
    the file cannot be read; all zero when there is none yet.

    ``sqlite3`` is imported only when the file exists, and the file is opened read-only: this
    never creates, migrates or checkpoints it. Without a ``-wal`` file every change is in the
    main file, which is then read as immutable (no ``-wal``/``-shm`` made, no locks); with one
    (a writer is at work) it is read in WAL mode, which waits for no writer. A count read while
    a checkpoint rewrites the file may be off; the next read corrects it.
    """
    found = dict.fromkeys((*STATES, "failing"), 0)
    try:
        if os.stat(path).st_size == 0:  # made, its tables not yet
            return found
    except OSError:
        return found
    import sqlite3

    quiet = "" if os.path.exists(f"{path}-wal") else "&immutable=1"
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro{quiet}", uri=True, timeout=0.5)
        try:
            return count_rows(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def count_rows(conn: Connection) -> dict[str, int]:
    """``counts`` read through an open connection (the outbox's own, in a flow)."""
    found = dict.fromkeys((*STATES, "failing"), 0)
    rows = conn.execute("SELECT state, count(*) FROM records GROUP BY state").fetchall()
    failing = conn.execute("SELECT value FROM state WHERE name = 'failures'").fetchone()
    found.update((str(state), int(count)) for state, count in rows)
    found["failing"] = _count(failing[0]) if failing else 0
    return found


def _count(value: object) -> int:
    try:
        return max(int(str(value)), 0)
    except ValueError:
        return 0
