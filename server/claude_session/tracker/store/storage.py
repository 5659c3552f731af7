"""The tracker's tables and every query on them, for SQLite and PostgreSQL alike.

``Store`` is what both the tracker service and the plugin's local tracker use: users and their
API keys, browser sessions of the UI, and each user's applications, session records and
maintenance runs. Every read and write of records takes the user, so one user never sees or
changes another's rows.

Writes are idempotent on the record's own id: a known id updates its row and replaces its
maintenance runs, so an outbox may resend as often as it needs to.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, Row

from claude_session.errors import BadCursor, InvalidRecord, SessionConflict, UnknownKey
from claude_session.models import MaintenanceRun, Model, SessionRecord, new_id, utcnow
from claude_session.tracker.store.database import (
    WRITE,
    Document,
    Guid,
    Moment,
    Unreadable,
    translated,
    write_turn,
)
from claude_session.tracker.store.limits import (
    check_document,
    check_moment,
    command_type_name,
)

API_KEY_PREFIX = "cst_"
WEB_SESSION_DAYS = 14
LAST_USED_EVERY = timedelta(minutes=1)  # a key's last-used time may lag this much (fewer writes)

metadata = sa.MetaData()

# Mirrors of the tables the migrations create (migrations/versions); a test compares the two.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False, unique=True),
    sa.Column("created_at", Moment(), nullable=False),
)
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", Moment(), nullable=False),
    sa.Column("last_used_at", Moment()),
    sa.Column("name", sa.Text()),
    sa.Column("revoked_at", Moment()),
)
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Moment(), nullable=False),
    sa.Column("expires_at", Moment(), nullable=False),
    sa.Column("api_key_id", Guid()),  # migration 0008: the key it was opened with, if any
)
login_failures = sa.Table(  # migration 0008: the log-in throttle every worker shares
    "login_failures",
    metadata,
    sa.Column("bucket", sa.String(64), nullable=False),
    sa.Column("failed_at", Moment(), nullable=False),
)
applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("repository_url", sa.Text()),
    sa.Column("created_at", Moment(), nullable=False),
)
_JSON_COLUMNS = (
    "accomplishments",
    "next_steps",
    "files_changed",
    "maintenance_runs",
    "security_findings",
)
_RECORD_COLUMNS = (
    "started_at",
    "ended_at",
    "duration_minutes",
    "starting_branch",
    "ending_branch",
    "commits_count",
    "context_id",
    "session_source",
    "tokens_input",
    "tokens_output",
    "summary",
    *_JSON_COLUMNS,
    "claude_session_id",
    "tokens_cache_creation",
    "tokens_cache_read",
    "machine",
    "end_mode",
    "continues",
)
claude_sessions = sa.Table(
    "claude_sessions",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("user_id", Guid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "application_id",
        Guid(),
        sa.ForeignKey("applications.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("started_at", Moment(), nullable=False),
    sa.Column("ended_at", Moment(), nullable=False),
    sa.Column("duration_minutes", sa.BigInteger(), nullable=False),
    sa.Column("starting_branch", sa.Text()),
    sa.Column("ending_branch", sa.Text()),
    sa.Column("commits_count", sa.BigInteger(), nullable=False),
    sa.Column("context_id", sa.Text()),
    sa.Column("session_source", sa.Text()),
    sa.Column("tokens_input", sa.BigInteger(), nullable=False),
    sa.Column("tokens_output", sa.BigInteger(), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    *(sa.Column(name, Document(), nullable=False) for name in _JSON_COLUMNS),
    sa.Column("claude_session_id", sa.Text()),
    sa.Column("tokens_cache_creation", sa.BigInteger(), nullable=False),
    sa.Column("tokens_cache_read", sa.BigInteger(), nullable=False),
    sa.Column("machine", sa.Text()),
    sa.Column("end_mode", sa.Text()),
    sa.Column("created_at", Moment(), nullable=False),
    sa.Column("updated_at", Moment(), nullable=False),
    sa.Column("continues", Guid()),  # migration 0002: the record this session continues
)
command_types = sa.Table(
    "command_types",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False, unique=True),
    sa.Column("created_at", Moment(), nullable=False),
)
maintenance_runs = sa.Table(
    "maintenance_runs",
    metadata,
    sa.Column("id", Guid(), primary_key=True),
    sa.Column(
        "application_id",
        Guid(),
        sa.ForeignKey("applications.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("session_id", Guid(), sa.ForeignKey("claude_sessions.id", ondelete="CASCADE")),
    sa.Column("command_type_id", Guid(), sa.ForeignKey("command_types.id", ondelete="SET NULL")),
    sa.Column("command", sa.Text(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("results", Document()),
    sa.Column("notes", sa.Text()),
    sa.Column("run_at", Moment(), nullable=False),
)


# --- what the store hands out -----------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: str
    name: str
    key_id: str | None = field(default=None, compare=False)  # the API key that proved it


class Application(Model):
    id: str
    name: str
    repository_url: str | None = None


class ApiKey(Model):
    """What is known of an API key once made: never the key itself."""

    id: str
    user: str
    name: str | None = None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class TrackedRun(MaintenanceRun):
    """A stored maintenance run with its command type (``command_types.name``)."""

    command_type: str | None = None


class TrackedSession(SessionRecord):
    """A stored record with what the tracker adds: its application's id, row times, and its
    runs' command types."""

    application_id: str
    maintenance_runs: list[TrackedRun] = Field(default_factory=list)  # type: ignore[assignment]
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class Page:
    sessions: list[TrackedSession]
    total: int
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)
    newer: bool = False  # are there sessions before this page (newer ones)?
    older: bool = False  # ... and after it?
    first: Cursor | None = None  # where this page starts and ends, for keyset links
    last: Cursor | None = None


@dataclass(frozen=True)
class Cursor:
    """A place in the newest-first order of sessions: (started_at, created_at, id).

    Pages after or before a cursor are an index range scan, so page 2,000 costs what page 1
    does (an offset would walk every row before it).
    """

    started_at: datetime
    created_at: datetime
    id: str

    def encode(self) -> str:
        text = json.dumps([self.started_at.isoformat(), self.created_at.isoformat(), self.id])
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            started, created, row_id = json.loads(raw)
            cursor = cls(
                datetime.fromisoformat(started), datetime.fromisoformat(created), str(row_id)
            )
            check_moment(cursor.started_at, "cursor")
            check_moment(cursor.created_at, "cursor")
        except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, InvalidRecord) as exc:
            raise BadCursor(
                "cursor is not one this tracker made; start from the first page."
            ) from exc
        if not is_uuid(cursor.id):
            raise BadCursor("cursor is not one this tracker made; start from the first page.")
        return cursor


@dataclass(frozen=True)
class RunType:
    """One command type's runs in a user's (or one application's) history."""

    name: str
    runs: int
    last_run_at: datetime
    last_status: str


@dataclass(frozen=True)
class DayTotals:
    day: date
    sessions: int
    minutes: int
    tokens: int


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def hash_secret(secret: str) -> str:
    """Keys and cookies are long random strings: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class Store:
    """Users, keys and session records in one database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, secret: str | None = None) -> None:
        self.engine = engine
        self._secret = secret.encode() if secret else None
        self._statements: dict[str, _Statements] = {}

    def _cookie_hash(self, token: str) -> str:
        """A browser session's stored hash; with a secret, an HMAC, so that changing the secret
        signs every browser out."""
        if self._secret is None:
            return hash_secret(token)
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        with translated(self.engine), write_turn(self.engine), self.engine.connect() as conn:
            conn = conn.execution_options(**WRITE)
            with conn.begin():
                yield conn

    def _prepared(self, conn: Connection) -> _Statements:
        found = self._statements.get(conn.dialect.name)
        if found is None:
            found = self._statements[conn.dialect.name] = _Statements(conn.dialect.name)
        return found

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        # One transaction, so a count and its page see the same rows.
        with translated(self.engine), self.engine.connect() as conn, conn.begin():
            yield conn

    # --- users, API keys, browser sessions ----------------------------------------------------

    def user(self, name: str) -> User:
        """The user called ``name``, created on first use."""
        with self._write() as conn:
            return self._user(conn, name)

    def _user(self, conn: Connection, name: str) -> User:
        found = conn.execute(sa.select(users.c.id).where(users.c.name == name)).scalar()
        if found is None:
            found = new_id()
            conn.execute(users.insert().values(id=found, name=name, created_at=utcnow()))
        return User(str(found), name)

    def create_api_key(self, user_name: str, name: str | None = None) -> str:
        """A new API key for the user (created if new); only its hash is kept."""
        if not user_name.strip():
            raise InvalidRecord("A user name is required.", "user")
        with self._write() as conn:
            return self._new_key(conn, self._user(conn, user_name.strip()), name)

    def _new_key(self, conn: Connection, owner: User, name: str | None) -> str:
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        conn.execute(
            api_keys.insert().values(
                id=new_id(),
                user_id=owner.id,
                key_hash=hash_secret(key),
                prefix=key[: len(API_KEY_PREFIX) + 4],
                created_at=utcnow(),
                name=(name or "").strip() or None,
            )
        )
        return key

    def user_for_api_key(self, key: str) -> User | None:
        """The owner of ``key``, or None for a key we never issued or that was revoked.

        Notes when the key was used, at most once a minute so that a busy key costs no write.
        """
        query = (
            sa.select(
                users.c.id, users.c.name, api_keys.c.id.label("key_id"), api_keys.c.last_used_at
            )
            .join(api_keys, api_keys.c.user_id == users.c.id)
            .where(api_keys.c.key_hash == hash_secret(key), api_keys.c.revoked_at.is_(None))
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        now = utcnow()
        if row.last_used_at is None or row.last_used_at < now - LAST_USED_EVERY:
            with self._write() as conn:
                conn.execute(
                    api_keys.update().where(api_keys.c.id == row.key_id).values(last_used_at=now)
                )
        return User(str(row.id), row.name, str(row.key_id))

    def count_api_keys(self) -> int:
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(api_keys)
                    .where(api_keys.c.revoked_at.is_(None))
                ).scalar_one()
            )

    def api_keys(self, user_name: str | None = None) -> list[ApiKey]:
        """Every key (or one user's), newest first, revoked ones included."""
        query = (
            sa.select(api_keys, users.c.name.label("user"))
            .join(users, users.c.id == api_keys.c.user_id)
            .order_by(api_keys.c.created_at.desc(), api_keys.c.id)
        )
        if user_name is not None:
            query = query.where(users.c.name == user_name)
        with self._read() as conn:
            return [_api_key(row) for row in conn.execute(query)]

    def revoke_api_key(self, which: str, user_name: str | None = None) -> ApiKey:
        """Revoke the key with this id or prefix (of ``user_name`` only, when given)."""
        with self._write() as conn:
            found = self._one_key(conn, which, user_name)
            if found.revoked_at is None:
                conn.execute(
                    api_keys.update().where(api_keys.c.id == found.id).values(revoked_at=utcnow())
                )
            # Browsers signed in with it are signed out (the look-up refuses them too).
            conn.execute(web_sessions.delete().where(web_sessions.c.api_key_id == found.id))
            return _api_key(conn.execute(self._key_query().where(api_keys.c.id == found.id)).one())

    def rotate_api_key(
        self, which: str, user_name: str | None = None, *, keep_browser: str | None = None
    ) -> tuple[ApiKey, str]:
        """Revoke the key and make its successor (same user and name); returns both.

        Browsers signed in with the old key are signed out, except ``keep_browser`` (the cookie
        of the browser that rotates it), which moves to the successor."""
        with self._write() as conn:
            found = self._one_key(conn, which, user_name)
            if found.revoked_at is not None:
                raise UnknownKey(
                    f"The key {found.prefix}… is revoked already; create a new "
                    f"one with `claude-session tracker token create`."
                )
            conn.execute(
                api_keys.update().where(api_keys.c.id == found.id).values(revoked_at=utcnow())
            )
            user_id = conn.execute(
                sa.select(api_keys.c.user_id).where(api_keys.c.id == found.id)
            ).scalar_one()
            key = self._new_key(conn, User(str(user_id), found.user), found.name)
            if keep_browser:
                successor = conn.execute(
                    sa.select(api_keys.c.id).where(api_keys.c.key_hash == hash_secret(key))
                ).scalar_one()
                conn.execute(
                    web_sessions.update()
                    .where(
                        web_sessions.c.token_hash == self._cookie_hash(keep_browser),
                        web_sessions.c.api_key_id == found.id,
                    )
                    .values(api_key_id=successor)
                )
            conn.execute(web_sessions.delete().where(web_sessions.c.api_key_id == found.id))
            old = _api_key(conn.execute(self._key_query().where(api_keys.c.id == found.id)).one())
        return old, key

    @staticmethod
    def _key_query() -> sa.Select[Any]:
        return sa.select(api_keys, users.c.name.label("user")).join(
            users, users.c.id == api_keys.c.user_id
        )

    def _one_key(self, conn: Connection, which: str, user_name: str | None) -> ApiKey:
        which = which.strip()
        match = (api_keys.c.id == which) if is_uuid(which) else (api_keys.c.prefix == which)
        query = self._key_query().where(match)
        if user_name is not None:
            query = query.where(users.c.name == user_name)
        rows = conn.execute(query).all() if which else []
        if len(rows) != 1:
            problem = "No API key has" if not rows else f"{len(rows)} API keys have"
            raise UnknownKey(
                f"{problem} the id or prefix {which!r}; `claude-session tracker "
                f"token list` shows each key's id."
            )
        return _api_key(rows[0])

    def open_web_session(
        self, owner: User, lifetime: timedelta = timedelta(days=WEB_SESSION_DAYS)
    ) -> str:
        """A browser session for the UI; returns the cookie value (stored hashed). Opened with
        an API key (``owner.key_id``), it ends when the key is revoked."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self._write() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
            conn.execute(
                web_sessions.insert().values(
                    id=new_id(),
                    user_id=owner.id,
                    token_hash=self._cookie_hash(token),
                    created_at=now,
                    expires_at=now + lifetime,
                    api_key_id=owner.key_id,
                )
            )
        return token

    def sign_in_link(self, user_name: str, minutes: int = 10) -> str:
        """A token for a one-time sign-in link (``tracker serve`` on this machine's own
        history): a browser session that lives ``minutes`` and is swapped for a full one."""
        return self.open_web_session(self.user(user_name), timedelta(minutes=minutes))

    def use_sign_in_link(self, token: str) -> tuple[User, str] | None:
        """The link's user and a new browser session; the link works only once."""
        owner = self.user_for_web_session(token)
        if owner is None:
            return None
        self.close_web_session(token)
        return owner, self.open_web_session(owner)

    def user_for_web_session(self, token: str) -> User | None:
        """The browser session's user; None once it expired, was closed, or the API key it
        was opened with was revoked."""
        query = (
            sa.select(users.c.id, users.c.name, web_sessions.c.api_key_id)
            .join(web_sessions, web_sessions.c.user_id == users.c.id)
            .outerjoin(api_keys, api_keys.c.id == web_sessions.c.api_key_id)
            .where(
                web_sessions.c.token_hash == self._cookie_hash(token),
                web_sessions.c.expires_at > utcnow(),
                web_sessions.c.api_key_id.is_(None) | api_keys.c.revoked_at.is_(None),
            )
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        key_id = None if row.api_key_id is None else str(row.api_key_id)
        return User(str(row.id), row.name, key_id)

    # --- failed log-ins, counted for every worker -----------------------------------------

    def login_failures(self, buckets: Sequence[str], since: datetime) -> dict[str, list[datetime]]:
        """When each bucket's log-ins failed since ``since``, oldest first."""
        hashed = {hash_secret(b): b for b in buckets}
        query = (
            sa.select(login_failures.c.bucket, login_failures.c.failed_at)
            .where(login_failures.c.bucket.in_(list(hashed)), login_failures.c.failed_at > since)
            .order_by(login_failures.c.failed_at)
        )
        found: dict[str, list[datetime]] = {b: [] for b in buckets}
        with self._read() as conn:
            for row in conn.execute(query):
                found[hashed[row.bucket]].append(row.failed_at)
        return found

    def login_failed(self, buckets: Sequence[str], at: datetime, forget_before: datetime) -> None:
        """Count a failed log-in in each bucket; drop failures older than ``forget_before``."""
        with self._write() as conn:
            conn.execute(login_failures.delete().where(login_failures.c.failed_at < forget_before))
            conn.execute(
                login_failures.insert(),
                [{"bucket": hash_secret(b), "failed_at": at} for b in buckets],
            )

    def close_web_session(self, token: str) -> None:
        with self._write() as conn:
            conn.execute(
                web_sessions.delete().where(web_sessions.c.token_hash == self._cookie_hash(token))
            )

    # --- writing records ----------------------------------------------------------------------

    def save(self, owner: User, record: SessionRecord) -> bool:
        """Create or update the record and its runs; True when it was created.

        Raises InvalidRecord for ids that are not uuids, SessionConflict for ids that belong
        to another user's rows.

        One transaction of few statements, each prepared once per process: a look-up of the
        record's owner and its application together; the record's upsert; its runs' insert
        (their command types by name inside it). A new project's first record also
        makes its application, a new command also its type, a resent record first drops its
        old runs.
        """
        _check_ids(record)
        check_document(record)
        data = record.model_dump(mode="json")
        now = utcnow()
        with self._write() as conn:
            prepared = self._prepared(conn)
            found = conn.execute(
                prepared.lookup_by_repository
                if record.repository_url is not None
                else prepared.lookup_by_name,
                {
                    "session_id": record.id,
                    "user_id": owner.id,
                    "repository_url": record.repository_url,
                    "name": record.application_name,
                },
            ).one()
            if found.owner is not None and str(found.owner) != owner.id:
                raise SessionConflict("This session id belongs to another account.")
            if found.app_id is None:
                app_id = self._application(
                    conn, owner.id, record.application_name, record.repository_url
                )
            else:
                app_id = str(found.app_id)
                if found.app_name != record.application_name:
                    # The folder was renamed or cloned under another name: show the current one.
                    conn.execute(
                        applications.update()
                        .where(applications.c.id == app_id)
                        .values(name=record.application_name)
                    )
            values = {name: data[name] for name in _RECORD_COLUMNS}
            values.update(
                id=record.id,
                user_id=owner.id,
                application_id=app_id,
                started_at=record.started_at,
                ended_at=record.ended_at,
                created_at=now,
                updated_at=now,
            )
            conn.execute(prepared.upsert_session, values)
            if found.owner is not None:
                conn.execute(
                    maintenance_runs.delete().where(maintenance_runs.c.session_id == record.id)
                )
            made = self._insert_runs(conn, prepared, owner, record, data, app_id)
        prepared.known_types |= made
        return found.owner is None

    def _application(
        self, conn: Connection, user_id: str, name: str, repository_url: str | None
    ) -> str:
        """The user's application for this project, created on first use."""
        col = applications.c.repository_url
        if repository_url is not None:
            match, where = col == repository_url, col.is_not(None)
            target = ["user_id", "repository_url"]
        else:
            match, where = col.is_(None) & (applications.c.name == name), col.is_(None)
            target = ["user_id", "name"]
        query = sa.select(applications.c.id, applications.c.name).where(
            applications.c.user_id == user_id, match
        )
        found = conn.execute(query).first()
        if found is None:
            # Two first sends of a project may race (PostgreSQL): the loser does nothing.
            conn.execute(
                _insert(conn, applications)
                .values(
                    id=new_id(),
                    name=name,
                    user_id=user_id,
                    repository_url=repository_url,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=target, index_where=where)
            )
            found = conn.execute(query).one()
        if found.name != name:
            conn.execute(
                applications.update().where(applications.c.id == found.id).values(name=name)
            )
        return str(found.id)

    def _insert_runs(
        self,
        conn: Connection,
        prepared: _Statements,
        owner: User,
        record: SessionRecord,
        data: dict[str, Any],
        app_id: str,
    ) -> set[str]:
        """Insert the record's runs; returns the command types it made. A run id already stored
        (under another session: this one's were dropped) is the same user's run moved here, or
        another account's (409)."""
        if not record.maintenance_runs:
            return set()
        names = [command_type_name(run.command) for run in record.maintenance_runs]
        made = self._command_types(conn, prepared, set(names))
        rows = [
            {
                "id": run.id,
                "application_id": app_id,
                "session_id": record.id,
                "type_name": type_name,
                "command": run.command,
                "status": run.status,
                "results": dumped["results"],
                "notes": run.notes,
                "run_at": run.run_at,
            }
            for run, dumped, type_name in zip(
                record.maintenance_runs, data["maintenance_runs"], names, strict=True
            )
        ]
        stored = {str(i) for i in conn.execute(prepared.insert_runs, rows).scalars()}
        left = [row for row in rows if row["id"] not in stored]
        if not left:
            return made
        elsewhere = conn.execute(
            sa.select(maintenance_runs.c.id, applications.c.user_id)
            .join(applications, applications.c.id == maintenance_runs.c.application_id)
            .where(maintenance_runs.c.id.in_([row["id"] for row in left]))
        ).all()
        if any(str(row.user_id) != owner.id for row in elsewhere):
            raise SessionConflict("A maintenance run id belongs to another account.")
        conn.execute(
            maintenance_runs.delete().where(maintenance_runs.c.id.in_([row["id"] for row in left]))
        )
        conn.execute(prepared.insert_runs, left).all()
        return made

    @staticmethod
    def _command_types(conn: Connection, prepared: _Statements, names: set[str]) -> set[str]:
        """Make the command types this process has not seen made (racing first uses make one);
        returns them, to be known once the transaction commits. Types are never deleted, so a
        known one needs no statement: the runs' insert finds its id by name."""
        made = names - prepared.known_types
        for name in sorted(made):
            conn.execute(
                prepared.insert_type, {"id": new_id(), "name": name, "created_at": utcnow()}
            )
        return made

    # --- reading records ----------------------------------------------------------------------

    def list_sessions(
        self,
        owner: User,
        *,
        application: str | None = None,
        application_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        after: Cursor | None = None,
        before: Cursor | None = None,
    ) -> Page:
        """The user's records, newest first, filtered, with the total: the page ``after`` a
        cursor (older sessions), or ``before`` one (newer)."""
        conditions = [claude_sessions.c.user_id == owner.id]
        if application is not None:
            # Name to ids first (a user has few applications), so that neither the page nor
            # its count joins applications for every session.
            with self._read() as conn:
                named = [
                    str(i)
                    for i in conn.execute(
                        sa.select(applications.c.id).where(
                            applications.c.user_id == owner.id, applications.c.name == application
                        )
                    ).scalars()
                ]
            if not named:
                return Page([], 0)
            conditions.append(claude_sessions.c.application_id.in_(named))
        if application_id is not None:
            if not is_uuid(application_id):
                return Page([], 0)
            conditions.append(claude_sessions.c.application_id == application_id)
        if since is not None:
            conditions.append(claude_sessions.c.started_at >= since)
        if until is not None:
            conditions.append(claude_sessions.c.started_at < until)
        joined = claude_sessions.join(
            applications, applications.c.id == claude_sessions.c.application_id
        )
        key = (claude_sessions.c.started_at, claude_sessions.c.created_at, claude_sessions.c.id)
        place = before or after
        rows_query = _session_select().select_from(joined).where(*conditions)
        if place is not None:
            at = (
                sa.literal(place.started_at, Moment()),
                sa.literal(place.created_at, Moment()),
                sa.literal(place.id, Guid()),
            )
            rows_query = rows_query.where(
                sa.tuple_(*key) > sa.tuple_(*at) if before else sa.tuple_(*key) < sa.tuple_(*at)
            )
        order = [c.asc() if before else c.desc() for c in key]
        rows_query = rows_query.order_by(*order).limit(max(limit, 0) + 1)
        # Every condition is on claude_sessions: the count needs no join (one per row would
        # cost more than the count itself on a long history).
        count_query = sa.select(sa.func.count()).select_from(claude_sessions).where(*conditions)
        with self._read() as conn:
            total = int(conn.execute(count_query).scalar_one())
            rows = conn.execute(rows_query).all() if limit > 0 else []
        more = len(rows) > limit
        rows = list(rows[:limit])
        if before:
            rows.reverse()
        page = Page(
            [],
            total,
            newer=more if before else after is not None,
            older=True if before else more,
        )
        for row in rows:
            try:
                page.sessions.append(_tracked(row))
            except ValueError as exc:  # a row edited into nonsense; the rest still shows
                page.unreadable.append((str(row.id), str(exc).splitlines()[0]))
        if rows:
            page.first = Cursor(rows[0].started_at, rows[0].created_at, str(rows[0].id))
            page.last = Cursor(rows[-1].started_at, rows[-1].created_at, str(rows[-1].id))
        return page

    def get_session(self, owner: User, session_id: str) -> TrackedSession | None:
        """The user's record with this id and its maintenance runs, or None."""
        if not is_uuid(session_id):
            return None
        joined = claude_sessions.join(
            applications, applications.c.id == claude_sessions.c.application_id
        )
        query = (
            _session_select()
            .select_from(joined)
            .where(claude_sessions.c.id == session_id, claude_sessions.c.user_id == owner.id)
        )
        runs = (
            sa.select(maintenance_runs, command_types.c.name.label("command_type"))
            .outerjoin(command_types, command_types.c.id == maintenance_runs.c.command_type_id)
            .where(maintenance_runs.c.session_id == session_id)
            .order_by(maintenance_runs.c.run_at, maintenance_runs.c.id)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
            run_rows = conn.execute(runs).all() if row is not None else []
        if row is None:
            return None
        return _tracked(row, runs=[_run(r) for r in run_rows])

    def session_chain(
        self, owner: User, session_id: str, *, limit: int = 50
    ) -> list[TrackedSession]:
        """The logical session ``session_id`` belongs to: the records it continues (back to
        the first) and the ones continuing it, oldest first; each link at most ``limit`` deep,
        and a record seen twice ends the walk (a loop of hand-edited rows)."""
        if not is_uuid(session_id):
            return []
        joined = claude_sessions.join(
            applications, applications.c.id == claude_sessions.c.application_id
        )
        mine = claude_sessions.c.user_id == owner.id

        def one(conn: Connection, condition: Any) -> TrackedSession | None:
            row = conn.execute(
                _session_select()
                .select_from(joined)
                .where(mine, condition)
                .order_by(claude_sessions.c.started_at, claude_sessions.c.id)
                .limit(1)
            ).first()
            try:
                return None if row is None else _tracked(row)
            except ValueError:
                return None

        with self._read() as conn:
            here = one(conn, claude_sessions.c.id == session_id)
            if here is None:
                return []
            chain, seen = [here], {here.id}
            back = here
            while back.continues and len(chain) < limit:
                found = (
                    one(conn, claude_sessions.c.id == back.continues)
                    if is_uuid(back.continues)
                    else None
                )
                if found is None or found.id in seen:
                    break
                chain.insert(0, found)
                seen.add(found.id)
                back = found
            ahead = here
            while len(chain) < 2 * limit:
                found = one(conn, claude_sessions.c.continues == ahead.id)
                if found is None or found.id in seen:
                    break
                chain.append(found)
                seen.add(found.id)
                ahead = found
        return chain

    def applications(self, owner: User) -> list[Application]:
        query = (
            sa.select(applications.c.id, applications.c.name, applications.c.repository_url)
            .where(applications.c.user_id == owner.id)
            .order_by(applications.c.name, applications.c.id)
        )
        with self._read() as conn:
            return [
                Application(id=str(r.id), name=r.name, repository_url=r.repository_url)
                for r in conn.execute(query)
            ]

    def application(self, owner: User, application_id: str) -> Application | None:
        if not is_uuid(application_id):
            return None
        return next((a for a in self.applications(owner) if a.id == application_id), None)

    def run_types(self, owner: User, *, application_id: str | None = None) -> list[RunType]:
        """The user's maintenance runs grouped by command type: count, last run and status."""
        owned = applications.c.user_id == owner.id
        query = (
            sa.select(command_types.c.name, maintenance_runs.c.run_at, maintenance_runs.c.status)
            .join(command_types, command_types.c.id == maintenance_runs.c.command_type_id)
            .join(applications, applications.c.id == maintenance_runs.c.application_id)
            .where(owned)
            .order_by(maintenance_runs.c.run_at)
        )
        if application_id is not None:
            if not is_uuid(application_id):
                return []
            query = query.where(maintenance_runs.c.application_id == application_id)
        groups: dict[str, tuple[int, datetime, str]] = {}
        with self._read() as conn:
            for row in conn.execute(query):
                count = groups.get(row.name, (0, row.run_at, row.status))[0]
                groups[row.name] = (count + 1, row.run_at, row.status)
        return [RunType(name, *values) for name, values in sorted(groups.items())]

    def daily_totals(
        self,
        owner: User,
        *,
        application_id: str | None = None,
        days: int = 30,
        today: date | None = None,
    ) -> list[DayTotals]:
        """Sessions, minutes and tokens per UTC day over the last ``days`` days, oldest first."""
        last = today or utcnow().date()
        first = last - timedelta(days=days - 1)
        since = datetime(first.year, first.month, first.day, tzinfo=timezone.utc)
        query = sa.select(
            claude_sessions.c.started_at,
            claude_sessions.c.duration_minutes,
            claude_sessions.c.tokens_input,
            claude_sessions.c.tokens_output,
        ).where(claude_sessions.c.user_id == owner.id, claude_sessions.c.started_at >= since)
        if application_id is not None:
            query = query.where(claude_sessions.c.application_id == application_id)
        totals = {first + timedelta(days=n): [0, 0, 0] for n in range(days)}
        with self._read() as conn:
            for row in conn.execute(query):
                day = row.started_at.astimezone(timezone.utc).date()
                if day in totals:
                    bucket = totals[day]
                    bucket[0] += 1
                    bucket[1] += row.duration_minutes
                    bucket[2] += row.tokens_input + row.tokens_output
        return [DayTotals(day, *values) for day, values in sorted(totals.items())]


class _Statements:
    """The statements of a record's write, built once per dialect: executed with parameters
    only, they compile once and are then taken from SQLAlchemy's cache (building them anew
    with their values cost more than running them).

    This pays (issue 22's rule): ``bench/bench_tracker.py --only-posts --repeat 1``, 5 paired
    rounds alternating with the same write built inline per record, on a loaded 2-CPU machine:
    POST /api/sessions 260/s (p99 59 ms) here against 116/s (p99 104 ms) inline on SQLite,
    178/s (82 ms) against 109/s (132 ms) on PostgreSQL; the goal is 200/s with p99 < 50 ms,
    and the inline runs ranged 111-142/s and 84-122/s: missed by more than the spread.
    """

    def __init__(self, dialect: str) -> None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.known_types: set[str] = set()

        def lookup(application: Any) -> sa.Select[Any]:
            owned_app = sa.select(applications.c.id, applications.c.name).where(
                applications.c.user_id == sa.bindparam("user_id", type_=Guid()), application
            )
            return sa.select(
                sa.select(claude_sessions.c.user_id)
                .where(claude_sessions.c.id == sa.bindparam("session_id", type_=Guid()))
                .scalar_subquery()
                .label("owner"),
                owned_app.with_only_columns(applications.c.id).scalar_subquery().label("app_id"),
                owned_app.with_only_columns(applications.c.name)
                .scalar_subquery()
                .label("app_name"),
            )

        url = applications.c.repository_url
        self.lookup_by_repository = lookup(url == sa.bindparam("repository_url", type_=sa.Text()))
        self.lookup_by_name = lookup(
            url.is_(None) & (applications.c.name == sa.bindparam("name", type_=sa.Text()))
        )
        upsert = insert(claude_sessions)
        changed = [
            c.name for c in claude_sessions.columns if c.name not in ("id", "user_id", "created_at")
        ]
        self.upsert_session = upsert.on_conflict_do_update(
            index_elements=["id"],
            set_={name: upsert.excluded[name] for name in changed},
            where=claude_sessions.c.user_id == upsert.excluded.user_id,
        )
        type_id = (
            sa.select(command_types.c.id)
            .where(command_types.c.name == sa.bindparam("type_name", type_=sa.Text()))
            .scalar_subquery()
        )
        self.insert_runs = (
            insert(maintenance_runs)
            .values(
                id=sa.bindparam("id", type_=Guid()),
                application_id=sa.bindparam("application_id", type_=Guid()),
                session_id=sa.bindparam("session_id", type_=Guid()),
                command_type_id=type_id,
                command=sa.bindparam("command", type_=sa.Text()),
                status=sa.bindparam("status", type_=sa.Text()),
                results=sa.bindparam("results", type_=Document()),
                notes=sa.bindparam("notes", type_=sa.Text()),
                run_at=sa.bindparam("run_at", type_=Moment()),
            )
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(maintenance_runs.c.id)
        )
        self.insert_type = insert(command_types).on_conflict_do_nothing(index_elements=["name"])


def _check_ids(record: SessionRecord) -> None:
    if not is_uuid(record.id):
        raise InvalidRecord("The session id must be a UUID.", "id")
    if record.continues is not None and not is_uuid(record.continues):
        raise InvalidRecord("The id of the continued session must be a UUID.", "continues")
    for n, run in enumerate(record.maintenance_runs):
        if not is_uuid(run.id):
            raise InvalidRecord("A maintenance run id must be a UUID.", f"maintenance_runs.{n}.id")


def _session_select() -> sa.Select[Any]:
    return sa.select(
        claude_sessions,
        applications.c.name.label("application_name"),
        applications.c.repository_url.label("repository_url"),
    )


def _tracked(row: Row[Any], *, runs: Sequence[TrackedRun] | None = None) -> TrackedSession:
    """The row as a record; ValueError when a JSON column does not parse."""
    data: dict[str, Any] = dict(row._mapping)
    for name in _JSON_COLUMNS:
        if isinstance(data[name], Unreadable):
            raise ValueError(f"{name}: {data[name].reason}")
    data["id"], data["application_id"] = str(data["id"]), str(data["application_id"])
    if runs is not None:
        data["maintenance_runs"] = list(runs)
    return TrackedSession.model_validate(data)


def _api_key(row: Row[Any]) -> ApiKey:
    data = row._mapping
    return ApiKey(
        id=str(data["id"]),
        user=data["user"],
        name=data["name"],
        prefix=data["prefix"],
        created_at=data["created_at"],
        last_used_at=data["last_used_at"],
        revoked_at=data["revoked_at"],
    )


def _run(row: Row[Any]) -> TrackedRun:
    data = dict(row._mapping)
    if isinstance(data["results"], Unreadable):
        data["results"] = data["results"].text
    return TrackedRun.model_validate(
        {
            k: data[k]
            for k in ("id", "command", "status", "results", "notes", "run_at", "command_type")
        }
    )
