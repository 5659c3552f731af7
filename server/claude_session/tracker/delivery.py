"""Getting session records to the tracker without ever losing one.

Every record is written to the spool (``claude-session/spool/<record id>.json``) before it is
sent, and removed only when the tracker confirmed it; the hooks spool records the same way for
sessions that ended without /end. A record the tracker refused moves to ``spool/rejected/``,
where it stays visible. The record id is the file name, so a retry never makes a second record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from claude_session.errors import TrackerAuthError, TrackerError, TrackerRejected
from claude_session.models import SessionRecord, TrackerOutcome
from claude_session.paths import Paths
from claude_session.statefile import atomic_write, move_aside
from claude_session.tracker.base import Tracker


@dataclass
class Delivered:
    outcome: TrackerOutcome
    detail: str | None = None
    warning: str | None = None


@dataclass
class DrainReport:
    sent: int = 0
    remaining: int = 0
    auth_failed: int = 0
    rejected: int = 0
    last_error: str | None = None
    warnings: list[str] = field(default_factory=list)


class Delivery:
    """The spool in front of one tracker."""

    def __init__(self, paths: Paths, tracker: Tracker) -> None:
        self.folder = paths.data / "spool"
        self.tracker = tracker

    def _spooled(self, record_id: str) -> Path:
        return self.folder / f"{record_id}.json"

    def deliver(self, record: SessionRecord) -> Delivered:
        path = self._spooled(record.id)
        atomic_write(path, record.model_dump_json())
        try:
            self.tracker.send(record)
        except TrackerRejected as exc:
            atomic_write(self.folder / "rejected" / path.name, record.model_dump_json())
            path.unlink(missing_ok=True)
            return Delivered("rejected", str(exc), f"{exc} The record is kept in "
                                                   f"{self.folder / 'rejected'}.")
        except TrackerError as exc:
            outcome: TrackerOutcome = ("auth_failed" if isinstance(exc, TrackerAuthError)
                                       else "queued")
            return Delivered(outcome, str(exc), f"{exc} The record waits in the outbox; "
                                                f"`claude-session sync` sends it.")
        path.unlink(missing_ok=True)
        return Delivered("local" if self.tracker.kind == "local" else "sent",
                         self.tracker.description)

    def pending(self) -> list[Path]:
        return sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []

    def depth(self) -> int:
        return len(self.pending())

    def last_error(self) -> str | None:
        return None

    def drain(self, *, limit: int = 50) -> DrainReport:
        """Send what waits, oldest first; stop at the first sign the tracker is down."""
        report = DrainReport()
        for path in self.pending()[:limit]:
            try:
                record = SessionRecord.model_validate_json(path.read_bytes())
            except (OSError, ValueError) as exc:
                report.warnings.append(move_aside(path, f"not a session record: "
                                                        f"{type(exc).__name__}"))
                continue
            result = self.deliver(record)
            if result.outcome in ("local", "sent"):
                report.sent += 1
                continue
            report.last_error = result.detail
            if result.outcome == "rejected":
                report.rejected += 1
                continue
            if result.outcome == "auth_failed":
                report.auth_failed += 1
            break
        report.remaining = self.depth()
        return report
