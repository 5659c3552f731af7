"""The branch check of start and resume (seed: "Branch Mismatch on /start").

A pause remembers where it was made: a branch, or a detached HEAD at a commit. When the checkout
is elsewhere, the person chooses: switch (check out the paused branch; refused if uncommitted
work would be lost), stay (keep this checkout and clear the pause), or cancel.
"""

from __future__ import annotations

from claude_session.base import flow
from claude_session.base.state import pause as pausestate
from claude_session.core import repository, steps
from claude_session.core.gitstate import WorkingState
from claude_session.core.project import Project
from claude_session.core.services import Services
from claude_session.errors import ClaudeSessionError
from claude_session.models import PauseEntry, StartResult
from claude_session.vocab import MISMATCH_CHOICES, BranchDecision


def same_place(pause: PauseEntry, state: WorkingState) -> bool:
    """Whether the checkout is where the pause was: the same branch, or, for a pause on a
    detached HEAD, a detached HEAD at the same commit (a branch is never a match for it)."""
    if not state.known:
        return True  # outside git: nothing to check
    if pause.branch is not None:
        return state.branch == pause.branch
    if pause.head is None:
        return True  # paused outside git, or in an empty repository
    return state.branch is None and state.head == pause.head


def where(branch: str | None, head: str | None) -> str:
    if branch:
        return f"branch '{branch}'"
    return f"a detached HEAD at {head[:10]}" if head else "no commit yet"


def decide(
    services: Services,
    project: Project,
    pause: PauseEntry,
    state: WorkingState,
    choice: str | None,
) -> BranchDecision:
    """Check the branch and carry out the person's choice, if one was given."""
    if same_place(pause, state):
        return "match"
    if choice in (None, "ask"):
        return "mismatch"
    if choice == "cancel":
        return "cancelled"
    if choice == "stay":
        pausestate.clear(services.paths, project.key)
        flow.warn(
            f"Stayed on {where(state.branch, state.head)} and cleared the pause of "
            f"{where(pause.branch, pause.head)}. Its context is kept in {pause.context_file}."
        )
        return "stayed"
    if choice == "switch":
        with repository.Repository(project.root) as repo:
            if pause.branch:
                repo.checkout(pause.branch)
            elif pause.head:
                repo.checkout_commit(pause.head)
        return "switched"
    raise ClaudeSessionError(
        f"Unknown branch choice {choice!r}: use one of {', '.join(MISMATCH_CHOICES)}."
    )


def mismatch(
    project: Project, session_id: str, pause: PauseEntry, state: WorkingState
) -> StartResult:
    """The result that asks the person to choose."""
    current = where(state.branch, state.head)
    paused = where(pause.branch, pause.head)
    return steps.result(
        StartResult,
        project,
        status="branch_mismatch",
        branch=state.branch,
        session_id=session_id,
        paused_branch=pause.branch,
        choices=list(MISMATCH_CHOICES),
        context=(
            f"This project was paused on {paused} but the current checkout is {current}. "
            f"Choices: switch (check out {paused}; refused if uncommitted changes would be "
            f"lost), stay (keep {current} and clear the pause), cancel."
        ),
    )


def refused(
    project: Project,
    session_id: str,
    pause: PauseEntry,
    state: WorkingState,
    decision: BranchDecision,
) -> StartResult:
    """The result of a cancelled check, or (resume) of staying on this checkout."""
    return steps.result(
        StartResult,
        project,
        status="cancelled" if decision == "cancelled" else "no_pause_state",
        session_id=session_id,
        branch=state.branch,
        paused_branch=pause.branch,
        cleared_pause=decision == "stayed",
    )
