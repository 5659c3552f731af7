"""The errors claude-session raises.

Standard library only: hooks import this module.

    ClaudeSessionError          base; str(e) is for the user and says what to do
      ConfigError               missing or invalid settings
      StateError                a state file cannot be read or written
      GitError                  a git operation failed (command, status and stderr kept)
        GitRefused              git state forbids the operation (merge in progress, dirty tree)
      ContextMissing            a pause entry points at a context file that is gone
      NoActiveSession           a flow needs a session and there is none
      SecretInCommit            a commit message holds what looks like a secret
      VaultError                ClaudeSync
        VaultAuthError          token missing, malformed, expired or revoked
          SessionExpired        1Password ended the session: sign in once more, then try again
        VaultUnavailable        network down, rate limited, vault missing or read-only
          ServerConflict        1Password saw two writers at once: the call is tried once more
        ItemNotFound            no such hand-off item
        ItemRefused             refused for good (invalid, too big, archived): never retried
        StaleItem               the item changed meanwhile: re-read it, apply the change again
      TrackerError              session tracker
        TrackerAuthError        401 / 403
        TrackerUnavailable      connection refused, timeout, 408, 429, 5xx (``status``,
                                ``retry_after``, ``record_specific``); try again later
        TrackerRejected         400 / 409 / 413 / 422: the record itself was refused
                                (``field``, ``status``)
      StoreError                the tracker's database (``tracker/store``), for the local
                                tracker and the service alike
        StorageUnavailable      cannot connect, locked, I/O: try again later (service: 503)
        StorageRejected         the database refused what was written (integrity)
          InvalidRecord         a value no column holds, an id that is not a uuid (``field``)
          SessionConflict       an id that belongs to another account's rows
        CorruptDatabase         a SQLite file that is not a database, or is damaged
        NewerSchema             the database was migrated by a newer claude-session
        UnknownKey              no API key, or more than one, has this id or prefix
        BadCursor               a page cursor this tracker did not make

Foreign errors are translated once, where they enter (``core/repository.py`` for GitPython,
``vault/op_sdk.py`` for the 1Password SDK, ``tracker/client.py`` for httpx,
``tracker/store/database.py`` for SQLAlchemy), with ``raise ... from exc``.
The CLI turns these into exit code 1 and the message; the MCP server into a tool error with
the same message; hooks into a warning and exit 0.
"""

from __future__ import annotations


class ClaudeSessionError(Exception):
    """Base of every error we raise on purpose; the message is meant for the user."""


class ConfigError(ClaudeSessionError):
    pass


class StateError(ClaudeSessionError):
    pass


class GitError(ClaudeSessionError):
    def __init__(
        self, message: str, *, command: str = "", status: int | None = None, stderr: str = ""
    ) -> None:
        super().__init__(message)
        self.command = command
        self.status = status
        self.stderr = stderr


class GitRefused(GitError):
    pass


class ContextMissing(ClaudeSessionError):
    pass


class NoActiveSession(ClaudeSessionError):
    pass


class VaultError(ClaudeSessionError):
    pass


class VaultAuthError(VaultError):
    pass


class VaultUnavailable(VaultError):
    pass


class RateLimited(VaultUnavailable):
    """1Password's rate limit: remembered across commands (``vault.op_limits``)."""


class ItemNotFound(VaultError):
    pass


class SessionExpired(VaultAuthError):
    """The session ended or the service asked to retry: sign in once more, then try again."""


class ServerConflict(VaultUnavailable):
    """1Password reported a data conflict (two writers at once): the call is tried once more."""


class ItemRefused(VaultError):
    """The vault refused this item for good (invalid, too big, archived): trying again cannot
    help, so a waiting hand-off is marked failed instead of being retried forever."""


class StaleItem(VaultError):
    """A put lost a race with another writer: the vault re-reads the item and tries again."""


class TrackerError(ClaudeSessionError):
    pass


class TrackerAuthError(TrackerError):
    pass


#: answers that say the whole tracker is unwell (overloaded, behind a failing proxy, its
#: database down), as opposed to a 500 that may be one request's: see ``record_specific``
TRACKER_WIDE_STATUSES = frozenset({408, 429, 502, 503, 504, 507})


class TrackerUnavailable(TrackerError):
    """The tracker cannot take anything now. ``status``: what it answered (408, 429, 5xx), if
    it answered; ``retry_after``: the seconds it asked to wait, when it said."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def record_specific(self) -> bool:
        """The answer may be about this record rather than the tracker: a 500 with no
        Retry-After (the service failed on this request). Delivery then checks whether the
        tracker takes other records before it treats the tracker as down."""
        return (
            self.status is not None
            and 500 <= self.status < 600
            and self.status not in TRACKER_WIDE_STATUSES
            and self.retry_after is None
        )


class TrackerRejected(TrackerError):
    """The tracker refused the record itself; ``field`` names what it refused, when it said;
    ``status`` is its answer (400, 409, 413, 422), if it came over HTTP."""

    def __init__(
        self, message: str, *, field: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


class StoreError(ClaudeSessionError):
    pass


class StorageUnavailable(StoreError):
    pass


class StorageRejected(StoreError):
    pass


class InvalidRecord(StorageRejected):
    """A record the store refuses; ``field`` is the dotted path of the offending value
    (``maintenance_runs.0.notes``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class SessionConflict(StorageRejected):
    pass


class CorruptDatabase(StoreError):
    """``reason``: what the database said, for the warning when the file is moved aside."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class NewerSchema(StoreError):
    pass


class UnknownKey(StoreError):
    pass


class BadCursor(StoreError):
    pass


class SecretInCommit(ClaudeSessionError):
    """A commit message holds what looks like a secret: refused, never rewritten. ``what``
    names the message (``commit message``), ``kinds`` the kinds of secret found."""

    def __init__(self, message: str, *, what: str = "commit message", kinds: tuple[str, ...] = ()):
        super().__init__(message)
        self.what = what
        self.kinds = kinds
