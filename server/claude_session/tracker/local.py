"""The local session tracker: the tracker service's storage on a SQLite file on this machine.

Used when no tracker URL is configured, so history works on one machine out of the box, and
``claude-session tracker serve`` on the same file shows it in a browser. Records belong to the
user ``local`` (``claude-session tracker token create --user local`` makes a key to log in).

The database is opened lazily: opening ``LocalTracker`` never fails, and a database that cannot
be used surfaces from ``send`` as ``TrackerUnavailable``, which leaves the record in the outbox.
Several Claude Code sessions end at once on one machine, so the file runs in WAL mode with a
busy timeout and every send is one ``BEGIN IMMEDIATE`` transaction (see store/database.py).
Creating the file and migrating it happen under a file lock, so first use from several
processes is safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from claude_session.base import flow
from claude_session.base.statefile import file_lock, move_aside
from claude_session.errors import (
    CorruptDatabase,
    InvalidRecord,
    NewerSchema,
    StateError,
    StorageRejected,
    StoreError,
    TrackerRejected,
    TrackerUnavailable,
)
from claude_session.models import SessionRecord
from claude_session.tracker.base import Search, Tracker

if TYPE_CHECKING:  # SQLAlchemy: imported when the database is first opened, not when the
    # tracker is (``status`` and the MCP server's first call name the tracker; paired runs of
    # bench_claude_code.py: its import is ~200 ms of a first tool call, goal 1.0x mcp-server-git)
    from sqlalchemy.engine import Engine

    from claude_session.tracker.store.auth import User
    from claude_session.tracker.store.history import TrackedSession
    from claude_session.tracker.store.storage import Store

LOCAL_USER = "local"

T = TypeVar("T")


def _record(session: TrackedSession) -> SessionRecord:
    """The stored record as the plugin knows it (without the tracker's own columns)."""
    return SessionRecord.model_validate(session.model_dump())


class LocalTracker(Tracker):
    """Session records in a SQLite database (``claude-session/tracker.db``)."""

    kind = "local"

    def __init__(self, path: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.description = f"local tracker database at {path}"
        self.busy_timeout = busy_timeout
        self._engine: Engine | None = None
        self._store: Store | None = None
        self._user: User | None = None
        self._mutex = threading.Lock()  # one engine, shared by the MCP server's threads

    # --- the interface ---

    def send(
        self, record: SessionRecord, *, budget: float | None = None, attempts: int | None = None
    ) -> str:
        """Store the record (``budget`` and ``attempts`` are the remote tracker's: the local
        database waits its busy timeout and tries once)."""
        self._run(lambda store, user: store.records.save(user, record))
        return record.id

    def list_sessions(
        self, *, project: str | None = None, limit: int = 20, search: Search | None = None
    ) -> list[SessionRecord]:
        from claude_session.tracker.store.search import from_query

        filters = from_query(search or {})
        page = self._run(
            lambda store, user: store.history.list_sessions(
                user, application=project, limit=max(limit, 0), filters=filters
            )
        )
        for session_id, reason in page.unreadable:
            flow.warn(
                f"Session {session_id} in the {self.description} is "
                f"unreadable ({reason}); it was skipped."
            )
        return [_record(s) for s in page.sessions]

    def get_session(self, session_id: str) -> SessionRecord | None:
        found = self._run(lambda store, user: store.history.get_session(user, session_id))
        return None if found is None else _record(found)

    def close(self) -> None:
        with self._mutex:
            if self._engine is not None:
                self._engine.dispose()
            self._engine = self._store = self._user = None

    # --- the database ---

    def _run(self, work: Callable[[Store, User], T]) -> T:
        """Run ``work`` on the open store, its errors as the tracker's."""
        with self._mutex:
            try:
                store, user = self._open()
                return work(store, user)
            except StorageRejected as exc:
                field = exc.field if isinstance(exc, InvalidRecord) else None
                raise TrackerRejected(
                    f"The local tracker refused the record: {exc}.", field=field
                ) from exc
            except NewerSchema as exc:
                raise TrackerUnavailable(
                    f"The {self.description} was written by a newer claude-session ({exc}). "
                    f"Upgrade claude-session; records wait in the outbox until then."
                ) from exc
            except (StoreError, StateError) as exc:  # StateError: the first-use lock
                raise TrackerUnavailable(
                    f"{exc} The record is kept and sent again on the next start, end or "
                    f"`claude-session sync`."
                ) from exc

    def _open(self) -> tuple[Store, User]:
        from claude_session.tracker.store.storage import Store

        if self._store is None or self._user is None:
            with file_lock(self.path, timeout=self.busy_timeout):
                self._engine = self._open_or_set_aside()
                store = Store(self._engine)
                self._user = store.auth.user(LOCAL_USER)
                self._store = store
        return self._store, self._user

    def _open_or_set_aside(self) -> Engine:
        try:
            return self._migrated()
        except CorruptDatabase as exc:
            # Never overwrite what we cannot read: keep it beside, start a fresh database.
            for suffix in ("", "-wal", "-shm", "-journal"):
                sidecar = self.path.with_name(self.path.name + suffix)
                if sidecar.exists():
                    flow.warn(move_aside(sidecar, exc.reason))
            return self._migrated()

    def _migrated(self) -> Engine:
        from claude_session.tracker.store.database import create_engine, migrate

        engine = create_engine(
            f"sqlite:///{self.path}", busy_timeout=self.busy_timeout, durable=True
        )
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return engine
