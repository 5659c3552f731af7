"""The manual return: ``handoff receive`` stores claude.ai's answer (piped in by hand) in the
project's hand-off item; while the vault cannot store it, the answer is kept on disk
(``pending-answers/``) and delivered by a later start or sync to the hand-off it answers.

Nothing is lost and nothing waits unseen (findings/onepassword-2.md N3-N5): an answer is kept on
any vault failure, refusals included; a kept answer remembers the delayed hand-off it answers
(not whichever is newest when it is delivered); one that has no hand-off to go to is told, with
its file, by every delivery attempt and by ``status``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from claude_session.base import flow
from claude_session.base.state import answers as answer_state
from claude_session.base.state import handoffs as handoff_state
from claude_session.base.statefile import move_aside
from claude_session.core import handoffs, steps
from claude_session.core.project import Project, resolve
from claude_session.core.services import Services
from claude_session.errors import (
    ClaudeSessionError,
    ItemNotFound,
    ItemRefused,
    StateError,
    VaultError,
)
from claude_session.models import HandoffReceiveResult, PendingAnswer

if TYPE_CHECKING:
    from claude_session.vault.base import HandoffItem

_NO_HANDOFF = (
    "No hand-off waits for claude.ai's answer in this project. Make one first: "
    "`claude-session pause --handoff` (or `end --mode handoff`), paste its transfer prompt "
    "into claude.ai, then pipe claude.ai's answer into `claude-session handoff receive`."
)


def cache(services: Services, project: Project, item: HandoffItem | None) -> None:
    """What the SessionStart hook reads: is a claude.ai answer waiting (no network there)."""
    try:
        answer_state.set_waiting(services.paths, project.key, item.title if item else None)
    except StateError as exc:
        flow.warn(f"The hand-off cache was not updated: {exc}")


def receive(
    services: Services, cwd: Path | str, answer: str, *, item: str | None = None
) -> HandoffReceiveResult:
    """Store claude.ai's answer in the project's hand-off item (``item``, or the newest one not
    imported yet, after this project's delayed hand-offs are created). With the vault out of
    reach, or refusing, the answer is kept on disk and delivered by the next start or sync;
    without any hand-off the answer is refused."""
    if not answer.strip():
        raise ClaudeSessionError(
            "No answer on standard input: paste claude.ai's summary and end with Ctrl-D."
        )
    with services.call():
        project = resolve(cwd)
        handoffs.retry_pending(services)  # the newest hand-off may still be queued (N4)
        waiting_for = _newest_request(services, project)
        try:
            target = _target(services, project, item, waiting_for)
            updated = None if target is None else services.vault.set_response(target.id, answer)
        except ItemNotFound:
            raise
        except VaultError as exc:  # out of reach, or refused (N5): keep it all the same
            updated, reason = None, str(exc)
        else:
            reason = "its hand-off item is not created yet"
        if updated is None:
            kept = _keep(services, project, answer, item, waiting_for)
            flow.warn(
                f"The answer could not be stored in ClaudeSync ({reason}). Nothing is lost: it "
                f"is kept in {kept} and delivered by the next start or `claude-session sync`."
            )
            return steps.result(
                HandoffReceiveResult,
                project,
                kept=str(kept),
                vault=services.vault.description,
                next="Run `claude-session sync` once ClaudeSync can be reached.",
            )
        cache(services, project, updated)
        return steps.result(
            HandoffReceiveResult,
            project,
            item=updated.title,
            vault=services.vault.description,
            next="Starting or resuming a session (in Claude Code, or `claude-session start`) "
            "imports it.",
        )


def _newest_request(services: Services, project: Project) -> str | None:
    """The newest delayed hand-off of the project (its request id), if one waits."""
    waiting = [
        r
        for _, r in handoffs.pending_requests(services)
        if r.state == "pending" and r.repository == project.identity and r.kind == "handoff"
    ]
    return waiting[-1].id if waiting else None


def _target(
    services: Services, project: Project, item: str | None, request: str | None
) -> HandoffItem | None:
    """The item the answer goes to: the one named, else the hand-off ``request`` made (None
    while it is still to be created), else the newest hand-off not imported yet."""
    if item:
        return services.vault.get_item(item)
    items = [
        i
        for i in services.vault.list_items(project=project.name, repository=project.identity)
        if i.kind == "handoff"
    ]
    if request is not None:
        made = [i for i in items if i.creation_id == request]
        if made:
            return made[0]
        waiting = [r for _, r in handoffs.pending_requests(services) if r.id == request]
        if any(r.state == "pending" for r in waiting):
            return None  # its hand-off waits to be created
        if waiting:  # 1Password refused that hand-off for good: the newest open one takes it
            flow.warn(
                "The hand-off this claude.ai answer was meant for was refused by the vault; "
                "the answer goes to the newest open hand-off instead."
            )
    open_items = [i for i in items if not i.imported]
    if open_items:
        return open_items[0]
    raise ItemNotFound(_NO_HANDOFF)


def _keep(
    services: Services, project: Project, answer: str, item: str | None, request: str | None
) -> Path:
    kept = PendingAnswer(
        project=project.name,
        project_root=project.key,
        repository=project.identity,
        item=item,
        for_request=request,
        answer=answer,
        received_at=services.now(),
    )
    return answer_state.keep(services.paths, kept.model_dump(mode="json"))


def deliver_kept(services: Services) -> int:
    """Store the answers that ``handoff receive`` had to keep, each in the hand-off it answers
    (one process at a time); the first vault outage ends the round. An answer with no hand-off
    to go to is told with its file every time (N3)."""
    with handoff_state.exclusive(services.paths, "answers") as mine:
        if not mine:  # another process delivers them now
            return 0
        delivered = 0
        for path, data in answer_state.kept(services.paths):
            try:
                kept = PendingAnswer.model_validate(data)
            except ValueError as exc:
                flow.warn(move_aside(path, f"not a kept answer ({type(exc).__name__})"))
                continue
            outcome = _deliver_one(services, path, kept)
            if outcome is None:
                break
            delivered += outcome
        return delivered


def _deliver_one(services: Services, path: Path, kept: PendingAnswer) -> int | None:
    """1 when delivered, 0 when it waits on, None when the vault is out of reach."""
    project = Project(
        root=Path(kept.project_root), name=kept.project, in_git=False, repository=kept.repository
    )
    try:
        target = _target(services, project, kept.item, kept.for_request)
        if target is None:
            return 0  # its hand-off is still waiting to be created (``status`` lists both)
        updated = services.vault.set_response(target.id, kept.answer)
    except ItemNotFound as exc:
        where = f"{exc}" if kept.item else f"{kept.project} has no hand-off item for it."
        flow.warn(
            f"The claude.ai answer kept in {path} waits: {where} "
            f"`claude-session pause --handoff` makes a hand-off, and the next start or "
            f"`claude-session sync` delivers the answer there; or delete the file."
        )
        return 0
    except ItemRefused as exc:
        flow.warn(
            f"1Password refused the claude.ai answer kept in {path} ({exc}). It stays there: "
            f"shorten it and pipe it into `claude-session handoff receive`, then delete the file."
        )
        return 0
    except VaultError as exc:
        flow.warn(f"ClaudeSync still unavailable ({exc}); the kept answer in {path} waits.")
        return None
    answer_state.remove(path)
    cache(services, project, updated)
    flow.warn(f"Delivered the kept claude.ai answer to {updated.title}.")
    return 1
