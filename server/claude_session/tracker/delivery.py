"""Getting session records to the tracker without ever losing one, or waiting long for it.

Every record goes into the durable outbox (``outbox.py``) before it is sent and leaves it only
when the tracker confirmed it. ``deliver`` is the end flow's single send: it waits a few seconds
at most, and not at all while the outbox backs off after failures, so a dead tracker costs a
command nothing. ``drain`` sends what waits, in small batches, capped per run and in time; it
runs on start, end, ``claude-session sync`` and MCP server start.

The hooks cannot use the outbox (standard library only, and no time to spare), so they write
records to ``claude-session/spool/<record id>.json``; ``drain`` first moves those files into
the outbox, then deletes them.

Outcomes: ``sent`` (the tracker confirmed), ``local`` (the local tracker stored it),
``queued`` (the tracker was not reached: the record waits), ``auth_failed`` (the key was
refused: the record waits for a valid one), ``rejected`` (the tracker refused the record: it is
kept as a dead letter naming the refused field).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from claude_session.errors import (
    StateError,
    TrackerAuthError,
    TrackerError,
    TrackerRejected,
)
from claude_session.models import SessionRecord, TrackerOutcome
from claude_session.paths import Paths
from claude_session.statefile import move_aside
from claude_session.tracker.base import Tracker
from claude_session.tracker.outbox import Entry, Outbox, drain_lock

log = logging.getLogger(__name__)

DELIVER_BUDGET = 5.0  # the most the end flow waits for the tracker, retries included
DRAIN_BUDGET = 5.0  # the most one drain spends sending (start and end run one)
DRAIN_LIMIT = 50
BATCH = 20
LEASE_MARGIN = 30.0  # how long past its budget a send's claim keeps other drains off a record
SYNC_HINT = "`claude-session sync` sends it"


@dataclass
class Delivered:
    outcome: TrackerOutcome
    detail: str | None = None
    warning: str | None = None


@dataclass
class DrainReport:
    """One drain: ``sent`` in this run; the other counts are what the outbox keeps after it
    (``remaining`` all of it, ``auth_failed`` and ``rejected`` the parked and refused)."""

    sent: int = 0
    remaining: int = 0
    auth_failed: int = 0
    rejected: int = 0
    last_error: str | None = None
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None  # why nothing was sent: backing off, another process drains


class Delivery:
    """The outbox in front of one tracker."""

    def __init__(self, paths: Paths, tracker: Tracker) -> None:
        self.spool = paths.data / "spool"
        self.tracker = tracker
        self.outbox = Outbox(paths.outbox_db)
        # Backoff protects commands from a slow or dead network; the local database has none.
        self.remote = tracker.kind != "local"

    # --- the end flow ---------------------------------------------------------------------

    def deliver(self, record: SessionRecord, *, budget: float = DELIVER_BUDGET) -> Delivered:
        """Queue the record, then send it unless the tracker is known to be down."""
        try:
            version = self.outbox.put(record, lease=budget + LEASE_MARGIN)
        except StateError as exc:
            return self._deliver_unqueued(record, exc, budget)
        entry = Entry(id=record.id, version=version, payload="", attempts=1)
        waiting = self._backing_off()
        if waiting is not None:
            self.outbox.release([entry])
            return Delivered("queued", waiting, f"{waiting} The record waits in the outbox; "
                                                f"{SYNC_HINT} now.")
        try:
            self._send(record, budget)
        except TrackerError as exc:
            return self._failed(exc, entry)
        self.outbox.confirm([entry])
        self._succeeded()
        return Delivered(self._done_outcome, self.tracker.description)

    @property
    def _done_outcome(self) -> TrackerOutcome:
        return "local" if self.tracker.kind == "local" else "sent"

    def _deliver_unqueued(self, record: SessionRecord, problem: StateError,
                          budget: float) -> Delivered:
        """The outbox cannot be written: send directly, and fail loudly if that fails too."""
        try:
            self._send(record, budget)
        except TrackerError as exc:
            raise StateError(f"{problem} The tracker could not take the record either ({exc}); "
                             f"fix the outbox and end the session again.") from exc
        return Delivered(self._done_outcome, self.tracker.description,
                         f"{problem} The record was sent anyway; later ones may wait.")

    def _failed(self, exc: TrackerError, entry: Entry) -> Delivered:
        """Keep the record in the state the failure calls for; say what happens next."""
        message = str(exc)
        if isinstance(exc, TrackerRejected):
            refused = getattr(exc, "field", None)
            self.outbox.mark_rejected(entry, error=message, field=refused)
            log.warning("tracker refused record %s: %s", entry.id, message)
            return Delivered("rejected", message,
                             f"{message} The record is kept in the outbox as refused (see "
                             f"`claude-session status`); nothing was dropped.")
        if isinstance(exc, TrackerAuthError):
            self._auth_failed(message, [entry])
            return Delivered("auth_failed", message, self._kept(message, "until the key is "
                                                                         "fixed"))
        self.outbox.release([entry])
        self._unreachable(exc)
        return Delivered("queued", message, self._kept(message, f"{SYNC_HINT} later"))

    @staticmethod
    def _kept(message: str, when: str) -> str:
        if "outbox" in message:
            return message
        return f"{message} The record waits in the outbox; {when}."

    # --- sending and bookkeeping ----------------------------------------------------------

    def _send(self, record: SessionRecord, budget: float) -> str:
        from claude_session.tracker.client import HttpTracker

        if isinstance(self.tracker, HttpTracker):
            return self.tracker.send(record, budget=budget)
        return self.tracker.send(record)

    def _backing_off(self) -> str | None:
        """Why not to try now, or None: the tracker failed lately and the backoff is not over."""
        if not self.remote:
            return None
        backoff = self.outbox.backoff()
        if backoff.remaining() <= 0:
            return None
        until = datetime.fromtimestamp(backoff.until, timezone.utc).strftime("%H:%M:%S UTC")
        last = self.outbox.last_error()
        return (f"The {self.tracker.description} failed {backoff.failures} time(s) lately"
                f"{f' ({last})' if last else ''}; not trying again before {until}.")

    def _succeeded(self) -> None:
        self.outbox.note_success()
        # The tracker took a record with the current key: parked ones may go again.
        self.outbox.retry_auth_failed(everything=True)

    def _unreachable(self, exc: TrackerError) -> None:
        if not self.remote:
            self.outbox.note_error(str(exc))
            return
        backoff = self.outbox.note_failure(str(exc),
                                           retry_after=getattr(exc, "retry_after", None))
        log.info("tracker unreachable (%s); backing off %.0f s", exc, backoff.remaining())

    def _auth_failed(self, message: str, held: list[Entry]) -> None:
        # The seed's "Log Error": the key is wrong, the user must act.
        log.error("tracker refused the key: %s", message)
        self.outbox.mark_auth_failed(error=message, fingerprint=self._fingerprint(), extra=held)
        self.outbox.note_error(message)

    def _fingerprint(self) -> str | None:
        fingerprint = getattr(self.tracker, "credential_fingerprint", None)
        return fingerprint() if callable(fingerprint) else None

    # --- draining -------------------------------------------------------------------------

    def drain(self, *, limit: int = DRAIN_LIMIT, budget: float = DRAIN_BUDGET,
              force: bool = False) -> DrainReport:
        """Send what waits, oldest first, at most ``limit`` records and ``budget`` seconds.

        Stops at the first sign the tracker is down or refuses the key; skips sending while
        the outbox backs off, unless ``force`` (an explicit ``sync``), which also retries the
        records parked for a refused key.
        """
        report = DrainReport()
        report.warnings.extend(self.import_spool())
        self._unpark(force=force)
        waiting = None if force else self._backing_off()
        if waiting is not None:
            report.skipped = waiting
        else:
            with drain_lock(self.outbox.path) as mine:
                if mine:
                    self._drain_batches(report, limit, time.monotonic() + budget)
                else:
                    report.skipped = "another claude-session process is sending the outbox"
        counts = self.outbox.counts()
        report.remaining = sum(counts.values()) + len(self.spooled())
        report.auth_failed = counts["auth_failed"]
        report.rejected = counts["rejected"]
        report.last_error = self.outbox.last_error()
        return report

    def _unpark(self, *, force: bool) -> None:
        if not self.remote:
            return
        if force:
            self.outbox.retry_auth_failed(everything=True)
            return
        fingerprint = self._fingerprint()
        if fingerprint is not None:
            self.outbox.retry_auth_failed(unless_fingerprint=fingerprint)

    def _drain_batches(self, report: DrainReport, limit: int, deadline: float) -> None:
        handled = 0
        while handled < limit and time.monotonic() < deadline:
            # No lease: the drain lock already keeps other drains out, and it dies with this
            # process, where a lease would hold the batch back after a crash.
            batch = self.outbox.claim(min(BATCH, limit - handled), lease=0.0)
            if not batch:
                return
            handled += len(batch)
            if not self._send_batch(batch, report, deadline):
                return

    def _send_batch(self, batch: list[Entry], report: DrainReport, deadline: float) -> bool:
        """Send one claimed batch; False when the drain should stop."""
        confirmed: list[Entry] = []
        go_on = True
        for index, entry in enumerate(batch):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.outbox.release(batch[index:])
                go_on = False
                break
            try:
                record = entry.record()
            except ValidationError as exc:
                self.outbox.mark_rejected(entry, field=None, error=(
                    f"The queued record cannot be read by this version ({exc.error_count()} "
                    f"problems); it is kept, not sent."))
                continue
            try:
                self._send(record, min(DELIVER_BUDGET, remaining))
            except TrackerRejected as exc:
                self._failed(exc, entry)
                continue
            except TrackerAuthError as exc:
                self.outbox.confirm(confirmed)
                report.sent += len(confirmed)
                confirmed = []
                self._auth_failed(str(exc), batch[index:])
                go_on = False
                break
            except TrackerError as exc:
                self.outbox.release(batch[index:])
                self._unreachable(exc)
                go_on = False
                break
            confirmed.append(entry)
        if confirmed:
            self.outbox.confirm(confirmed)
            report.sent += len(confirmed)
            self._succeeded()
        return go_on

    # --- the hooks' spool -----------------------------------------------------------------

    def spooled(self) -> list[Path]:
        return sorted(self.spool.glob("*.json")) if self.spool.is_dir() else []

    def import_spool(self) -> list[str]:
        """Move the hooks' spooled records into the outbox; warnings for unreadable files."""
        warnings: list[str] = []
        found: list[tuple[Path, int, SessionRecord]] = []
        for path in self.spooled():
            try:
                inode = path.stat().st_ino
                record = SessionRecord.model_validate_json(path.read_bytes())
            except FileNotFoundError:
                continue  # another process imported it
            except (OSError, ValueError) as exc:
                warnings.append(move_aside(path, f"not a session record: "
                                                 f"{type(exc).__name__}"))
                continue
            found.append((path, inode, record))
        if not found:
            return warnings
        self.outbox.put_many([record for _, _, record in found])
        for path, inode, _ in found:
            self._unlink_if_same(path, inode)
        return warnings

    @staticmethod
    def _unlink_if_same(path: Path, inode: int) -> None:
        """Delete a spool file unless a hook rewrote it since it was read (a new inode: the
        hooks write by rename); the newer copy is imported next time."""
        try:
            if path.stat().st_ino == inode:
                os.unlink(path)
        except FileNotFoundError:
            pass

    # --- what status shows ----------------------------------------------------------------

    def depth(self) -> int:
        """Records not yet confirmed by the tracker: the outbox and the hooks' spool."""
        return self.outbox.depth() + len(self.spooled())

    def counts(self) -> dict[str, int]:
        """What ``depth`` counts, by state: pending, auth_failed, rejected, and spooled (hook
        files not yet moved into the outbox)."""
        found = self.outbox.counts()
        found["spooled"] = len(self.spooled())
        return found

    def last_error(self) -> str | None:
        return self.outbox.last_error()
