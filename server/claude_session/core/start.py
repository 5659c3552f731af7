"""start (seed: "/start"): the branch check, the 1Password check, and the session tracked.

A second start in the same session is harmless: it returns the session's context again, unless
a pause or a claude.ai answer came since (then the whole flow runs).
"""

from __future__ import annotations

from pathlib import Path

from claude_session.base.state import answers as answer_state
from claude_session.base.state import pause as pausestate
from claude_session.core import answers, branches, steps, upkeep
from claude_session.core.gitstate import WorkingState
from claude_session.core.project import Project, resolve
from claude_session.core.services import Services
from claude_session.models import LedgerEntry, PauseEntry, StartResult


def start(
    services: Services,
    cwd: Path | str,
    *,
    session_id: str | None = None,
    on_mismatch: str | None = None,
    no_import: bool = False,
    source: str = "cli",
) -> StartResult:
    with services.call():
        project = resolve(cwd)
        sid = steps.session_id(services, session_id, project, create=True)
        assert sid is not None
        pause = steps.find_pause(services, project)
        existing = steps.ledger_entry(services, sid)
        if _started_already(services, project, existing, pause, no_import=no_import):
            assert existing is not None
            return _rejoin(services, project, existing)
        state = steps.working_state(project)
        decision = "match"
        if pause is not None:
            decision = branches.decide(services, project, pause, state, on_mismatch)
            if decision == "mismatch":
                return branches.mismatch(project, sid, pause, state)
            if decision == "cancelled":
                return branches.refused(project, sid, pause, state, decision)
            if decision == "switched":
                state = steps.working_state(project)
        picked_up = pause if decision != "stayed" else None
        context = _paused_context(services, picked_up)
        context_file = picked_up.context_file if picked_up else None
        imported = None
        if not no_import:
            context, context_file, imported = answers.check_on_start(
                services, project, sid, context, context_file, have_pause=pause is not None
            )
        _track(services, project, sid, state, source, context_file, picked_up)
        upkeep.finalize_orphans(services, project, keep=sid)
        if not no_import:
            answers.after_vault_check(services, project)
        return steps.result(
            StartResult,
            project,
            status="ready",
            branch=state.branch,
            session_id=sid,
            context=context,
            paused_branch=pause.branch if pause else None,
            imported_item=imported,
            switched_branch=decision == "switched",
            cleared_pause=decision == "stayed",
            vault=services.vault_description,
        )


def _started_already(
    services: Services,
    project: Project,
    existing: LedgerEntry | None,
    pause: PauseEntry | None,
    *,
    no_import: bool,
) -> bool:
    """The session started before and nothing new came since: no pause, no claude.ai answer."""
    return (
        existing is not None
        and existing.status == "active"
        and existing.start_done
        and pause is None
        and (no_import or answer_state.waiting(services.paths, project.key) is None)
    )


def _rejoin(services: Services, project: Project, entry: LedgerEntry) -> StartResult:
    """The context of a session that started already."""
    context = ""
    if entry.context_id:
        path = services.paths.contexts / f"{entry.context_id}.md"
        if path.exists():
            context = steps.read_context(str(path))
    return steps.result(
        StartResult,
        project,
        status="ready",
        branch=steps.working_state(project).branch,
        session_id=entry.session_id,
        context=context,
        already_started=True,
    )


def _paused_context(services: Services, pause: PauseEntry | None) -> str:
    """The paused context; a missing file never blocks start (``steps.paused_context``)."""
    return steps.paused_context(services, pause) if pause is not None else ""


def _track(
    services: Services,
    project: Project,
    session_id: str,
    state: WorkingState,
    source: str,
    context_file: str | None,
    picked_up: PauseEntry | None,
) -> None:
    """Open the session's ledger entry (seed: "start tracking"); a session that picks up a
    pause names the paused session's record (one chain in the tracker), and the pause ends."""
    entry = steps.open_entry(services, project, session_id, source=source, state=state)
    entry.start_done = True
    if context_file:
        entry.context_id = Path(context_file).stem
    if picked_up is not None:
        steps.continues(entry, picked_up)
    steps.save_ledger(services, entry)
    if picked_up is not None:
        pausestate.clear(services.paths, project.key)
