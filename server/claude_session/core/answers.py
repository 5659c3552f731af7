"""Answers in: claude.ai's answer (and a session synced from another machine) brought home.

The seed's "1Password check" on start (and on resume), ``import`` (an answer merged into the
context as "Insights from claude.ai", the item marked imported so it is never merged twice), and
the cache that tells the SessionStart hook an answer waits, without a network call. The manual
return (``handoff receive``) is ``received``'s.

Merged once. An answer is merged, recorded here as merged (``answers.record_merged``), then its
item is marked imported with the hash of the answer that was merged. A mark that fails (a
refused write, a reply after the deadline) keeps the merged context all the same (N1), and the
record stops the next command from merging it twice (N14): it marks the item instead. An answer
changed meanwhile is not marked (N7): it waits for the next start.

Order. The waiting answer is looked for first, then delayed hand-offs and kept answers are
delivered (with what is left of the command's 1Password time): a queue left by an outage never
uses the time up before the answer is seen (N13).
"""

from __future__ import annotations

import contextlib
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from claude_session.base import context as ctxmod
from claude_session.base import flow
from claude_session.base.clock import new_id
from claude_session.base.state import answers as answer_state
from claude_session.base.state import pause as pausestate
from claude_session.core import answerplaces, handoff, handoffs, received, steps
from claude_session.core.project import Project, resolve
from claude_session.core.services import Services
from claude_session.errors import ItemNotFound, StateError, VaultError
from claude_session.models import ImportResult
from claude_session.vault.base import answer_hash

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
    gives the context; a filled claude.ai answer is merged into it. Then delayed hand-offs and
    kept answers are delivered, and an answer delivered now is merged too. Returns the context,
    its file and the imported item's title."""
    imported: str | None = None
    try:
        if not have_pause:
            context = _synced_context(services, project, context)
        context, context_file, imported = take_answer(
            services, project, session_id, context, context_file
        )
        if deliver_waiting(services) and imported is None:
            context, context_file, imported = take_answer(
                services, project, session_id, context, context_file
            )
    except VaultError as exc:
        flow.warn(f"ClaudeSync check skipped ({exc}). Run `claude-session import` later.")
    return context, context_file, imported


def _synced_context(services: Services, project: Project, context: str) -> str:
    synced = _newest_sync_item(services.vault, project)
    if synced is None:
        return context
    origin = synced.machine or "another machine"
    flow.warn(f"Continuing the session synced from {origin} ({synced.title}).")
    _where_synced(project, synced)
    _mark(services, synced, merged_into=None)
    return synced.context


_SHA = re.compile(r"[0-9a-f]{7,64}")


def _where_synced(project: Project, synced: HandoffItem) -> None:
    """Name the branch and commit the synced session was on, and how to check them out here,
    when this checkout is elsewhere (newcomer-2.md 2.15). The names come from the other
    machine: only quoted, never run."""
    try:
        ctx = ctxmod.parse(synced.context)
    except ValueError:
        return
    branch, head = ctx.branch or synced.branch, ctx.head if _SHA.fullmatch(ctx.head or "") else None
    if not branch or not project.in_git:
        return
    here = steps.working_state(project)
    if here.branch == branch and (head is None or (here.head or "").startswith(head)):
        return
    at = f" at commit {head[:12]}" if head else ""
    now = f"'{here.branch}'" if here.branch else "a detached HEAD"
    command = f"git fetch && git checkout {shlex.quote(branch)}"
    how = (
        f"Check it out: `{command}`."
        if not here.changed
        else f"Commit or stash the changes here first, then `{command}`."
    )
    flow.warn(f"The synced session was on branch '{branch}'{at}; this checkout is on {now}. {how}")


def take_answer(
    services: Services, project: Project, session_id: str, context: str, context_file: str | None
) -> tuple[str, str | None, str | None]:
    """The waiting claude.ai answer merged into ``context`` (a new context file), its item
    marked imported: (context, its file, the item's title); the context unchanged when no
    answer waits or this one was merged here before (its item is marked now)."""
    item = answerplaces.waiting_answer(services, project)
    if item is None:
        return context, context_file, None
    earlier = _merged_before(services, item)
    if earlier is not None:
        _mark(services, item, merged_into=earlier)
        if not context.strip() and Path(earlier).is_file():  # nothing else to continue from
            return steps.read_context(earlier), earlier, None
        return context, context_file, None
    merged_file = _merge(services, project, session_id, context, item)
    _mark(services, item, merged_into=merged_file)
    return steps.read_context(merged_file), merged_file, item.title


def after_vault_check(services: Services, project: Project, *, write: bool = True) -> bool:
    """Retry delayed hand-offs and refresh the hook's cache; True if an answer waits. An answer
    merged here before whose item was not marked is marked now, and does not wait.
    ``write=False`` (status, whose tool is read-only) only looks."""
    try:
        if write:
            deliver_waiting(services)
        waiting = answerplaces.waiting_answer(services, project, quiet=True)
        if waiting is not None:
            earlier = _merged_before(services, waiting)
            if earlier is not None:
                if write:
                    _mark(services, waiting, merged_into=earlier)
                waiting = None
    except VaultError as exc:
        flow.warn(f"ClaudeSync not checked: {exc}")
        return False
    if write:
        received.cache(services, project, waiting)
    return waiting is not None


def deliver_waiting(services: Services, *, refused: bool = False) -> int:
    """What waits on disk for the vault, once per command: delayed hand-offs first (``refused``:
    the ones the vault refused for good too), then (when they all went) the answers kept for
    them. Returns how many hand-offs and answers went."""
    created, all_done = handoffs.retry_pending(services, refused=refused)
    delivered = received.deliver_kept(services) if all_done else 0
    return created + delivered


def _newest_sync_item(vault: Vault, project: Project) -> HandoffItem | None:
    for item in vault.list_items(project=project.name, repository=project.identity):
        if item.kind == "sync" and not item.imported:
            return item
    return None


def _merge(
    services: Services, project: Project, session_id: str, base: str, item: HandoffItem
) -> str:
    """Write a new 'import' context: the base context plus the claude.ai insights; recorded as
    merged before anything else can fail."""
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
    merged = str(steps.write_context(services, ctx))
    try:
        answer_state.record_merged(
            services.paths, item.id, answer_hash(item.claude_ai_response), merged
        )
    except StateError as exc:
        flow.warn(f"The merge of {item.title}'s answer was not recorded: {exc}")
    return merged


def _merged_before(services: Services, item: HandoffItem) -> str | None:
    """The context file this very answer was merged into on this machine, if it was."""
    try:
        return answer_state.merged_into(
            services.paths, item.id, answer_hash(item.claude_ai_response)
        )
    except StateError:
        return None


def _mark(services: Services, item: HandoffItem, *, merged_into: str | None) -> None:
    """Mark ``item`` imported (only if its answer is still the one merged). A failure is told,
    never raised: what was merged stays merged, and the record made by ``_merge`` lets the next
    command mark it without merging again."""
    try:
        updated = services.vault.mark_imported(item.id, answer=item.claude_ai_response)
    except VaultError as exc:
        if merged_into is None:
            flow.warn(f"{item.title} could not be marked as taken over ({exc}).")
        else:
            flow.warn(
                f"claude.ai's answer in {item.title} is merged (into {merged_into}), but "
                f"1Password could not mark it imported ({exc}). It is not merged again: the "
                f"next start or `claude-session sync` marks it."
            )
        return
    digest = answer_hash(item.claude_ai_response)
    # the record only saves a merge; one left behind is dropped with the oldest
    with contextlib.suppress(StateError):
        answer_state.forget_merged(services.paths, item.id, digest)
    if updated.is_pending and answer_hash(updated.claude_ai_response) != digest:
        flow.warn(
            f"claude.ai's answer in {item.title} changed while it was imported: the earlier "
            f"one is merged, the new one waits for the next start (or `claude-session import`)."
        )


# --- import ---------------------------------------------------------------------------------


def import_handoff(
    services: Services, cwd: Path | str, *, item: str | None = None, session_id: str | None = None
) -> ImportResult:
    with services.call():
        project = resolve(cwd)
        found = _answered_item(services, project, item)
        if found is None:
            return steps.result(ImportResult, project, status="nothing_to_import")
        earlier = None if item else _merged_before(services, found)
        if earlier is not None:
            flow.warn(f"claude.ai's answer in {found.title} was merged before (into {earlier}).")
            _mark(services, found, merged_into=earlier)
            return steps.result(
                ImportResult, project, status="nothing_to_import", context_file=earlier
            )
        sid = steps.session_id(services, session_id, project, create=True) or new_id()
        pause = steps.pause_entry(services, project)
        base = steps.read_context(pause.context_file) if pause else found.context
        merged = _merge(services, project, sid, base, found)
        if pause is not None:
            pausestate.patch(services.paths, project.key, {"context_file": merged})
        entry = steps.ledger_entry(services, sid)
        if entry is not None and entry.status == "active":  # its later contexts keep it
            entry.context_id = Path(merged).stem
            steps.save_ledger(services, entry)
        _mark(services, found, merged_into=merged)
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
        return answerplaces.waiting_answer(services, project)
    found = answerplaces.with_answer(services, services.vault.get_item(item))
    if not found.claude_ai_response.strip():
        raise ItemNotFound(
            f"Item '{found.title}' has no claude.ai answer yet: paste claude.ai's summary into "
            f"its claude_ai_response field (or pipe it into `claude-session handoff receive`), "
            f"then import again."
        )
    if found.imported:
        flow.warn(f"Item '{found.title}' was imported before; importing it again.")
    return found
