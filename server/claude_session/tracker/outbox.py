"""The durable outbox: session records on their way to the tracker (``claude-session/outbox.db``).

Every record is written here before it is sent and removed only when the tracker confirmed it,
so a dead tracker, a lost network or a killed process never loses one. Rows are keyed by the
record's own id: queuing a record again replaces the waiting copy, and since the tracker updates
rather than duplicates on that id, a send that is repeated after a crash makes no second record.

States of a row::

    pending       waits to be sent
    auth_failed   the tracker refused the key (401/403); kept until the key changes or a later
                  send succeeds, then pending again
    rejected      the tracker refused the record itself (400/422), or failed on it (500) time
                  after time while it took other records: a dead letter, kept and shown with
                  the tracker's answer, never dropped; ``requeue_rejected`` sends it again

``failures`` counts a pending record's strikes: sends that failed with a 500 while the tracker
was shown to work (``strike``). Records with fewer strikes are claimed first, so a record the
tracker cannot take never holds back the ones behind it; at ``DEAD_AFTER`` strikes it becomes
a dead letter.

Each row has a ``version``, bumped whenever it is queued again: confirming removes the row only
if it still holds the version that was sent, so a newer copy queued meanwhile is not lost.

The ``state`` table holds the backoff after failures (so a dead tracker costs later commands
nothing: they queue without trying until the backoff is over) and the last error for
``claude-session status``.

SQLite in WAL mode with a busy timeout; every change is one ``BEGIN IMMEDIATE`` transaction, so
several Claude Code sessions on one machine can share the file (``outboxfile.py``: the
process's one connection to it, and the drain lock beside it).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from claude_session.base.state.outbox import STATES, count_rows
from claude_session.errors import StateError
from claude_session.models import SessionRecord
from claude_session.tracker.outboxfile import close_connections, connection, forget

__all__ = ["Backoff", "DeadLetter", "Entry", "Outbox", "backoff_delay", "close_connections"]

BACKOFF_FIRST = 15.0
BACKOFF_MAX = 900.0
DEAD_AFTER = 3  # strikes before a record the tracker keeps failing on becomes a dead letter


@dataclass(frozen=True)
class Entry:
    """One queued record, as claimed for sending."""

    id: str
    version: int
    payload: str
    attempts: int
    failures: int = 0  # strikes so far (see ``Outbox.strike``)

    def record(self) -> SessionRecord:
        return SessionRecord.model_validate_json(self.payload)


@dataclass(frozen=True)
class DeadLetter:
    """A record the tracker refused, or that waits for a valid key."""

    id: str
    state: str
    error: str | None
    field: str | None
    failures: int = 0
    application: str | None = None  # which record it is, for people reading the list
    ended_at: str | None = None


@dataclass(frozen=True)
class Backoff:
    failures: int
    until: float

    def remaining(self, now: float | None = None) -> float:
        return max(0.0, self.until - (time.time() if now is None else now))


def backoff_delay(failures: int, retry_after: float | None = None) -> float:
    """15 s after the first failure, doubling up to 15 min; longer if the tracker asked."""
    delay: float = min(BACKOFF_MAX, BACKOFF_FIRST * 2.0 ** max(0, failures - 1))
    if retry_after is not None:
        delay = max(delay, min(retry_after, 24 * 3600.0))
    return delay


class Outbox:
    """The outbox file; opening it costs nothing until the first operation."""

    def __init__(
        self, path: Path, *, busy_timeout: float = 10.0, clock: Callable[[], float] = time.time
    ) -> None:
        """``clock``: seconds since the epoch, for leases, queue times and the backoff (a test
        hands in one it moves itself)."""
        self.path = path
        self.busy_timeout = busy_timeout
        self.clock = clock

    # --- plumbing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This process's connection to the file, held for one operation."""
        conn, lock = connection(self.path, self.busy_timeout)
        with lock:
            try:
                yield conn
            except sqlite3.DatabaseError as exc:
                if not isinstance(exc, sqlite3.OperationalError) or "locked" not in str(exc):
                    forget(self.path)  # reopen next time: the file may have been replaced
                raise StateError(self._db_message(exc)) from exc
            except OSError as exc:
                raise StateError(f"Cannot use the tracker outbox {self.path} ({exc}).") from exc

    def _db_message(self, exc: sqlite3.DatabaseError) -> str:
        if "locked" in str(exc) or "busy" in str(exc):
            return (
                f"The tracker outbox {self.path} stayed locked by another claude-session "
                f"process for {self.busy_timeout:.0f} s; try again."
            )
        return (
            f"The tracker outbox {self.path} cannot be used ({exc}). Move it aside to "
            f"start a fresh one; records in it can be read with sqlite3."
        )

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front so two writers never deadlock on upgrade."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # --- queuing and sending --------------------------------------------------------------

    def put(self, record: SessionRecord, *, lease: float = 0.0) -> int:
        """Queue the record (replacing a waiting copy of it); the version to confirm later.

        ``lease`` keeps other processes' drains off the row for that many seconds, while this
        process sends it itself; if this process dies, the lease runs out and a drain takes it.
        """
        return self.put_many([record], lease=lease)[0]

    def put_many(self, records: Sequence[SessionRecord], *, lease: float = 0.0) -> list[int]:
        now = self.clock()
        versions: list[int] = []
        with self._write() as conn:
            seq = conn.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]
            for record in records:
                seq += 1
                row = conn.execute(
                    "INSERT INTO records (id, payload, queued_at, seq, lease_until) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                    "payload = excluded.payload, version = version + 1, state = 'pending', "
                    "lease_until = excluded.lease_until, error = NULL, field = NULL, "
                    "key_fingerprint = NULL, failures = 0 RETURNING version",
                    (record.id, record.model_dump_json(), now, seq, now + lease if lease else 0),
                ).fetchone()
                versions.append(int(row[0]))
        return versions

    def claim(self, limit: int, *, lease: float = 60.0, skip: Sequence[str] = ()) -> list[Entry]:
        """Pending records not leased by someone else, leased to this caller: those with the
        fewest strikes first, oldest first among equals; none of the ids in ``skip``."""
        now = self.clock()
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT id, version, payload, attempts, failures FROM records WHERE state = "
                f"'pending' AND lease_until <= ? AND id NOT IN ({', '.join('?' for _ in skip)}) "
                f"ORDER BY failures, seq LIMIT ?",
                (now, *skip, max(0, limit)),
            ).fetchall()
            conn.executemany(
                "UPDATE records SET lease_until = ?, attempts = attempts + 1 WHERE id = ?",
                [(now + lease, row[0]) for row in rows],
            )
        return [
            Entry(id=r[0], version=r[1], payload=r[2], attempts=r[3] + 1, failures=r[4])
            for r in rows
        ]

    def confirm(self, entries: Sequence[Entry]) -> int:
        """Remove what the tracker confirmed, unless a newer copy was queued meanwhile."""
        if not entries:
            return 0
        with self._write() as conn:
            done = conn.executemany(
                "DELETE FROM records WHERE id = ? AND version = ?",
                [(e.id, e.version) for e in entries],
            ).rowcount
            conn.executemany(
                "UPDATE records SET lease_until = 0 WHERE id = ?", [(e.id,) for e in entries]
            )
        return int(done)

    def release(self, entries: Sequence[Entry], *, error: str | None = None) -> None:
        """Give records back to the queue untouched (the tracker was not reached)."""
        if not entries:
            return
        with self._write() as conn:
            conn.executemany(
                "UPDATE records SET lease_until = 0, error = coalesce(?, error) WHERE id = ?",
                [(error, e.id) for e in entries],
            )

    def mark_rejected(self, entry: Entry, *, error: str, field: str | None) -> None:
        """Keep a refused record as a dead letter, with what the tracker said."""
        with self._write() as conn:
            conn.execute(
                "UPDATE records SET state = 'rejected', error = ?, field = ?, "
                "lease_until = 0 WHERE id = ? AND version = ?",
                (error, field, entry.id, entry.version),
            )

    def strike(self, entry: Entry, *, error: str, dead_after: int = DEAD_AFTER) -> bool:
        """Count a failure that was this record's (the tracker took others); at ``dead_after``
        strikes the record becomes a dead letter with ``error``. True when it did."""
        with self._write() as conn:
            row = conn.execute(
                "UPDATE records SET failures = failures + 1, error = ?, lease_until = 0 "
                "WHERE id = ? AND version = ? AND state = 'pending' RETURNING failures",
                (error, entry.id, entry.version),
            ).fetchone()
            if row is None or int(row[0]) < dead_after:
                return False
            conn.execute(
                "UPDATE records SET state = 'rejected', field = NULL WHERE id = ?", (entry.id,)
            )
        return True

    def mark_auth_failed(
        self, *, error: str, fingerprint: str | None, extra: Sequence[Entry] = ()
    ) -> int:
        """Park every pending record (and ``extra``, leased or not) until the key is fixed."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE records SET lease_until = 0 WHERE id = ?", [(e.id,) for e in extra]
            )
            changed = conn.execute(
                "UPDATE records SET state = 'auth_failed', error = ?, key_fingerprint = ? "
                "WHERE state = 'pending' AND lease_until <= ?",
                (error, fingerprint, self.clock()),
            ).rowcount
        return int(changed)

    def retry_auth_failed(
        self, *, unless_fingerprint: str | None = None, everything: bool = False
    ) -> int:
        """Make auth-failed records pending again: all of them, or those parked under a key
        other than ``unless_fingerprint`` (the key changed since)."""
        with self._write() as conn:
            if everything:
                cursor = conn.execute(
                    "UPDATE records SET state = 'pending', error = NULL WHERE state = 'auth_failed'"
                )
            else:
                cursor = conn.execute(
                    "UPDATE records SET state = 'pending', error = NULL WHERE state = "
                    "'auth_failed' AND key_fingerprint IS NOT ?",
                    (unless_fingerprint,),
                )
        return int(cursor.rowcount)

    def requeue_rejected(self, *, changes: list[str] | None = None) -> int:
        """Send the dead letters again (after the tracker or the record was fixed), made
        storable first (``sanitize_record``: a record queued by an older version may hold what
        the tracker cannot store); what that changed is appended to ``changes``."""
        from claude_session.tracker.sanitize import sanitize_record

        with self._write() as conn:
            rows = conn.execute(
                "SELECT id, payload FROM records WHERE state = 'rejected'"
            ).fetchall()
            for record_id, payload in rows:
                try:
                    record, changed = sanitize_record(SessionRecord.model_validate_json(payload))
                except ValueError:
                    continue  # unreadable by this version: requeued as it is, refused again
                if changed:
                    conn.execute(
                        "UPDATE records SET payload = ?, version = version + 1 WHERE id = ?",
                        (record.model_dump_json(), record_id),
                    )
                    if changes is not None:
                        changes.extend(changed)
            cursor = conn.execute(
                "UPDATE records SET state = 'pending', error = NULL, "
                "field = NULL, failures = 0 WHERE state = 'rejected'"
            )
        return int(cursor.rowcount)

    # --- backoff and errors ---------------------------------------------------------------

    def backoff(self) -> Backoff:
        values = self._state_values("failures", "backoff_until")
        return Backoff(
            failures=int(values.get("failures") or 0), until=float(values.get("backoff_until") or 0)
        )

    def note_failure(self, error: str, *, retry_after: float | None = None) -> Backoff:
        """Count a failure to reach the tracker and back off accordingly."""
        now = self.clock()
        with self._write() as conn:
            row = conn.execute("SELECT value FROM state WHERE name = 'failures'").fetchone()
            failures = int(row[0]) + 1 if row and row[0] else 1
            until = now + backoff_delay(failures, retry_after)
            self._set(
                conn,
                failures=str(failures),
                backoff_until=repr(until),
                last_error=error,
                last_error_at=repr(now),
            )
        return Backoff(failures, until)

    def note_success(self) -> None:
        """The tracker answered: no backoff, and the last network error is history."""
        with self._write() as conn:
            self._set(conn, failures=None, backoff_until=None, last_error=None, last_error_at=None)

    def note_error(self, error: str) -> None:
        """Remember an error for ``status`` without backing off (auth, configuration)."""
        with self._write() as conn:
            self._set(conn, last_error=error, last_error_at=repr(self.clock()))

    def _set(self, conn: sqlite3.Connection, **values: str | None) -> None:
        for name, value in values.items():
            if value is None:
                conn.execute("DELETE FROM state WHERE name = ?", (name,))
            else:
                conn.execute(
                    "INSERT INTO state (name, value) VALUES (?, ?) ON CONFLICT (name) "
                    "DO UPDATE SET value = excluded.value",
                    (name, value),
                )

    def _state_values(self, *names: str) -> dict[str, str | None]:
        if not self.path.exists():
            return {}
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT name, value FROM state WHERE name IN ({', '.join('?' for _ in names)})",
                names,
            ).fetchall()
        return {str(name): value for name, value in rows}

    # --- what status shows ----------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Records kept, by state (every state present, zero when empty): the read the status
        line makes too (``base/state/outbox.py``)."""
        if not self.path.exists():
            return dict.fromkeys(STATES, 0)
        with self._connect() as conn:  # its own connection: made and migrated if it is new
            found = count_rows(conn)
        return {state: found[state] for state in STATES}

    def depth(self) -> int:
        """Every record kept: waiting, waiting for a key, or refused."""
        return sum(self.counts().values())

    def dead_letters(self) -> list[DeadLetter]:
        """Records that are not simply waiting: refused ones and those waiting for a key."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, state, error, field, failures, payload "
                "FROM records WHERE state != 'pending' ORDER BY seq"
            ).fetchall()
        return [
            DeadLetter(
                id=r[0],
                state=r[1],
                error=r[2],
                field=r[3],
                failures=r[4],
                **_which(r[5]),
            )
            for r in rows
        ]

    def last_error(self) -> str | None:
        """What went wrong last, for ``status``: the network first, then keys, then refusals."""
        recorded = self._state_values("last_error").get("last_error")
        if recorded:
            return recorded
        letters = self.dead_letters()
        auth = [d for d in letters if d.state == "auth_failed"]
        if auth:
            return f"{len(auth)} record(s) wait for a valid tracker key: {auth[-1].error}"
        refused = [d for d in letters if d.state == "rejected"]
        if refused:
            field = f" (field '{refused[-1].field}')" if refused[-1].field else ""
            return f"{len(refused)} record(s) refused by the tracker{field}: {refused[-1].error}"
        with self._connect() as conn:
            struck = conn.execute(
                "SELECT count(*), max(error) FROM records WHERE state = 'pending' AND failures > 0"
            ).fetchone()
        if struck and struck[0]:
            return (
                f"{struck[0]} record(s) the tracker failed on, tried again after the "
                f"others (refused after {DEAD_AFTER} failures): {struck[1]}"
            )
        return None


def _which(payload: str) -> dict[str, str | None]:
    """The application and end time in a queued payload, when it can be read."""
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        name: str(data[key]) if data.get(key) is not None else None
        for name, key in (("application", "application_name"), ("ended_at", "ended_at"))
    }
