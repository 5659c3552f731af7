"""The session tracker interface (SPEC section 6).

A tracker keeps finished session records. ``LocalTracker`` stores them in a SQLite database on
this machine; the remote client sends them to ``POST {tracker}/api/sessions``. Both are
idempotent on the record's own id, so the outbox may retry a send as often as it needs to.
Warnings (a database moved aside, a key sent unencrypted) go to the calling flow with
``flow.warn`` where they arise.
"""

from __future__ import annotations

import abc

from claude_session.base.backend import Backend
from claude_session.errors import TrackerError
from claude_session.models import SessionRecord

#: a search of the records, by the API's query names (q, branch, machine, end_mode, since, until)
Search = dict[str, str]


class Tracker(Backend, abc.ABC):
    """Where session records go."""

    @abc.abstractmethod
    def send(
        self, record: SessionRecord, *, budget: float | None = None, attempts: int | None = None
    ) -> str:
        """Create or update the record (never a second one for the same id); return its id.

        ``budget``: the most seconds the send may take, retries included; ``attempts``: how
        many tries at most (None: the tracker's own). Raises TrackerAuthError,
        TrackerUnavailable (try again later) or TrackerRejected.
        """

    @abc.abstractmethod
    def list_sessions(
        self, *, project: str | None = None, limit: int = 20, search: Search | None = None
    ) -> list[SessionRecord]:
        """The latest records, newest first; only the project's when one is named, and only
        those ``search`` finds (the API's query names: q, branch, machine, end_mode, since,
        until)."""

    @abc.abstractmethod
    def get_session(self, session_id: str) -> SessionRecord | None:
        """The record with this id, or None."""

    def check(self, *, budget: float = 2.0) -> None:  # noqa: B027 - nothing to check locally
        """Raise what keeps the tracker from working now (one cheap read, no retry)."""

    def answers(self, *, budget: float = 2.0) -> bool:
        """Whether the tracker works now; asked after it failed on one record, to tell a record
        it cannot take from a tracker that is down."""
        try:
            self.check(budget=budget)
        except TrackerError:
            return False
        return True

    def credential_fingerprint(self) -> str | None:
        """A short digest of the configured key, to notice that it changed (None: no key)."""
        return None
