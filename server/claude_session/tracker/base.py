"""The session tracker interface (SPEC section 6).

A tracker keeps finished session records. ``LocalTracker`` stores them in a SQLite database on
this machine; the remote client sends them to ``POST {tracker}/api/sessions``. Both are
idempotent on the record's own id, so the outbox may retry a send as often as it needs to.
"""

from __future__ import annotations

import abc
from types import TracebackType
from typing import TypeVar

from claude_session.models import SessionRecord

_Self = TypeVar("_Self", bound="Tracker")


class Tracker(abc.ABC):
    """Where session records go."""

    kind: str
    description: str
    warnings: list[str]  # set by each backend: what the user should hear (files moved aside)

    @abc.abstractmethod
    def send(self, record: SessionRecord) -> str:
        """Create or update the record (never a second one for the same id); return its id.

        Raises TrackerAuthError, TrackerUnavailable (try again later) or TrackerRejected.
        """

    @abc.abstractmethod
    def list_sessions(self, *, project: str | None = None, limit: int = 20) -> list[SessionRecord]:
        """The latest records, newest first; only the project's when one is named."""

    @abc.abstractmethod
    def get_session(self, session_id: str) -> SessionRecord | None:
        """The record with this id, or None."""

    def answers(self, *, budget: float = 2.0) -> bool:
        """Whether the tracker works now (a cheap read); asked after it failed on one record,
        to tell a record it cannot take from a tracker that is down. Local: always."""
        return True

    def close(self) -> None:  # noqa: B027 - trackers without resources need nothing here
        """Release connections."""

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
