"""Users, their API keys and browser sessions, and the log-in throttle's counts.

A key is shown once when made and only its hash is kept; a browser session's cookie is kept as
a hash too (an HMAC when the service has a secret, so that changing the secret signs every
browser out). Revoking a key refuses it at once and ends the browser sessions opened with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from claude_session.base.clock import new_id
from claude_session.base.clock import now as utcnow
from claude_session.errors import InvalidRecord, UnknownKey
from claude_session.models import Model
from claude_session.tracker.store.database import is_uuid, reading, writing
from claude_session.tracker.store.schema import api_keys, login_failures, users, web_sessions

API_KEY_PREFIX = "cst_"
WEB_SESSION_DAYS = 14
LAST_USED_EVERY = timedelta(minutes=1)  # a key's last-used time may lag this much (fewer writes)


@dataclass(frozen=True)
class User:
    id: str
    name: str
    key_id: str | None = field(default=None, compare=False)  # the API key that proved it


class ApiKey(Model):
    """What is known of an API key once made: never the key itself."""

    id: str
    user: str
    name: str | None = None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def hash_secret(secret: str) -> str:
    """Keys and cookies are long random strings: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Auth:
    """Users, API keys, browser sessions and failed log-ins in one database."""

    def __init__(self, engine: Engine, secret: str | None = None) -> None:
        self.engine = engine
        self._secret = secret.encode() if secret else None

    def _cookie_hash(self, token: str) -> str:
        """A browser session's stored hash; with a secret, an HMAC, so that changing the secret
        signs every browser out."""
        if self._secret is None:
            return hash_secret(token)
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()

    def user(self, name: str) -> User:
        """The user called ``name``, created on first use."""
        with writing(self.engine) as conn:
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
        with writing(self.engine) as conn:
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
        with reading(self.engine) as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        now = utcnow()
        if row.last_used_at is None or row.last_used_at < now - LAST_USED_EVERY:
            with writing(self.engine) as conn:
                conn.execute(
                    api_keys.update().where(api_keys.c.id == row.key_id).values(last_used_at=now)
                )
        return User(str(row.id), row.name, str(row.key_id))

    def count_api_keys(self) -> int:
        with reading(self.engine) as conn:
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
        with reading(self.engine) as conn:
            return [_api_key(row) for row in conn.execute(query)]

    def revoke_api_key(self, which: str, user_name: str | None = None) -> ApiKey:
        """Revoke the key with this id or prefix (of ``user_name`` only, when given)."""
        with writing(self.engine) as conn:
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
        with writing(self.engine) as conn:
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
        with writing(self.engine) as conn:
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
        with reading(self.engine) as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        key_id = None if row.api_key_id is None else str(row.api_key_id)
        return User(str(row.id), row.name, key_id)

    def close_web_session(self, token: str) -> None:
        with writing(self.engine) as conn:
            conn.execute(
                web_sessions.delete().where(web_sessions.c.token_hash == self._cookie_hash(token))
            )

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
        with reading(self.engine) as conn:
            for row in conn.execute(query):
                found[hashed[row.bucket]].append(row.failed_at)
        return found

    def login_failed(self, buckets: Sequence[str], at: datetime, forget_before: datetime) -> None:
        """Count a failed log-in in each bucket; drop failures older than ``forget_before``."""
        with writing(self.engine) as conn:
            conn.execute(login_failures.delete().where(login_failures.c.failed_at < forget_before))
            conn.execute(
                login_failures.insert(),
                [{"bucket": hash_secret(b), "failed_at": at} for b in buckets],
            )


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
