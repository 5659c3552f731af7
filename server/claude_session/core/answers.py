"""Answers in: claude.ai's answer (and a session synced from another machine) brought home.

The seed's "1Password check" on start, ``import`` (an answer merged into the context as
"Insights from claude.ai", the item marked imported so it is never merged twice), ``handoff
receive`` (an answer piped in by hand, kept on disk while the vault cannot be reached), and the
cache that tells the SessionStart hook an answer waits, without a network call.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from claude_session.base import context as ctxmod
from claude_session.base import flow
from claude_session.base.clock import new_id
from claude_session.base.state import answers as answer_state
from claude_session.base.state import pause as pausestate
from claude_session.base.statefile import move_aside
from claude_session.core import handoff, handoffs, steps
from claude_session.core.project import Project, resolve
from claude_session.core.services import Services
from claude_session.errors import (
    ClaudeSessionError,
    ItemNotFound,
    StateError,
    VaultAuthError,
    VaultError,
    VaultUnavailable,
)
from claude_session.models import HandoffReceiveResult, ImportResult, PendingAnswer

if TYPE_CHECKING:
    from claude_session.vault.base import HandoffItem, Vault


def check_on_start(
    services: Services,
    project: Project,
    session_id: str,
    context: str,
    context_file: str | None,
    *,
    have_pause: bool,
) -> tuple[str, str | None, str | None]:
    """Seed: 1Password check. A sync item from another machine (when nothing is paused here)
    gives the context; a filled claude.ai answer is merged into it. Delayed hand-offs and kept
    answers are delivered first, so an answer kept while the vault was out of reach is imported
    now. Returns the context, its file and the imported item's title."""
    try:
        deliver_waiting(services)
        vault = services.vault
        if not have_pause:
            synced = _newest_sync_item(vault, project)
            if synced is not None:
                context = synced.context
                vault.mark_imported(synced.id)
                origin = synced.machine or "another machine"
                flow.warn(f"Continuing the session synced from {origin} ({synced.title}).")
        item = vault.pending_response(project=project.name, repository=project.identity)
        if item is None:
            return context, context_file, None
        merged_file = _merge(services, project, session_id, context, item)
        vault.mark_imported(item.id)
        return Path(merged_file).read_text("utf-8"), merged_file, item.title
    except VaultError as exc:
        flow.warn(f"ClaudeSync check skipped ({exc}). Run `claude-session import` later.")
        return context, context_file, None


def after_vault_check(
    services: Services, project: Project, *, retry: bool = True, cache: bool = True
) -> bool:
    """Retry delayed hand-offs and refresh the hook's cache; True if an answer waits.
    ``cache=False`` leaves the cache as it is (the read-only status tool)."""
    try:
        if retry:
            deliver_waiting(services)
        waiting = services.vault.pending_response(project=project.name, repository=project.identity)
    except VaultError as exc:
        flow.warn(f"ClaudeSync not checked: {exc}")
        return False
    if cache:
        _cache(services, project, waiting)
    return waiting is not None


def deliver_waiting(services: Services) -> int:
    """What waits on disk for the vault, once per command: delayed hand-offs first, then (when
    they all went) the answers kept for them. Returns how many hand-offs were created."""
    created, all_done = handoffs.retry_pending(services)
    if all_done:
        _deliver_kept(services)
    return created


def _newest_sync_item(vault: Vault, project: Project) -> HandoffItem | None:
    for item in vault.list_items(project=project.name, repository=project.identity):
        if item.kind == "sync" and not item.imported:
            return item
    return None


def _merge(
    services: Services, project: Project, session_id: str, base: str, item: HandoffItem
) -> str:
    """Write a new 'import' context: the base context plus the claude.ai insights."""
    ctx = ctxmod.parse(base) if base.strip() else ctxmod.parse(item.context)
    ctx = handoff.merge_insights(
        ctx,
        handoff.render_insights(item.claude_ai_response),
        source=f"claude.ai via {item.title}",
    )
    ctx.kind = "import"
    ctx.created = services.now()
    ctx.session_id = session_id
    ctx.project = ctx.project or project.name
    return str(steps.write_context(services, ctx))


def _cache(services: Services, project: Project, item: HandoffItem | None) -> None:
    """What the SessionStart hook reads: is a claude.ai answer waiting (no network there)."""
    try:
        answer_state.set_waiting(services.paths, project.key, item.title if item else None)
    except StateError as exc:
        flow.warn(f"The hand-off cache was not updated: {exc}")


# --- import ---------------------------------------------------------------------------------


def import_handoff(
    services: Services, cwd: Path | str, *, item: str | None = None, session_id: str | None = None
) -> ImportResult:
    with services.call():
        project = resolve(cwd)
        found = _answered_item(services, project, item)
        if found is None:
            return steps.result(ImportResult, project, status="nothing_to_import")
        sid = steps.session_id(services, session_id, project, create=True) or new_id()
        pause = steps.pause_entry(services, project)
        base = steps.read_context(pause.context_file) if pause else found.context
        merged = _merge(services, project, sid, base, found)
        if pause is not None:
            pausestate.patch(services.paths, project.key, {"context_file": merged})
        services.vault.mark_imported(found.id)
        return steps.result(
            ImportResult,
            project,
            status="imported",
            item=found.title,
            context_file=merged,
            insights=handoff.render_insights(found.claude_ai_response),
        )


def _answered_item(services: Services, project: Project, item: str | None) -> HandoffItem | None:
    """The named item (it must hold an answer), else the newest answered one not imported."""
    if not item:
        return services.vault.pending_response(project=project.name, repository=project.identity)
    found = services.vault.get_item(item)
    if not found.claude_ai_response.strip():
        raise ItemNotFound(
            f"Item '{found.title}' has no claude.ai answer yet: paste claude.ai's summary into "
            f"its claude_ai_response field (or pipe it into `claude-session handoff receive`), "
            f"then import again."
        )
    if found.imported:
        flow.warn(f"Item '{found.title}' was imported before; importing it again.")
    return found


# --- the manual return ----------------------------------------------------------------------


def receive(
    services: Services, cwd: Path | str, answer: str, *, item: str | None = None
) -> HandoffReceiveResult:
    """Store claude.ai's answer in the project's hand-off item (``item``, or the newest one not
    imported yet). With the vault out of reach the answer is kept on disk and delivered by the
    next start or sync; without any hand-off the answer is refused."""
    if not answer.strip():
        raise ClaudeSessionError(
            "No answer on standard input: paste claude.ai's summary and end with Ctrl-D."
        )
    with services.call():
        project = resolve(cwd)
        delayed = any(
            r.state == "pending" and r.repository == project.identity
            for _, r in handoffs.pending_requests(services)
        )
        try:
            target = _receive_target(services, project, item, delayed=delayed)
            updated = None if target is None else services.vault.set_response(target.id, answer)
        except (VaultUnavailable, VaultAuthError) as exc:
            updated, reason = None, str(exc)
        else:
            reason = "its hand-off item is not created yet"
        if updated is None:
            kept = _keep(services, project, answer, item)
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
        _cache(services, project, updated)
        return steps.result(
            HandoffReceiveResult,
            project,
            item=updated.title,
            vault=services.vault.description,
            next="Starting a session (in Claude Code, or `claude-session start`) imports it.",
        )


def _receive_target(
    services: Services, project: Project, item: str | None, *, delayed: bool
) -> HandoffItem | None:
    """The item the answer goes to; None when it waits to be created (a delayed hand-off)."""
    if item:
        return services.vault.get_item(item)
    items = [
        i
        for i in services.vault.list_items(project=project.name, repository=project.identity)
        if i.kind == "handoff" and not i.imported
    ]
    if items:
        return items[0]
    if delayed:
        return None
    raise ItemNotFound(
        "No hand-off waits for claude.ai's answer in this project. Make one first: "
        "`claude-session pause --handoff` (or `end --mode handoff`), paste its transfer prompt "
        "into claude.ai, then pipe claude.ai's answer into `claude-session handoff receive`."
    )


def _keep(services: Services, project: Project, answer: str, item: str | None) -> Path:
    kept = PendingAnswer(
        project=project.name,
        project_root=project.key,
        repository=project.identity,
        item=item,
        answer=answer,
        received_at=services.now(),
    )
    return answer_state.keep(services.paths, kept.model_dump(mode="json"))


def _deliver_kept(services: Services) -> int:
    """Store the answers that ``handoff receive`` had to keep (vault out of reach, or their
    hand-off not created yet); the first vault failure ends the round."""
    delivered = 0
    for path, data in answer_state.kept(services.paths):
        try:
            kept = PendingAnswer.model_validate(data)
        except ValueError as exc:
            flow.warn(move_aside(path, f"not a kept answer ({type(exc).__name__})"))
            continue
        project = Project(
            root=Path(kept.project_root),
            name=kept.project,
            in_git=False,
            repository=kept.repository,
        )
        try:
            target = _receive_target(services, project, kept.item, delayed=True)
            if target is None:
                continue  # its hand-off is still waiting to be created
            updated = services.vault.set_response(target.id, kept.answer)
        except ItemNotFound as exc:
            flow.warn(f"The kept claude.ai answer in {path} found no hand-off ({exc}).")
            continue
        except VaultError as exc:
            flow.warn(f"ClaudeSync still unavailable ({exc}); the kept answer in {path} waits.")
            break
        answer_state.remove(path)
        _cache(services, project, updated)
        delivered += 1
        flow.warn(f"Delivered the kept claude.ai answer to {updated.title}.")
    return delivered
