"""resume (seed: "/resume"): the project's pause entry, its context, the branch check."""

from __future__ import annotations

from pathlib import Path

from claude_session.base.state import pause as pausestate
from claude_session.core import branches, steps
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
        context = steps.read_context(pause.context_file)
        if decision == "switched":
            state = steps.working_state(project)
        _track(services, project, sid, state, pause)
        return steps.result(
            StartResult,
            project,
            status="ready",
            branch=state.branch,
            session_id=sid,
            context=context,
            paused_branch=pause.branch,
            switched_branch=decision == "switched",
        )


def _track(
    services: Services,
    project: Project,
    session_id: str,
    state: WorkingState,
    pause: PauseEntry,
) -> None:
    """The session's ledger entry continues the paused one; the pause is marked resumed (kept:
    the context file it names stays the project's latest until the next pause or end)."""
    entry = steps.open_entry(services, project, session_id, source="resume", state=state)
    entry.start_done = True
    entry.context_id = Path(pause.context_file).stem
    entry.summary = entry.summary or pause.summary
    steps.continues(entry, pause)
    steps.save_ledger(services, entry)
    pausestate.patch(
        services.paths,
        project.key,
        {"resumed_at": services.now().isoformat(), "resumed_by": session_id},
    )
