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
        TrackerUnavailable      connection refused, timeout, 5xx, 429
        TrackerRejected         400 / 422: the record itself was refused

Foreign errors are translated once, where they enter (git.py, vault/op_sdk.py, the tracker
client), with ``raise ... from exc``. The CLI turns these into exit code 1 and the message; the
MCP server into a tool error with the same message; hooks into a warning and exit 0.
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


class TrackerUnavailable(TrackerError):
    pass


class TrackerRejected(TrackerError):
    pass


class SecretInCommit(ClaudeSessionError):
    """A commit message holds what looks like a secret: refused, never rewritten."""
