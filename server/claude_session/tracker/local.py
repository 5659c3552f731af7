"""The local session tracker: the seed's three tables in a SQLite file on this machine.

Used when no tracker URL is configured, so history works on one machine out of the box. The
database is opened lazily: opening ``LocalTracker`` never fails, and a database that cannot be
used surfaces from ``send`` as ``TrackerUnavailable``, which leaves the record in the outbox.

Several Claude Code sessions end at once on one machine, so the file runs in WAL mode with a
busy timeout, and every send is one ``BEGIN IMMEDIATE`` transaction. Creating the file, switching
it to WAL and migrating it happen under a file lock, so first use from several processes is safe.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from claude_session.errors import (
    ClaudeSessionError,
    StateError,
    TrackerRejected,
    TrackerUnavailable,
)
from claude_session.models import MaintenanceRun, SessionRecord, new_id, utcnow
from claude_session.paths import FILE_MODE, ensure_dir
from claude_session.statefile import file_lock, move_aside
from claude_session.tracker.base import Tracker

LOCAL_USER = "local"

T = TypeVar("T")

# One entry per schema version; entry n upgrades user_version n to n + 1. Never edit a shipped
# entry: add one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE applications (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            user_id TEXT NOT NULL,
            repository_url TEXT,
            created_at TEXT NOT NULL
        )""",
        # The repository is a project's identity across folder names; without one, the name.
        """CREATE UNIQUE INDEX applications_by_repository ON applications (user_id, repository_url)
            WHERE repository_url IS NOT NULL""",
        """CREATE UNIQUE INDEX applications_by_name ON applications (user_id, name)
            WHERE repository_url IS NULL""",
        """CREATE TABLE claude_sessions (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL REFERENCES applications (id),
            started_at TEXT NOT NULL,
            ended_at TEXT NOT NULL,
            duration_minutes INTEGER NOT NULL DEFAULT 0,
            starting_branch TEXT,
            ending_branch TEXT,
            commits_count INTEGER NOT NULL DEFAULT 0,
            context_id TEXT,
            session_source TEXT,
            tokens_input INTEGER NOT NULL DEFAULT 0,
            tokens_output INTEGER NOT NULL DEFAULT 0,
            summary TEXT NOT NULL DEFAULT '',
            accomplishments TEXT NOT NULL DEFAULT '[]',
            next_steps TEXT NOT NULL DEFAULT '[]',
            files_changed TEXT NOT NULL DEFAULT '[]',
            maintenance_runs TEXT NOT NULL DEFAULT '[]',
            security_findings TEXT NOT NULL DEFAULT '[]',
            claude_session_id TEXT,
            tokens_cache_creation INTEGER NOT NULL DEFAULT 0,
            tokens_cache_read INTEGER NOT NULL DEFAULT 0,
            machine TEXT,
            end_mode TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX claude_sessions_by_start ON claude_sessions (application_id, started_at)",
        "CREATE INDEX claude_sessions_started ON claude_sessions (started_at)",
        """CREATE TABLE maintenance_runs (
            id TEXT PRIMARY KEY,
            application_id TEXT NOT NULL REFERENCES applications (id),
            session_id TEXT REFERENCES claude_sessions (id) ON DELETE CASCADE,
            command_type_id TEXT,
            command TEXT NOT NULL,
            status TEXT NOT NULL,
            results TEXT,
            notes TEXT,
            run_at TEXT NOT NULL
        )""",
        "CREATE INDEX maintenance_runs_by_session ON maintenance_runs (session_id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

_SCALARS = ("started_at", "ended_at", "duration_minutes", "starting_branch", "ending_branch",
            "commits_count", "context_id", "session_source", "tokens_input", "tokens_output",
            "summary", "claude_session_id", "tokens_cache_creation", "tokens_cache_read",
            "machine", "end_mode")
_JSON = ("accomplishments", "next_steps", "files_changed", "maintenance_runs",
         "security_findings")
_COLUMNS = ("id", "application_id", *_SCALARS, *_JSON, "created_at", "updated_at")
_UPSERT = (
    f"INSERT INTO claude_sessions ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("id", "created_at"))
)
_SELECT = ("SELECT s.*, a.name AS application_name, a.repository_url AS repository_url "
           "FROM claude_sessions s JOIN applications a ON a.id = s.application_id")


class NewerSchema(ClaudeSessionError):
    """The database was migrated by a newer claude-session."""


def timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with a fixed shape, so text order is time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to ``SCHEMA_VERSION`` in one transaction; return the version found."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if found > SCHEMA_VERSION:
            raise NewerSchema(f"schema version {found}, this claude-session knows "
                              f"{SCHEMA_VERSION}")
        for statements in MIGRATIONS[found:]:
            for statement in statements:
                conn.execute(statement)
        # PRAGMA takes no parameters; SCHEMA_VERSION is our own integer.
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found


def _is_corrupt(exc: sqlite3.Error) -> bool:
    # SQLITE_NOTADB and SQLITE_CORRUPT raise the bare DatabaseError; locks, I/O and permission
    # problems raise its OperationalError subclass and are not the file's fault.
    return type(exc) is sqlite3.DatabaseError


def _create_private(path: Path) -> None:
    ensure_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


class LocalTracker(Tracker):
    """Session records in a SQLite database (``claude-session/tracker.db``)."""

    kind = "local"

    def __init__(self, path: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.description = f"local tracker database at {path}"
        self.busy_timeout = busy_timeout
        self.warnings: list[str] = []
        self._conn: sqlite3.Connection | None = None
        self._mutex = threading.Lock()  # one connection, shared by the MCP server's threads

    # --- the interface ---

    def send(self, record: SessionRecord) -> str:
        self._run(lambda conn: self._store(conn, record))
        return record.id

    def list_sessions(self, *, project: str | None = None,
                      limit: int = 20) -> list[SessionRecord]:
        where, params = ("WHERE a.name = ?", [project]) if project is not None else ("", [])
        sql = f"{_SELECT} {where} ORDER BY s.started_at DESC, s.created_at DESC LIMIT ?"
        rows = self._run(lambda conn: conn.execute(sql, [*params, max(limit, 0)]).fetchall())
        return [record for record in map(self._parse, rows) if record is not None]

    def get_session(self, session_id: str) -> SessionRecord | None:
        rows = self._run(
            lambda conn: conn.execute(f"{_SELECT} WHERE s.id = ?", [session_id]).fetchall())
        return self._parse(rows[0]) if rows else None

    def _parse(self, row: sqlite3.Row) -> SessionRecord | None:
        """The row as a record; a row edited into nonsense is skipped with a warning."""
        try:
            return _record(row)
        except ValueError as exc:  # bad JSON, or a value the model refuses
            self.warnings.append(f"Session {row['id']} in the {self.description} is unreadable "
                                 f"({str(exc).splitlines()[0]}); it was skipped.")
            return None

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- connection ---

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on the open database, translating SQLite's errors into ours."""
        with self._mutex:
            try:
                return work(self._connection())
            except sqlite3.IntegrityError as exc:
                raise TrackerRejected(f"The local tracker refused the record: {exc}.") from exc
            except sqlite3.Error as exc:
                raise TrackerUnavailable(
                    f"The {self.description} cannot be used ({exc}). The record is kept and "
                    f"sent again on the next start, end or `claude-session sync`.") from exc
            except StateError as exc:  # the first-use lock, or the folder cannot be written
                raise TrackerUnavailable(f"{exc} The record is kept and sent again later.") \
                    from exc
            except NewerSchema as exc:
                raise TrackerUnavailable(
                    f"The {self.description} was written by a newer claude-session ({exc}). "
                    f"Upgrade claude-session; records wait in the outbox until then.") from exc

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            with file_lock(self.path, timeout=self.busy_timeout):
                self._conn = self._open_or_set_aside()
        return self._conn

    def _open_or_set_aside(self) -> sqlite3.Connection:
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise
            # Never overwrite what we cannot read: keep it beside, start a fresh database.
            for suffix in ("", "-wal", "-shm", "-journal"):
                sidecar = self.path.with_name(self.path.name + suffix)
                if sidecar.exists():
                    self.warnings.append(move_aside(sidecar, str(exc)))
            return self._open()

    def _open(self) -> sqlite3.Connection:
        _create_private(self.path)
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    # --- writing ---

    def _store(self, conn: sqlite3.Connection, record: SessionRecord) -> None:
        with _transaction(conn):
            app_id = _application(conn, record.application_name, record.repository_url)
            conn.execute(_UPSERT, _row(record, app_id))
            conn.execute("DELETE FROM maintenance_runs WHERE session_id = ?", [record.id])
            conn.executemany(
                "INSERT OR REPLACE INTO maintenance_runs (id, application_id, session_id, "
                "command_type_id, command, status, results, notes, run_at) "
                "VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)",
                [(run.id, app_id, record.id, run.command, run.status, _dumps(run.results),
                  run.notes, timestamp(run.run_at)) for run in record.maintenance_runs])


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _application(conn: sqlite3.Connection, name: str, repository_url: str | None) -> str:
    """The id of the local user's application for this project, created on first use."""
    if repository_url is not None:
        found = conn.execute(
            "SELECT id, name FROM applications WHERE user_id = ? AND repository_url = ?",
            [LOCAL_USER, repository_url]).fetchone()
    else:
        found = conn.execute(
            "SELECT id, name FROM applications WHERE user_id = ? AND name = ? "
            "AND repository_url IS NULL", [LOCAL_USER, name]).fetchone()
    if found is None:
        app_id = new_id()
        conn.execute("INSERT INTO applications (id, name, user_id, repository_url, created_at) "
                     "VALUES (?, ?, ?, ?, ?)",
                     [app_id, name, LOCAL_USER, repository_url, timestamp(utcnow())])
        return app_id
    if found["name"] != name:
        # The folder was renamed or cloned under another name: show the current name.
        conn.execute("UPDATE applications SET name = ? WHERE id = ?", [name, found["id"]])
    return str(found["id"])


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _row(record: SessionRecord, app_id: str) -> Sequence[Any]:
    data = record.model_dump(mode="json")
    now = timestamp(utcnow())
    scalars = [data[c] for c in _SCALARS]
    scalars[0:2] = [timestamp(record.started_at), timestamp(record.ended_at)]
    return [record.id, app_id, *scalars, *(_dumps(data[c]) for c in _JSON), now, now]


def _record(row: sqlite3.Row) -> SessionRecord:
    data: dict[str, Any] = dict(zip(row.keys(), row, strict=True))
    for column in _JSON:
        data[column] = json.loads(data[column])
    data["maintenance_runs"] = [MaintenanceRun.model_validate(r) for r in data["maintenance_runs"]]
    return SessionRecord.model_validate(data)
