"""Keeping the books: status, history, and sync (finalizing sessions that ended without
/end, sending what waits in the outbox, retrying delayed hand-offs)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_session.base import sessions
from claude_session.base.state import ledger, remind
from claude_session.core.claudesync import ClaudeSyncFlows
from claude_session.core.project import Project, resolve
from claude_session.errors import (
    ClaudeSessionError,
    StateError,
    VaultError,
)
from claude_session.models import (
    DeadLetterInfo,
    HistoryResult,
    ReminderSettings,
    StatusResult,
    SyncResult,
)

if TYPE_CHECKING:  # the backends import SQLAlchemy and the 1Password SDK: only when used
    from claude_session.tracker.delivery import DrainReport

log = logging.getLogger(__name__)


class Upkeep(ClaudeSyncFlows):
    """Status, history and sync, mixed into ``Core`` (sync retries delayed hand-offs)."""

    # --- sessions that ended without /end -------------------------------------------------

    def _finalize_orphans(self, project: Project | None, *, keep: str | None) -> list[str]:
        """Close open sessions whose Claude Code is gone (or silent for long), then deliver
        every spooled record (the hooks spool them too)."""
        done = sessions.finalize_orphans(
            self.paths, keep=keep, project_root=project.key if project else None
        )
        self._drain()
        return done

    def _drain(self) -> DrainReport:
        report = self.delivery.drain()
        for warning in report.warnings:
            self._warn(warning)
        return report

    # --- status, history, sync, hand-off by hand -------------------------------------------

    def status(self, cwd: Path | str, *, session_id: str | None = None) -> StatusResult:
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=False)
            entry = self._ledger(sid) if sid else None
            state = self._state(project)
            remind_data = remind.read(self.paths)
            waiting = self._after_vault_check(project, retry=False)
            return StatusResult(
                project=project.name,
                project_root=project.key,
                branch=state.branch if state else None,
                active_session=entry if entry and entry.status == "active" else None,
                pause=self._pause_entry(project),
                reminders=ReminderSettings(**remind.settings_for(remind_data, project.key)),
                **self._outbox_status(),
                vault=self.vault.description,
                tracker=self.tracker.description,
                handoff_waiting=waiting,
                pending_handoffs=self.pending_handoffs(),
                warnings=self._warnings,
            )

    def _outbox_status(self) -> dict[str, Any]:
        try:
            delivery = self.delivery
            return {
                "outbox_depth": delivery.depth(),
                "outbox_last_error": delivery.last_error(),
                "outbox": delivery.counts(),
                "dead_letters": [
                    DeadLetterInfo.model_validate(vars(d)) for d in delivery.dead_letters()
                ],
            }
        except StateError as exc:
            self._warn(f"Outbox not readable: {exc}")
            return {}

    def history(self, *, project: str | None = None, limit: int = 20) -> HistoryResult:
        if limit < 1:
            raise ClaudeSessionError("--limit must be at least 1.")
        return HistoryResult(
            records=self.tracker.list_sessions(project=project, limit=limit),
            tracker=self.tracker.description,
        )

    def sync(
        self, cwd: Path | str | None = None, *, force: bool = True, retry_rejected: bool = False
    ) -> SyncResult:
        """Finalize unended sessions, send what waits (``force``: even while backing off;
        ``retry_rejected``: the records the tracker refused too), retry delayed hand-offs."""
        with self._collecting():
            finalized = sessions.finalize_orphans(
                self.paths, project_root=None, keep=self.settings.session_id
            )
            sessions.settle_ended(self.paths, keep=self.settings.session_id)
            ledger.prune(self.paths)
            report = self.delivery.drain(
                limit=1000, budget=60.0, force=force, retry_rejected=retry_rejected
            )
            for warning in report.warnings:
                self._warn(warning)
            retried = 0
            try:
                retried = self._retry_pending_handoffs()
            except VaultError as exc:
                self._warn(f"ClaudeSync not reached: {exc}")
            if cwd is not None:
                self._after_vault_check(resolve(cwd))
            return SyncResult(
                finalized=finalized,
                sent=report.sent,
                remaining=report.remaining,
                auth_failed=report.auth_failed,
                rejected=report.rejected,
                last_error=report.last_error,
                retried_handoffs=retried,
                skipped=report.skipped,
                tracker=self.tracker.description,
                warnings=self._warnings,
            )
