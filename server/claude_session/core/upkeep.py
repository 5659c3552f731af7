"""Keeping the books: status, history, and sync (finalizing sessions that ended without /end,
sending what waits in the outbox, retrying delayed hand-offs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from claude_session.base import flow, sessions
from claude_session.base.state import ledger
from claude_session.base.state import remind as reminders
from claude_session.core import answers, handoffs, steps
from claude_session.core.project import Project, resolve
from claude_session.core.services import Services
from claude_session.errors import ClaudeSessionError, StateError, VaultError
from claude_session.models import (
    DeadLetterInfo,
    HistoryResult,
    HistoryTotals,
    ReminderSettings,
    SessionRecord,
    StatusResult,
    SyncResult,
)


def finalize_orphans(services: Services, project: Project | None, *, keep: str | None) -> list[str]:
    """Close open sessions whose Claude Code is gone (or silent for long), then deliver every
    spooled record (the hooks spool them too)."""
    done = sessions.finalize_orphans(
        services.paths, keep=keep, project_root=project.key if project else None
    )
    for warning in services.delivery.drain().warnings:
        flow.warn(warning)
    return done


def status(services: Services, cwd: Path | str, *, session_id: str | None = None) -> StatusResult:
    """Only looks: writes nothing, not even the SessionStart hook's cache of whether a
    claude.ai answer waits (its MCP tool's ``readOnlyHint`` is true)."""
    with services.call():
        project = resolve(cwd)
        sid = steps.session_id(services, session_id, project, create=False)
        entry = steps.ledger_entry(services, sid) if sid else None
        remind_data = reminders.read(services.paths)
        waiting = answers.after_vault_check(services, project, write=False)
        return steps.result(
            StatusResult,
            project,
            branch=steps.working_state(project).branch,
            active_session=entry if entry and entry.status == "active" else None,
            pause=steps.pause_entry(services, project),
            reminders=ReminderSettings(**reminders.settings_for(remind_data, project.key)),
            **_outbox_status(services),
            vault=services.vault.description,
            tracker=services.tracker.description,
            handoff_waiting=waiting,
            pending_handoffs=handoffs.pending_handoffs(services),
        )


def _outbox_status(services: Services) -> dict[str, Any]:
    if not services.paths.outbox_db.exists():
        return {}  # nothing was ever queued; opening the outbox would create it
    try:
        delivery = services.delivery
        return {
            "outbox_depth": delivery.depth(),
            "outbox_last_error": delivery.last_error(),
            "outbox": delivery.counts(),
            "dead_letters": [
                DeadLetterInfo.model_validate(vars(d)) for d in delivery.dead_letters()
            ],
        }
    except StateError as exc:
        flow.warn(f"Outbox not readable: {exc}")
        return {}


def history(
    services: Services,
    *,
    project: str | None = None,
    limit: int = 20,
    search: dict[str, str] | None = None,
) -> HistoryResult:
    """The latest records (``search``: the API's query names: q, branch, machine, end_mode,
    since, until), with their totals: duration, tokens and cost, each record once."""
    if limit < 1:
        raise ClaudeSessionError("--limit must be at least 1.")
    records = services.tracker.list_sessions(project=project, limit=limit, search=search or None)
    return HistoryResult(
        records=records, tracker=services.tracker.description, totals=totals_of(records)
    )


def totals_of(records: list[SessionRecord]) -> HistoryTotals:
    """What a list of records adds up to; a record of unknown cost is counted apart."""
    known = [r.cost_usd for r in records if r.cost_usd is not None]
    return HistoryTotals(
        sessions=len(records),
        minutes=sum(r.duration_minutes for r in records),
        commits=sum(r.commits_count for r in records),
        tokens=sum(
            r.tokens_input + r.tokens_output + r.tokens_cache_creation + r.tokens_cache_read
            for r in records
        ),
        cost_usd=round(sum(known), 6),
        cost_unknown=len(records) - len(known),
    )


def sync(
    services: Services,
    cwd: Path | str | None = None,
    *,
    force: bool = True,
    retry_rejected: bool = False,
    retry_refused: bool = False,
) -> SyncResult:
    """Finalize unended sessions, send what waits (``force``: even while backing off;
    ``retry_rejected``: the records the tracker refused too), retry delayed hand-offs
    (``retry_refused``: the ones the vault refused for good too)."""
    with services.call():
        if force:  # the person asked: 1Password is tried even under a remembered rate limit
            services.vault.try_now()
        keep = services.settings.session_id
        finalized = sessions.finalize_orphans(services.paths, project_root=None, keep=keep)
        sessions.settle_ended(services.paths, keep=keep)
        ledger.prune(services.paths)
        report = services.delivery.drain(
            limit=1000, budget=60.0, force=force, retry_rejected=retry_rejected
        )
        for warning in report.warnings:
            flow.warn(warning)
        retried = 0
        try:
            retried = answers.deliver_waiting(services, refused=retry_refused)
        except VaultError as exc:
            flow.warn(f"ClaudeSync not reached: {exc}")
        if cwd is not None:
            answers.after_vault_check(services, resolve(cwd))
        return SyncResult(
            finalized=finalized,
            sent=report.sent,
            remaining=report.remaining,
            auth_failed=report.auth_failed,
            rejected=report.rejected,
            last_error=report.last_error,
            retried_handoffs=retried,
            skipped=report.skipped,
            tracker=services.tracker.description,
            warnings=steps.warnings(),
        )


def startup_sync(services: Services) -> SyncResult:
    """What the MCP server does once it has answered the client: finalize sessions that ended
    without /end and send what waits, without forcing a tracker that is backing off."""
    return sync(services, force=False)


def contexts(services: Services, *, limit: int = 200) -> list[Path]:
    """The saved context files, newest first (at most ``limit``)."""
    folder = services.paths.contexts
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.md"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit]


def context(services: Services, name: str) -> str:
    """One saved context file's text, by its file name (never a path outside the folder)."""
    path = services.paths.contexts / Path(name).name
    if not path.is_file() or path.suffix != ".md":
        raise ClaudeSessionError(f"No context file named {name}.")
    return steps.read_context(str(path))
