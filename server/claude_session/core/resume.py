"""resume (seed: "/resume"): the project's pause entry, its context, the branch check."""

from __future__ import annotations

from pathlib import Path

from claude_session.base.state import answers as answer_state
from claude_session.base.state import pause as pausestate
from claude_session.core import answers, branches, continued, steps
from claude_session.core.gitstate import WorkingState
from claude_session.core.project import Project, resolve
from claude_session.core.services import Services
from claude_session.models import PauseEntry, StartResult


def resume(
    services: Services,
    cwd: Path | str,
    *,
    session_id: str | None = None,
    on_mismatch: str | None = None,
) -> StartResult:
    with services.call():
        project = resolve(cwd)
        sid = steps.session_id(services, session_id, project, create=True)
        assert sid is not None
        pause = steps.find_pause(services, project)
        state = steps.working_state(project)
        if pause is None:
            return steps.result(
                StartResult,
                project,
                status="no_pause_state",
                branch=state.branch,
                session_id=sid,
                context="Nothing is paused for this project. Use start to begin a session.",
            )
        decision = branches.decide(services, project, pause, state, on_mismatch)
        if decision == "mismatch":
            return branches.mismatch(project, sid, pause, state)
        if decision in ("cancelled", "stayed"):
            return branches.refused(project, sid, pause, state, decision)
        context = steps.paused_context(services, pause)
        if decision == "switched":
            state = steps.working_state(project)
        context, context_file, imported = _answer(services, project, sid, context, pause)
        _track(services, project, sid, state, pause, context_file)
        return steps.result(
            StartResult,
            project,
            status="ready",
            branch=state.branch,
            session_id=sid,
            context=context,
            paused_branch=pause.branch,
            imported_item=imported,
            switched_branch=decision == "switched",
            vault=services.vault_description if imported else None,
        )


def _answer(
    services: Services, project: Project, session_id: str, context: str, pause: PauseEntry
) -> tuple[str, str, str | None]:
    """A claude.ai answer that waits is merged into the resumed context, as start does
    (newcomer-2.md 4.6). The vault is asked only when the hook's cache says an answer waits or
    the pause made a hand-off item (no network otherwise)."""
    if answer_state.waiting(services.paths, project.key) is None and not pause.handoff_item:
        return context, pause.context_file, None
    merged, merged_file, imported = answers.check_on_start(
        services, project, session_id, context, pause.context_file, have_pause=True
    )
    answers.after_vault_check(services, project)
    if imported and merged_file:  # the project's latest context is the merged one now
        pausestate.patch(services.paths, project.key, {"context_file": merged_file})
    return merged, merged_file or pause.context_file, imported


def _track(
    services: Services,
    project: Project,
    session_id: str,
    state: WorkingState,
    pause: PauseEntry,
    context_file: str,
) -> None:
    """The session's ledger entry continues the paused one; the pause is marked resumed (kept:
    the context file it names stays the project's latest until the next pause or end)."""
    entry = steps.open_entry(services, project, session_id, source="resume", state=state)
    entry.start_done = True
    entry.context_id = Path(context_file).stem
    entry.summary = entry.summary or pause.summary
    steps.continues(entry, pause)
    steps.save_ledger(services, entry)
    continued.close_tail(services, pause, session_id)  # the pausing CLI session's part ends
    pausestate.patch(
        services.paths,
        project.key,
        {"resumed_at": services.now().isoformat(), "resumed_by": session_id},
    )
