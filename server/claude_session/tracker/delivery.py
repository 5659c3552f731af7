"""Getting session records to the tracker without ever losing one, or waiting long for it.

Every record goes into the durable outbox (``outbox.py``) before it is sent and leaves it only
when the tracker confirmed it. ``deliver`` is the end flow's single send: it waits a few seconds
at most, and not at all while the outbox backs off after failures, so a dead tracker costs a
command nothing. ``drain`` sends what waits, in small batches, capped per run and in time; it
runs on start, end, ``claude-session sync`` and MCP server start.

The hooks cannot use the outbox (standard library only, and no time to spare), so they write
records to ``claude-session/spool/<record id>.json``; ``drain`` first moves those files into
the outbox, then deletes them.

Before a record is queued it is made storable (``sanitize.sanitize_record``: NUL characters,
surrogates, integers past the tracker's columns, impossible dates, sizes past its body limit);
what that changed is logged and handed back (``Delivered.changes``, ``DrainReport.warnings``).

Delivery is per record: no record holds back the others. A 4xx refusal makes the record a dead
letter at once. A 500 (the service failed on this request) makes it a suspect: if the tracker
takes another record in the same run, or, when there is none, answers a read (``answers``), the
failure is the record's: it gets a strike, is tried after the others from then on, and after
``DEAD_AFTER`` strikes becomes a dead letter with the tracker's answer. Only when nothing gets
through (connection refused, timeouts, 429/502/503/504, or a 500 for every record and for the
read) is the tracker down, and the outbox backs off as before.

Outcomes: ``sent`` (the tracker confirmed), ``local`` (the local tracker stored it),
``queued`` (the tracker was not reached, or failed on this record: the record waits),
``auth_failed`` (the key was refused: the record waits for a valid one), ``rejected`` (the
tracker refused the record: it is kept as a dead letter naming the refused field).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from claude_session.base.state import spool
from claude_session.base.statefile import move_aside
from claude_session.errors import (
    StateError,
    TrackerAuthError,
    TrackerError,
    TrackerRejected,
    TrackerUnavailable,
)
from claude_session.models import SessionRecord
from claude_session.paths import Paths
from claude_session.tracker.base import Tracker
from claude_session.tracker.outbox import DEAD_AFTER, DeadLetter, Entry, Outbox
from claude_session.tracker.outboxfile import drain_lock
from claude_session.tracker.sanitize import sanitize_record
from claude_session.vocab import TrackerOutcome

log = logging.getLogger(__name__)

DELIVER_BUDGET = 5.0  # the most the end flow waits for the tracker, retries included
DRAIN_BUDGET = 5.0  # the most one drain spends sending (start and end run one)
DRAIN_LIMIT = 50
#: seconds a drain waits for another one that is sending before it leaves the work to it
DRAIN_WAIT = 3.0
BATCH = 20
LEASE_MARGIN = 30.0  # how long past its budget a send's claim keeps other drains off a record
SYNC_HINT = "`claude-session sync` sends it"
RETRY_HINT = "`claude-session sync --retry-rejected` sends it again"
PROBE_LIMIT = 3  # fresh records failing with a 500 in a row, none taken: the tracker is down
PROBE_BUDGET = 2.0


@dataclass
class Delivered:
    outcome: TrackerOutcome
    detail: str | None = None
    warning: str | None = None
    changes: list[str] = field(default_factory=list)  # what was made storable (sanitize)


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


@dataclass
class _Run:
    """One drain's evidence: records taken, records the tracker failed on (500), whether it
    looked down."""

    accepted: int = 0
    suspects: list[tuple[Entry, TrackerError]] = field(default_factory=list)
    fresh_in_a_row: int = 0
    down: TrackerError | None = None
    stop: bool = False


def _record_specific(exc: TrackerError) -> bool:
    """A failure that may be the record's rather than the tracker's (a plain 500)."""
    return isinstance(exc, TrackerUnavailable) and exc.record_specific


class Delivery:
    """The outbox in front of one tracker."""

    def __init__(self, paths: Paths, tracker: Tracker) -> None:
        self.paths = paths
        self.tracker = tracker
        self.outbox = Outbox(paths.outbox_db)
        # Backoff protects commands from a slow or dead network; the local database has none.
        self.remote = tracker.kind != "local"

    # --- the end flow ---------------------------------------------------------------------

    def deliver(self, record: SessionRecord, *, budget: float = DELIVER_BUDGET) -> Delivered:
        """Make the record storable, queue it, then send it unless the tracker is known to be
        down. ``changes`` on the result says what was made storable."""
        record, changes = self.sanitize(record)
        result = self._deliver(record, budget)
        result.changes = changes
        return result

    @staticmethod
    def sanitize(record: SessionRecord) -> tuple[SessionRecord, list[str]]:
        """``sanitize_record``, with what it changed logged."""
        record, changes = sanitize_record(record)
        for change in changes:
            log.warning("%s", change)
        return record, changes

    def _deliver(self, record: SessionRecord, budget: float) -> Delivered:
        started = time.monotonic()
        try:
            version = self.outbox.put(record, lease=budget + LEASE_MARGIN)
        except StateError as exc:
            return self._deliver_unqueued(record, exc, budget)
        entry = Entry(id=record.id, version=version, payload="", attempts=1)
        waiting = self._backing_off()
        if waiting is not None:
            self.outbox.release([entry])
            return Delivered(
                "queued", waiting, f"{waiting} The record waits in the outbox; {SYNC_HINT} now."
            )
        try:
            self._send(record, budget)
        except TrackerError as exc:
            if self.remote and _record_specific(exc):
                left = budget - (time.monotonic() - started)
                return self._suspect(exc, entry, record, left)
            return self._failed(exc, entry)
        self.outbox.confirm([entry])
        self._succeeded()
        return Delivered(self._done_outcome, self.tracker.description)

    def _suspect(
        self, exc: TrackerError, entry: Entry, record: SessionRecord, left: float
    ) -> Delivered:
        """The tracker failed on this record with a 500: a strike if it is otherwise up."""
        if not self.tracker.answers(budget=min(PROBE_BUDGET, max(0.5, left))):
            return self._failed(exc, entry)
        self.outbox.note_success()  # it answered: not down, no backoff for the next record
        message = str(exc)
        if self.outbox.strike(entry, error=self._strike_error(message)):
            warning = self._dead_letter_warning(record.id, record.application_name, message)
            return Delivered("rejected", message, warning)
        return Delivered(
            "queued",
            message,
            (
                f"{message} The tracker answers otherwise, so this record is kept in the outbox "
                f"and tried again after the others; after {DEAD_AFTER} such failures it is kept "
                f"as refused."
            ),
        )

    @staticmethod
    def _strike_error(message: str) -> str:
        return f"{message} (the tracker takes other records)"

    @staticmethod
    def _dead_letter_warning(record_id: str, application: str | None, message: str) -> str:
        which = f" ({application})" if application else ""
        return (
            f"Session record {record_id}{which} failed {DEAD_AFTER} times while the "
            f"tracker took other records: {message} It is kept in the outbox as refused "
            f"(see `claude-session status`); nothing was dropped; {RETRY_HINT}."
        )

    @property
    def _done_outcome(self) -> TrackerOutcome:
        return "local" if self.tracker.kind == "local" else "sent"

    def _deliver_unqueued(
        self, record: SessionRecord, problem: StateError, budget: float
    ) -> Delivered:
        """The outbox cannot be written: send directly, and fail loudly if that fails too."""
        try:
            self._send(record, budget)
        except TrackerError as exc:
            raise StateError(
                f"{problem} The tracker could not take the record either ({exc}); "
                f"fix the outbox and end the session again."
            ) from exc
        return Delivered(
            self._done_outcome,
            self.tracker.description,
            f"{problem} The record was sent anyway; later ones may wait.",
        )

    def _failed(self, exc: TrackerError, entry: Entry) -> Delivered:
        """Keep the record in the state the failure calls for; say what happens next."""
        message = str(exc)
        if isinstance(exc, TrackerRejected):
            self.outbox.mark_rejected(entry, error=message, field=exc.field)
            log.warning("tracker refused record %s: %s", entry.id, message)
            return Delivered(
                "rejected",
                message,
                f"{message} The record is kept in the outbox as refused (see "
                f"`claude-session status`); nothing was dropped.",
            )
        if isinstance(exc, TrackerAuthError):
            self._auth_failed(message, [entry])
            return Delivered("auth_failed", message, self._kept(message, "until the key is fixed"))
        self.outbox.release([entry])
        self._unreachable(exc)
        return Delivered("queued", message, self._kept(message, f"{SYNC_HINT} later"))

    @staticmethod
    def _kept(message: str, when: str) -> str:
        if "outbox" in message:
            return message
        return f"{message} The record waits in the outbox; {when}."

    # --- sending and bookkeeping ----------------------------------------------------------

    def _send(self, record: SessionRecord, budget: float, attempts: int | None = None) -> str:
        return self.tracker.send(record, budget=budget, attempts=attempts)

    def _backing_off(self) -> str | None:
        """Why not to try now, or None: the tracker failed lately and the backoff is not over."""
        if not self.remote:
            return None
        backoff = self.outbox.backoff()
        if backoff.remaining() <= 0:
            return None
        until = datetime.fromtimestamp(backoff.until, timezone.utc).strftime("%H:%M:%S UTC")
        last = self.outbox.last_error()
        return (
            f"The {self.tracker.description} failed {backoff.failures} time(s) lately"
            f"{f' ({last})' if last else ''}; not trying again before {until}."
        )

    def _succeeded(self) -> None:
        self.outbox.note_success()
        # The tracker took a record with the current key: parked ones may go again.
        self.outbox.retry_auth_failed(everything=True)

    def _unreachable(self, exc: TrackerError) -> None:
        if not self.remote:
            self.outbox.note_error(str(exc))
            return
        retry_after = exc.retry_after if isinstance(exc, TrackerUnavailable) else None
        backoff = self.outbox.note_failure(str(exc), retry_after=retry_after)
        log.info("tracker unreachable (%s); backing off %.0f s", exc, backoff.remaining())

    def _auth_failed(self, message: str, held: list[Entry]) -> None:
        # The seed's "Log Error": the key is wrong, the user must act.
        log.error("tracker refused the key: %s", message)
        self.outbox.mark_auth_failed(
            error=message, fingerprint=self.tracker.credential_fingerprint(), extra=held
        )
        self.outbox.note_error(message)

    # --- draining -------------------------------------------------------------------------

    def drain(
        self,
        *,
        limit: int = DRAIN_LIMIT,
        budget: float = DRAIN_BUDGET,
        force: bool = False,
        retry_rejected: bool = False,
        wait: float = DRAIN_WAIT,
    ) -> DrainReport:
        """Send what waits, at most ``limit`` records and ``budget`` seconds: oldest first,
        records the tracker failed on before last.

        Stops when the tracker is down or refuses the key; goes on past a record it refuses or
        fails on. Skips sending while the outbox backs off, unless ``force`` (an explicit
        ``sync``), which also retries the records parked for a refused key.
        ``retry_rejected`` first puts the dead letters back in the queue (made storable).
        ``wait``: seconds to wait for a drain under way before leaving the work to it.
        """
        report = DrainReport()
        report.warnings.extend(self.import_spool())
        if retry_rejected:
            self.outbox.requeue_rejected(changes=report.warnings)
        self._unpark(force=force)
        waiting = None if force else self._backing_off()
        if waiting is not None:
            report.skipped = waiting
        else:
            # a drain under way (the MCP server's startup sync, as a first tool call comes
            # in) is waited for a little: skipped, the records would wait for the next one
            with drain_lock(self.outbox.path, wait=min(wait, budget)) as mine:
                if mine:
                    self._drain_batches(report, limit, time.monotonic() + budget)
                else:
                    report.skipped = "another claude-session process is sending the outbox"
        counts = self.outbox.counts()
        report.remaining = sum(counts.values()) + spool.count(self.paths)
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
        fingerprint = self.tracker.credential_fingerprint()
        if fingerprint is not None:
            self.outbox.retry_auth_failed(unless_fingerprint=fingerprint)

    def _drain_batches(self, report: DrainReport, limit: int, deadline: float) -> None:
        run = _Run()
        handled = 0
        while handled < limit and time.monotonic() < deadline and not run.stop:
            # No lease: the drain lock already keeps other drains out, and it dies with this
            # process, where a lease would hold the batch back after a crash. Records that
            # failed in this run are skipped until it judges them.
            batch = self.outbox.claim(
                min(BATCH, limit - handled), lease=0.0, skip=[entry.id for entry, _ in run.suspects]
            )
            if not batch:
                break
            handled += len(batch)
            self._send_batch(batch, report, deadline, run)
        self._judge(run, report, deadline)

    def _judge(self, run: _Run, report: DrainReport, deadline: float) -> None:
        """After a run: strike the records the tracker failed on if it works otherwise
        (it took another record, or answers a read), else back off as for a tracker down."""
        if run.down is None and run.suspects and run.accepted == 0:
            budget = min(PROBE_BUDGET, max(0.5, deadline - time.monotonic()))
            if self.tracker.answers(budget=budget):
                self.outbox.note_success()
            else:
                run.down = run.suspects[-1][1]
        if run.down is not None:
            self.outbox.release([entry for entry, _ in run.suspects])
            self._unreachable(run.down)
            return
        for entry, exc in run.suspects:
            if not self.outbox.strike(entry, error=self._strike_error(str(exc))):
                continue
            try:
                application: str | None = entry.record().application_name
            except ValidationError:
                application = None
            report.warnings.append(self._dead_letter_warning(entry.id, application, str(exc)))
            log.warning("record %s moved to the refused list: %s", entry.id, exc)

    def _send_batch(
        self, batch: list[Entry], report: DrainReport, deadline: float, run: _Run
    ) -> None:
        """Send one claimed batch; sets ``run.stop`` when the drain should stop."""
        confirmed: list[Entry] = []
        for index, entry in enumerate(batch):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.outbox.release(batch[index:])
                run.stop = True
                break
            try:
                record = entry.record()
            except ValidationError as exc:
                self.outbox.mark_rejected(
                    entry,
                    field=None,
                    error=(
                        f"The queued record cannot be read by this version ({exc.error_count()} "
                        f"problems); it is kept, not sent."
                    ),
                )
                continue
            try:
                # A record the tracker failed on before gets one try, not the client's retries.
                self._send(
                    record, min(DELIVER_BUDGET, remaining), attempts=1 if entry.failures else None
                )
            except TrackerRejected as exc:
                self._failed(exc, entry)
                continue
            except TrackerAuthError as exc:
                self.outbox.confirm(confirmed)
                report.sent += len(confirmed)
                confirmed = []
                self._auth_failed(str(exc), batch[index:])
                run.suspects = []  # parked with the rest until the key is fixed
                run.stop = True
                break
            except TrackerError as exc:
                if self.remote and _record_specific(exc):
                    run.suspects.append((entry, exc))
                    run.fresh_in_a_row += 0 if entry.failures else 1
                    if run.accepted == 0 and run.fresh_in_a_row >= PROBE_LIMIT:
                        self.outbox.release(batch[index + 1 :])  # a 500 for every record
                        run.down, run.stop = exc, True
                        break
                    continue
                self.outbox.release(batch[index:])
                run.down, run.stop = exc, True
                break
            confirmed.append(entry)
            run.accepted += 1
            run.fresh_in_a_row = 0
        if confirmed:
            self.outbox.confirm(confirmed)
            report.sent += len(confirmed)
            self._succeeded()

    # --- the hooks' spool -----------------------------------------------------------------

    def import_spool(self) -> list[str]:
        """Move the hooks' spooled records into the outbox; warnings for unreadable files."""
        warnings: list[str] = []
        found: list[tuple[Path, int, SessionRecord]] = []
        for path, inode, data in spool.records(self.paths):
            try:
                record = SessionRecord.model_validate(data)
            except ValueError as exc:
                warnings.append(move_aside(path, f"not a session record: {type(exc).__name__}"))
                continue
            record, changes = self.sanitize(record)
            warnings.extend(changes)
            found.append((path, inode, record))
        if not found:
            return warnings
        self.outbox.put_many([record for _, _, record in found])
        for path, inode, _ in found:
            spool.remove(path, inode)
        return warnings

    # --- what status shows ----------------------------------------------------------------

    def depth(self) -> int:
        """Records not yet confirmed by the tracker: the outbox and the hooks' spool."""
        return self.outbox.depth() + spool.count(self.paths)

    def counts(self) -> dict[str, int]:
        """What ``depth`` counts, by state: pending, auth_failed, rejected, and spooled (hook
        files not yet moved into the outbox)."""
        found = self.outbox.counts()
        found["spooled"] = spool.count(self.paths)
        return found

    def last_error(self) -> str | None:
        return self.outbox.last_error()

    def dead_letters(self) -> list[DeadLetter]:
        """The records kept but not simply waiting: refused by the tracker (with its answer)
        or waiting for a valid key; what ``status`` lists."""
        return self.outbox.dead_letters()

    def requeue_rejected(self) -> tuple[int, list[str]]:
        """Put the refused records back in the queue, made storable: how many, and what was
        changed to make them so."""
        changes: list[str] = []
        count = self.outbox.requeue_rejected(changes=changes)
        return count, changes
