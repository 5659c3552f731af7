"""ClaudeSync: the round trip to claude.ai (and to another machine) through the vault.

The seed's "1Password check" on start, the hand-off item that pause and end create, the
hand-offs kept on disk while the vault cannot be reached, importing claude.ai's answer, and the
manual transfer (``handoff prompt`` / ``handoff receive``). ``Core`` mixes these flows in; they
use its backends, state files and per-call warnings.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_session.base import context as ctxmod
from claude_session.base import flow, routines
from claude_session.base.redact import redact
from claude_session.base.state import answers, handoffs
from claude_session.base.state import pause as pausestate
from claude_session.base.statefile import move_aside
from claude_session.core import git, handoff
from claude_session.core.corebase import CoreBase
from claude_session.core.handoff import transfer_prompt
from claude_session.core.project import Project, resolve
from claude_session.core.records import machine_name
from claude_session.errors import (
    ClaudeSessionError,
    ItemNotFound,
    NoActiveSession,
    StateError,
    VaultAuthError,
    VaultError,
    VaultUnavailable,
)
from claude_session.models import (
    ImportResult,
    PendingAnswer,
    PendingHandoff,
    PendingHandoffInfo,
    new_id,
    utcnow,
)
from claude_session.paths import safe_name

if TYPE_CHECKING:  # the vault backends import the 1Password SDK: only when used
    from claude_session.vault.base import HandoffItem, Vault


def _first_retry_in_this_command() -> bool:
    """Delayed hand-offs are retried once per command (flow), however many steps ask."""
    return flow.current().first_time("retry pending hand-offs")


class ClaudeSyncFlows(CoreBase):
    """The ClaudeSync flows, mixed into ``Core``."""

    def _claudesync_check(
        self,
        project: Project,
        session_id: str,
        context: str,
        context_file: str | None,
        *,
        have_pause: bool,
    ) -> tuple[str, str | None, str | None]:
        """Seed: 1Password check. A sync item from another machine (when nothing is paused
        here) gives the context; a filled claude.ai answer is merged into it. Delayed hand-offs
        and kept answers are delivered first, so an answer kept while the vault was out of reach
        is imported now."""
        try:
            self._retry_pending_handoffs()
            vault = self.vault
            if not have_pause:
                synced = self._newest_sync_item(vault, project)
                if synced is not None:
                    context = synced.context
                    vault.mark_imported(synced.id)
                    origin = synced.machine or "another machine"
                    self._warn(f"Continuing the session synced from {origin} ({synced.title}).")
            item = vault.pending_response(project=project.name, repository=project.identity)
            if item is None:
                return context, context_file, None
            merged_file = self._merge_answer(project, session_id, context, item)
            vault.mark_imported(item.id)
            return Path(merged_file).read_text("utf-8"), merged_file, item.title
        except VaultError as exc:
            self._warn(f"ClaudeSync check skipped ({exc}). Run `claude-session import` later.")
            return context, context_file, None

    def _after_vault_check(self, project: Project, *, retry: bool = True) -> bool:
        """Retry delayed hand-offs and refresh the hook's cache; True if an answer waits."""
        try:
            if retry:
                self._retry_pending_handoffs()
            waiting = self.vault.pending_response(project=project.name, repository=project.identity)
        except VaultError as exc:
            self._warn(f"ClaudeSync not checked: {exc}")
            return False
        self._cache_handoff(project, waiting)
        return waiting is not None

    def _newest_sync_item(self, vault: Vault, project: Project) -> HandoffItem | None:
        for item in vault.list_items(project=project.name, repository=project.identity):
            if item.kind == "sync" and not item.imported:
                return item
        return None

    def _merge_answer(self, project: Project, session_id: str, base: str, item: HandoffItem) -> str:
        """Write a new 'import' context: the base context plus the claude.ai insights."""
        ctx = ctxmod.parse(base) if base.strip() else ctxmod.parse(item.context)
        ctx = handoff.merge_insights(
            ctx,
            handoff.render_insights(item.claude_ai_response),
            source=f"claude.ai via {item.title}",
        )
        ctx.kind = "import"
        ctx.created = utcnow()
        ctx.session_id = session_id
        ctx.project = ctx.project or project.name
        return str(self._write_context(ctx))

    def _create_handoff(
        self,
        project: Project,
        session_id: str,
        state: git.WorkingState | None,
        context_path: Path,
        *,
        kind: str,
        end_mode: str | None = None,
    ) -> tuple[str | None, str]:
        from claude_session.vault.base import ItemRefused, as_utc

        text = context_path.read_text("utf-8")
        # The item's metadata leaves the machine with 1Password: redacted like the context.
        branch = redact(state.branch)[0] if state and state.branch else None
        name = redact(project.name)[0]
        routine = routines.load(self.paths.home)
        for problem in routine.problems:
            self._warn(problem)
        prompt = transfer_prompt(
            project=name,
            branch=branch,
            repository=project.repository,
            context_markdown=text,
            template=routine,
        )
        request = PendingHandoff(
            project=name,
            branch=branch,
            session_id=session_id,
            machine=machine_name(),
            repository=project.identity,
            context=text,
            transfer_prompt=prompt,
            kind="sync" if kind == "sync" else "handoff",
        )
        if end_mode is not None and not routine.writes_vault(end_mode):
            self._warn(
                f"{routine.source}: `end --mode {end_mode}` does not write the ClaudeSync "
                f"vault (vault_end_modes); nothing was stored there."
            )
            return None, prompt
        request.title = routine.title(
            project=safe_name(name),
            date=as_utc(request.now).date().isoformat(),
            branch=safe_name(branch or "", fallback=""),
            machine=safe_name(request.machine or "", fallback=""),
        )
        try:
            item = self.vault.create_item(**_create_args(request))
        except VaultError as exc:
            request.attempts = 1  # the item may exist: the retry looks for it first
            failed = isinstance(exc, ItemRefused)
            if failed:
                request.state, request.reason = "failed", str(exc)
            pending = self._save_pending(request)
            if failed:
                self._warn(
                    f"The ClaudeSync item {request.title} was refused ({exc}). It is not "
                    f"retried: the context is in {context_path} and the request in "
                    f"{pending}; `claude-session status` lists it."
                )
            else:
                self._warn(
                    f"The ClaudeSync item could not be created ({exc}). Nothing is lost: "
                    f"the context is in {context_path} and the item "
                    f"({request.title}, with its own date) will be created by the next "
                    f"start or `claude-session sync`."
                )
            return None, prompt
        if self.vault.kind == "local":
            self._warn(f"ClaudeSync is using the {self.vault.description}.")
        return item.title, prompt

    def _save_pending(self, request: PendingHandoff) -> Path:
        return handoffs.save(self.paths, request.model_dump(mode="json"))

    def _pending_requests(self) -> list[tuple[Path, PendingHandoff]]:
        """The delayed hand-offs, oldest first; a file that is not one is moved aside with a
        warning, never skipped forever."""
        found: list[tuple[Path, PendingHandoff]] = []
        for path, data in handoffs.saved(self.paths):
            try:
                found.append((path, PendingHandoff.model_validate(data)))
            except ValueError as exc:
                self._warn(move_aside(path, f"not a pending hand-off ({type(exc).__name__})"))
        return sorted(found, key=lambda pair: pair[1].now)

    def pending_handoffs(self) -> list[PendingHandoffInfo]:
        """What ``status`` shows: hand-offs waiting for the vault, and the ones it refused."""
        return [
            PendingHandoffInfo(
                title=r.title or f"session-{r.project}",
                state=r.state,
                reason=r.reason,
                file=str(path),
            )
            for path, r in self._pending_requests()
        ]

    def _retry_pending_handoffs(self) -> int:
        """Create the ClaudeSync items that an earlier pause or end could not create, once per
        command, each with its own time; one the vault refuses for good is marked failed and
        the others go on; the first other failure stops the round (the vault is not usable
        now)."""
        from claude_session.vault.base import ItemRefused

        if not _first_retry_in_this_command():
            return 0
        created = 0
        waiting = [(p, r) for p, r in self._pending_requests() if r.state == "pending"]
        for index, (path, request) in enumerate(waiting):
            try:
                item = (
                    self.vault.find_created(
                        request.id,
                        project=request.project,
                        now=request.now,
                        repository=request.repository,
                    )
                    if request.attempts
                    else None
                )
                if item is None:
                    request.attempts += 1
                    item = self.vault.create_item(**_create_args(request))
            except ItemRefused as exc:
                request.state, request.reason = "failed", str(exc)
                self._save_pending(request)
                self._warn(
                    f"The delayed ClaudeSync item {request.title} was refused ({exc}). "
                    f"It is not retried; the request is kept in {path}."
                )
                continue
            except VaultError as exc:
                self._save_pending(request)
                self._warn(
                    f"ClaudeSync still unavailable ({exc}); "
                    f"{len(waiting) - index} hand-off(s) wait."
                )
                break
            handoffs.remove(path)
            created += 1
            self._warn(f"Created the delayed ClaudeSync item {item.title}.")
        else:
            self._deliver_kept_answers()
        return created

    def _cache_handoff(self, project: Project, item: HandoffItem | None) -> None:
        """What the SessionStart hook reads: is a claude.ai answer waiting (no network there)."""
        try:
            answers.set_waiting(self.paths, project.key, item.title if item else None)
        except StateError as exc:
            self._warn(f"The hand-off cache was not updated: {exc}")

    # --- import ---------------------------------------------------------------------------

    def import_handoff(
        self, cwd: Path | str, *, item: str | None = None, session_id: str | None = None
    ) -> ImportResult:
        with self._collecting():
            project = resolve(cwd)
            if item:
                found = self.vault.get_item(item)
                if not found.claude_ai_response.strip():
                    raise ItemNotFound(
                        f"Item '{found.title}' has no claude.ai answer yet: paste claude.ai's "
                        f"summary into its claude_ai_response field (or pipe it into "
                        f"`claude-session handoff receive`), then import again."
                    )
                if found.imported:
                    self._warn(f"Item '{found.title}' was imported before; importing it again.")
            else:
                pending = self.vault.pending_response(
                    project=project.name, repository=project.identity
                )
                if pending is None:
                    return ImportResult(
                        status="nothing_to_import", project=project.name, warnings=self._warnings
                    )
                found = pending
            sid = self._session_id(session_id, project, create=True) or new_id()
            pause = self._pause_entry(project)
            base = self._read_context(pause.context_file) if pause else found.context
            merged = self._merge_answer(project, sid, base, found)
            if pause is not None:
                pausestate.patch(self.paths, project.key, {"context_file": merged})
            self.vault.mark_imported(found.id)
            return ImportResult(
                status="imported",
                project=project.name,
                item=found.title,
                context_file=merged,
                insights=handoff.render_insights(found.claude_ai_response),
                warnings=self._warnings,
            )

    def latest_context(self, project: Project) -> Path | None:
        """The paused context, else the newest context file of this project (by its recorded
        repository or folder, never by name alone: two projects may share a name)."""
        pause = self._pause_entry(project)
        if pause is not None and Path(pause.context_file).exists():
            return Path(pause.context_file)
        prefix = f"{project.name}-"
        try:
            candidates = [
                p
                for p in self.paths.contexts.iterdir()
                if p.name.startswith(prefix) and p.suffix == ".md"
            ]
        except FileNotFoundError:
            return None
        for path in sorted(candidates, key=lambda p: p.stat().st_mtime, reverse=True):
            try:
                if ctxmod.parse(path.read_text("utf-8")).repository == project.identity:
                    return path
            except (OSError, UnicodeDecodeError, ValueError):
                continue
        return None

    def handoff_prompt(self, cwd: Path | str) -> dict[str, Any]:
        with self._collecting():
            project = resolve(cwd)
            path = self.latest_context(project)
            if path is None:
                raise NoActiveSession(
                    "No saved context for this project yet: run "
                    "`claude-session pause` or `end --mode handoff` first."
                )
            state = self._state(project)
            prompt = transfer_prompt(
                project=project.name,
                branch=state.branch if state else None,
                repository=project.repository,
                context_markdown=path.read_text("utf-8"),
            )
            return {
                "project": project.name,
                "context_file": str(path),
                "prompt": prompt,
                "warnings": self._warnings,
            }

    def handoff_receive(
        self, cwd: Path | str, answer: str, *, item: str | None = None
    ) -> dict[str, Any]:
        """Store claude.ai's answer in the project's hand-off item (``item``, or the newest one
        not imported yet). With the vault out of reach the answer is kept on disk and delivered
        by the next start or sync; without any hand-off the answer is refused."""
        if not answer.strip():
            raise ClaudeSessionError(
                "No answer on standard input: paste claude.ai's summary and end with Ctrl-D."
            )
        with self._collecting():
            project = resolve(cwd)
            pending = [
                r
                for _, r in self._pending_requests()
                if r.state == "pending" and r.repository == project.identity
            ]
            try:
                target = self._receive_target(project, item, delayed=bool(pending))
                updated = None if target is None else self.vault.set_response(target.id, answer)
            except (VaultUnavailable, VaultAuthError) as exc:
                updated, reason = None, str(exc)
            else:
                reason = "its hand-off item is not created yet"
            if updated is None:
                kept = self._keep_answer(project, answer, item)
                self._warn(
                    f"The answer could not be stored in ClaudeSync ({reason}). Nothing is "
                    f"lost: it is kept in {kept} and delivered by the next start or "
                    f"`claude-session sync`."
                )
                return {
                    "project": project.name,
                    "item": None,
                    "kept": str(kept),
                    "vault": self.vault.description,
                    "warnings": self._warnings,
                    "next": "Run `claude-session sync` once ClaudeSync can be reached.",
                }
            self._cache_handoff(project, updated)
            return {
                "project": project.name,
                "item": updated.title,
                "vault": self.vault.description,
                "warnings": self._warnings,
                "next": "Starting a session (in Claude Code, or `claude-session start`) "
                "imports it.",
            }

    def _receive_target(
        self, project: Project, item: str | None, *, delayed: bool
    ) -> HandoffItem | None:
        """The item the answer goes to; None when it waits to be created (a delayed hand-off)."""
        if item:
            return self.vault.get_item(item)
        items = [
            i
            for i in self.vault.list_items(project=project.name, repository=project.identity)
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

    def _keep_answer(self, project: Project, answer: str, item: str | None) -> Path:
        kept = PendingAnswer(
            project=project.name,
            project_root=project.key,
            repository=project.identity,
            item=item,
            answer=answer,
            received_at=utcnow(),
        )
        return answers.keep(self.paths, kept.model_dump(mode="json"))

    def _deliver_kept_answers(self) -> int:
        """Store the answers that ``handoff receive`` had to keep (vault out of reach, or their
        hand-off not created yet); the first vault failure ends the round."""
        delivered = 0
        for path, data in answers.kept(self.paths):
            try:
                kept = PendingAnswer.model_validate(data)
            except ValueError as exc:
                self._warn(move_aside(path, f"not a kept answer ({type(exc).__name__})"))
                continue
            project = Project(
                root=Path(kept.project_root),
                name=kept.project,
                in_git=False,
                repository=kept.repository,
            )
            try:
                target = self._receive_target(project, kept.item, delayed=True)
                if target is None:
                    continue  # its hand-off is still waiting to be created
                updated = self.vault.set_response(target.id, kept.answer)
            except ItemNotFound as exc:
                self._warn(f"The kept claude.ai answer in {path} found no hand-off ({exc}).")
                continue
            except VaultError as exc:
                self._warn(
                    f"ClaudeSync still unavailable ({exc}); the kept answer in {path} waits."
                )
                break
            answers.remove(path)
            self._cache_handoff(project, updated)
            delivered += 1
            self._warn(f"Delivered the kept claude.ai answer to {updated.title}.")
        return delivered


def _create_args(request: PendingHandoff) -> dict[str, Any]:
    """``Vault.create_item``'s arguments for a hand-off request."""
    return {
        "project": request.project,
        "branch": request.branch,
        "session_id": request.session_id,
        "machine": request.machine,
        "repository": request.repository,
        "context": request.context,
        "transfer_prompt": request.transfer_prompt,
        "kind": request.kind,
        "now": request.now,
        "creation_id": request.id,
        "title": request.title,
    }
