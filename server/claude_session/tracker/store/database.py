"""Engines, portable column types and migrations for the tracker's database.

SQLite (a file, the default) and PostgreSQL (``postgresql://...``, for a team) share one
schema. Column types say what a value is (a uuid, a moment, a JSON document) and pick the
native type where the database has one: ``uuid``, ``timestamptz`` and ``jsonb`` on PostgreSQL;
text on SQLite, where timestamps are ISO-8601 in UTC with a fixed shape so that text order is
time order.

Migrations are Alembic's, shipped in ``migrations/``. ``migrate`` runs them inside one
transaction (both databases have transactional DDL), after a cheap check that skips Alembic
entirely when the schema is current, so opening the local tracker stays fast.

SQLAlchemy's errors enter claude-session here and only here: ``translated`` turns them into the
store's errors (``errors.py``: StorageUnavailable, StorageRejected, CorruptDatabase), for every
read and write of the store and for migrating.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.pool import ConnectionPoolEntry

from claude_session.base import locking
from claude_session.base.gitread import strip_credentials
from claude_session.errors import (
    ConfigError,
    CorruptDatabase,
    InvalidRecord,
    NewerSchema,
    StorageRejected,
    StorageUnavailable,
    StoreError,
)
from claude_session.paths import FILE_MODE, ensure_dir

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# Alembic revisions in order, on one branch; the last is the head. Add one per new migration
# file (0002 revises 0001, ...); a test checks that this list matches the files.
REVISIONS: tuple[str, ...] = ("0001", "0002")
HEAD = REVISIONS[-1]

# SQLite transactions begin DEFERRED unless a connection asks for IMMEDIATE: a write that starts
# as a read can otherwise fail with "database is locked" without waiting for the busy timeout.
WRITE = {"sqlite_begin": "BEGIN IMMEDIATE"}


# --- column types -----------------------------------------------------------------------------


def is_uuid(value: str) -> bool:
    """Is ``value`` a uuid (what a ``Guid`` column holds)?"""
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with a fixed shape, so text order is time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


class Guid(sa.types.TypeDecorator[str]):
    """A uuid, handed to Python as its canonical text; native ``uuid`` on PostgreSQL."""

    impl = sa.String(36)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.UUID(as_uuid=False))
        return dialect.type_descriptor(sa.String(36))

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(uuid.UUID(str(value)))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)


class Moment(sa.types.TypeDecorator[datetime]):
    """A moment with its time zone: ``timestamptz`` on PostgreSQL, fixed-shape UTC text else."""

    impl = sa.String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.DateTime(timezone=True))
        return dialect.type_descriptor(sa.String(32))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return timestamp(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        return datetime.fromisoformat(str(value))


@dataclass(frozen=True)
class Unreadable:
    """A JSON column whose text does not parse (a hand-edited SQLite file)."""

    text: str
    reason: str


class Document(sa.types.TypeDecorator[Any]):
    """A JSON document: ``jsonb`` on PostgreSQL, JSON text on SQLite.

    On SQLite the text is parsed here rather than by the driver, so that one unreadable row
    becomes an ``Unreadable`` value for that row instead of failing the whole query.
    """

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            return value
        return json.dumps(value, ensure_ascii=False, default=str)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "postgresql" or value is None:
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            return Unreadable(str(value), str(exc))


# --- engines ----------------------------------------------------------------------------------


def normalize_url(database: str) -> sa.URL:
    """A SQLAlchemy URL from what a user types: a URL, or a path to a SQLite file."""
    if "://" not in database:
        return sa.make_url(f"sqlite:///{Path(database).expanduser().resolve()}")
    try:
        url = sa.make_url(database)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(
            f"{database!r} is not a database URL; use sqlite:///PATH or postgresql://USER@HOST/DB."
        ) from exc
    if url.drivername in ("postgresql", "postgres"):
        # psycopg 3 is the driver we ship with; SQLAlchemy would otherwise look for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"The tracker supports SQLite and PostgreSQL, not {url.get_backend_name()}."
        )
    return url


def shown(database: str | sa.URL) -> str:
    """The database URL for messages: no password in it (the user name stays)."""
    url = database if isinstance(database, sa.URL) else normalize_url(database)
    return str(strip_credentials(url.render_as_string(hide_password=False)))


def sqlite_path(url: sa.URL) -> Path | None:
    """The file behind a SQLite URL, or None (memory, or not SQLite)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database))


def create_engine(
    database: str | sa.URL, *, busy_timeout: float = 10.0, durable: bool = False
) -> Engine:
    """An engine for SQLite or PostgreSQL, set up for our transactions. ``durable``: on
    SQLite every commit is synced to disk (the local tracker: a user's only copy of a record
    once the outbox lets go of it); otherwise a power cut may lose the last commits (the
    service, for its throughput; the README's deployment notes say so)."""
    # ``hide_parameters``: a record's values (and a key's hash) never reach a log line or an
    # exception's text, SQLAlchemy's echo included (redteam T31).
    url = database if isinstance(database, sa.URL) else normalize_url(database)
    path = sqlite_path(url)
    if path is not None:
        with _file_errors(path):
            _create_private(path)
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout},
            hide_parameters=True,
        )
        _setup_sqlite(engine, busy_timeout, durable=durable)
        return engine
    try:
        # Moments come back in the session's zone: UTC, so one near year 9999 still reads.
        # Each statement is planned for its own values: a plan kept for any branch or word
        # (psycopg prepares a statement run 5 times) read every row for a rare one (45 ms
        # at 100,000 records, bench/bench_search.py).
        return sa.create_engine(
            url,
            pool_pre_ping=True,
            hide_parameters=True,
            pool_size=5,
            max_overflow=10,
            connect_args={"options": "-c timezone=UTC -c plan_cache_mode=force_custom_plan"},
        )
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("psycopg"):
            raise
        raise ConfigError(
            f"{shown(url)} needs the PostgreSQL driver, which is not installed: add it with "
            f"`{shlex.quote(sys.executable)} -m pip install 'psycopg[binary]>=3.1'` (the "
            f"`claude-session[postgres]` extra; with pipx: `pipx inject claude-session "
            f"'psycopg[binary]'`)."
        ) from exc


def _create_private(path: Path) -> None:
    """The file and its folder, readable by their owner only (session records are private)."""
    ensure_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def _setup_sqlite(engine: Engine, busy_timeout: float, *, durable: bool) -> None:
    """WAL, foreign keys, a busy timeout, and transactions we begin ourselves."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        # pysqlite's own transaction handling would defeat BEGIN IMMEDIATE: turn it off.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            # In WAL, NORMAL syncs at checkpoints, not at every commit: a commit survives the
            # process crashing, only a power cut or kernel crash may lose the last ones (the
            # README's deployment notes say so). FULL cost the service a third of a record's
            # write; the local tracker takes a record per session and keeps FULL.
            cursor.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


@contextlib.contextmanager
def translated(engine: Engine) -> Iterator[None]:
    """SQLAlchemy's errors inside the block, raised as the store's (``errors.py``)."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise _store_error(exc, shown(engine.url)) from exc


#: PostgreSQL's indexes and the fields of a record they hold (a value past what an index
#: row can hold is the record's fault, never the database's)
INDEXED_FIELDS = {
    "applications_by_repository": "repository_url",
    "applications_by_name": "application_name",
}


def _store_error(exc: sa.exc.DBAPIError, database: str) -> StoreError:
    # The driver's first line: never SQLAlchemy's text, which quotes the statement's values.
    reason = str(exc.orig or exc).splitlines()[0]
    if str(getattr(exc.orig, "sqlstate", "") or "").startswith("54"):
        # SQLSTATE class 54, "program limit exceeded" (an index row too large, too many
        # columns): the same record fails every time, so it is refused, not "unavailable".
        field = next((f for i, f in INDEXED_FIELDS.items() if i in reason), "body")
        return InvalidRecord(
            f"{field} is larger than the tracker's database holds ({reason}).", field
        )
    if isinstance(exc, sa.exc.IntegrityError):
        return StorageRejected(f"The tracker database {database} refused the write ({reason}).")
    # SQLITE_NOTADB and SQLITE_CORRUPT raise the bare DatabaseError; locks, I/O and permission
    # problems raise its OperationalError subclass and are not the file's fault.
    if type(exc.orig) is sqlite3.DatabaseError:
        return CorruptDatabase(
            f"The tracker database {database} is damaged ({reason}).", reason=reason
        )
    if isinstance(exc, sa.exc.OperationalError):
        return StorageUnavailable(f"The tracker database {database} cannot be used ({reason}).")
    return StoreError(f"The tracker database {database} failed ({reason}).")


@contextlib.contextmanager
def _file_errors(path: Path) -> Iterator[None]:
    """An unusable file or folder beside the database, as StorageUnavailable."""
    try:
        yield
    except OSError as exc:
        raise StorageUnavailable(
            f"Cannot use {path} ({exc.strerror or exc}); check that its folder is writable."
        ) from exc


@contextlib.contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """One read transaction (a count and its page see the same rows), errors translated."""
    with translated(engine), engine.connect() as conn, conn.begin():
        yield conn


@contextlib.contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction, begun IMMEDIATE on SQLite after this file's writers ahead of us
    (``write_turn``), errors translated."""
    with translated(engine), write_turn(engine), engine.connect() as conn:
        conn = conn.execution_options(**WRITE)
        with conn.begin():
            yield conn


@contextlib.contextmanager
def write_turn(engine: Engine) -> Iterator[None]:
    """Wait for this SQLite file's writers ahead of us, then hold the turn (no-op elsewhere).

    SQLite lets one transaction write at a time and a writer that finds the file locked polls,
    sleeping up to 100 ms between tries: under load some writes waited a quarter of a second
    with the file free most of that time. A lock file next to the database (``DB.write-lock``,
    one per open, so threads and processes alike queue on it) wakes the next writer as soon as
    the turn ends. Writers that do not take it (an older claude-session) still meet the busy
    timeout, as before.
    """
    path = sqlite_path(engine.url)
    if path is None:
        yield
        return
    with _locked(path.with_name(path.name + ".write-lock")):
        yield


# --- migrations -------------------------------------------------------------------------------


def current_revision(conn: Connection) -> str | None:
    """The schema's Alembic revision, or None for an empty database."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def migrate(engine: Engine) -> str | None:
    """Bring the schema to ``HEAD`` in one transaction; return the revision found."""
    with translated(engine):
        return _migrate(engine)


def _migrate(engine: Engine) -> str | None:
    with engine.connect() as conn, conn.begin():
        # The usual case, checked without taking SQLite's write lock.
        if current_revision(conn) == HEAD:
            return HEAD
    # Several service processes (workers) may start at once: one migrates, the others wait for
    # it and then find the schema current. PostgreSQL: an advisory lock held by the migrating
    # transaction. SQLite: a lock file next to the database, and BEGIN IMMEDIATE besides.
    with _file_lock(sqlite_path(engine.url)), engine.connect() as conn:
        conn = conn.execution_options(**WRITE)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7315402)"))
            found = current_revision(conn)
            if found == HEAD:
                return found
            if found is not None and found not in REVISIONS:
                raise NewerSchema(
                    f"schema revision {found}, this claude-session knows up to {HEAD}"
                )
            _alembic_upgrade(conn)
        return found


@contextlib.contextmanager
def _file_lock(database: Path | None) -> Iterator[None]:
    """An exclusive lock on ``DATABASE.migrate-lock`` while migrating (no-op without a file)."""
    if database is None:
        yield
        return
    with _locked(database.with_name(database.name + ".migrate-lock")):
        yield


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on the file ``path`` (made if new), held for the block."""
    with _file_errors(path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        locking.lock(fd)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _alembic_upgrade(conn: Connection) -> None:
    from alembic import command  # imported only when there is something to migrate
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, HEAD)
