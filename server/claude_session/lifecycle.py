"""The seed's flows: start, pause, resume, end, import, remind, maintenance runs, status, sync.

``Core`` is the one object the CLI, the MCP server and tests talk to. It knows nothing of MCP,
hooks or argument parsing; it raises ``ClaudeSessionError`` subclasses whose message says what
to do, and returns the models of ``claude_session.models``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_session import context as ctxmod
from claude_session import git, hooklib, ledger, pausestate, reminders
from claude_session.config import Settings
from claude_session.errors import (
    MISMATCH_CHOICES,
    ClaudeSessionError,
    ContextMissing,
    GitError,
    ItemNotFound,
    NoActiveSession,
    StateError,
    VaultError,
)
from claude_session.handoff import transfer_prompt
from claude_session.models import (
    EndResult,
    HistoryResult,
    ImportResult,
    LedgerEntry,
    MaintenanceResult,
    MaintenanceRun,
    PauseEntry,
    PauseResult,
    ReminderSettings,
    RemindResult,
    SessionRecord,
    StartResult,
    StartStatus,
    StatusResult,
    SyncResult,
    TrackerOutcome,
    new_id,
    utcnow,
)
from claude_session.paths import Paths
from claude_session.project import Project, resolve
from claude_session.records import (
    build_record,
    machine_name,
    security_findings,
    transcript_usage,
)
from claude_session.redact import redact_data
from claude_session.statefile import StateFile, atomic_write

if TYPE_CHECKING:  # the backends import SQLAlchemy and the 1Password SDK: only when used
    from claude_session.tracker.base import Tracker
    from claude_session.tracker.delivery import Delivery, DrainReport
    from claude_session.vault.base import HandoffItem, Vault

log = logging.getLogger(__name__)

END_MODES = ("standard", "handoff", "sync")


class Core:
    """The flows of one machine's claude-session, over its settings and state home."""

    def __init__(self, settings: Settings | None = None, *, vault: Vault | None = None,
                 tracker: Tracker | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.paths = Paths(self.settings.home)
        self.pause_file = pausestate.pause_file(self.paths)
        self._vault: Vault | None = vault
        self._tracker: Tracker | None = tracker
        self._warnings: list[str] = []

    # --- plumbing ------------------------------------------------------------------------

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            from claude_session.vault import open_vault

            self._vault = open_vault(self.settings, self.paths)
            self._warnings.extend(w for w in self._vault.warnings if w not in self._warnings)
        self._vault.warnings = self._warnings  # later vault warnings reach the flow's result
        return self._vault

    @property
    def tracker(self) -> Tracker:
        if self._tracker is None:
            from claude_session.tracker import open_tracker

            self._tracker = open_tracker(self.settings, self.paths)
            self._warnings.extend(w for w in self._tracker.warnings if w not in self._warnings)
        return self._tracker

    @property
    def delivery(self) -> Delivery:
        from claude_session.tracker.delivery import Delivery

        return Delivery(self.paths, self.tracker)

    def close(self) -> None:
        for thing in (self._vault, self._tracker):
            if thing is not None:
                thing.close()
        self._vault = self._tracker = None

    def __enter__(self) -> Core:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _collecting(self) -> Iterator[list[str]]:
        """Gather the warnings a flow produces (state files moved aside, skipped steps)."""
        self._warnings = []
        self.pause_file.warnings = self._warnings  # one list: moved-aside files show up too
        yield self._warnings

    def _warn(self, message: str) -> None:
        log.warning(message)
        self._warnings.append(message)

    def _pause_entry(self, project: Project) -> PauseEntry | None:
        raw = pausestate.get(self.paths, project.key, state=self.pause_file)
        if raw is None:
            return None
        try:
            return PauseEntry.model_validate(raw)
        except ValueError:
            self._warn(f"The pause entry for {project.root} in {self.paths.pause_state} is "
                       f"malformed and was ignored; edit or remove it by hand.")
            return None

    def _ledger(self, session_id: str) -> LedgerEntry | None:
        raw = ledger.get(self.paths, session_id)
        if raw is None:
            return None
        try:
            return LedgerEntry.model_validate(raw)
        except ValueError:
            self._warn(f"The ledger entry of session {session_id} is malformed and was ignored.")
            return None

    def _save_ledger(self, entry: LedgerEntry) -> None:
        """Write the entry, keeping what a hook wrote since we read it (the Stop hook refreshes
        the transcript path and last activity while a flow runs)."""
        new = entry.model_dump(mode="json")
        with ledger.edit(self.paths, entry.session_id) as data:
            for key in ("transcript_path", "claude_pid", "compact_context"):
                if new.get(key) is None and data.get(key) is not None:
                    new[key] = data[key]
            theirs = hooklib.parse_time(data.get("last_activity"))
            ours = hooklib.parse_time(new.get("last_activity"))
            if theirs and (ours is None or theirs > ours):
                new["last_activity"] = data["last_activity"]
            data.clear()
            data.update(new)

    def _session_id(self, explicit: str | None, project: Project, *, create: bool) -> str | None:
        """Explicit id, else Claude Code's, else this project's open session, else a new one."""
        if explicit:
            return explicit
        if self.settings.session_id:
            return self.settings.session_id
        open_ = (ledger.entries(self.paths, project_root=project.key, status="active",
                                warnings=self._warnings)
                 or ledger.entries(self.paths, project_root=project.key, status="ending"))
        if open_:
            return str(open_[0]["session_id"])
        return new_id() if create else None

    def _ensure_ledger(self, project: Project, session_id: str, *, source: str,
                       state: git.WorkingState | None) -> LedgerEntry:
        entry = self._ledger(session_id)
        now = utcnow()
        if entry is None or entry.status not in ("active", "ending"):
            entry = LedgerEntry(
                session_id=session_id, project=project.name, project_root=project.key,
                repository_url=project.origin_url, started_at=now, source=source,
                starting_branch=state.branch if state else None,
                starting_head=state.head if state else None,
            )
        if entry.repository_url is None:
            entry.repository_url = project.origin_url  # entries the SessionStart hook made lack it
        if entry.starting_head is None and state is not None and state.head:
            entry.starting_head = state.head
            entry.starting_branch = entry.starting_branch or state.branch
        entry.last_activity = now
        return entry

    def _state(self, project: Project) -> git.WorkingState | None:
        if not project.in_git:
            return None
        try:
            return git.working_state(project.root)
        except GitError as exc:
            self._warn(f"Git state unavailable: {exc}")
            return None

    def _write_context(self, ctx: ctxmod.Context) -> Path:
        path = self.paths.contexts / ctxmod.context_file_name(ctx.project, ctx.kind, ctx.created)
        atomic_write(path, ctxmod.render(ctx))
        return path

    def _read_context(self, path: str) -> str:
        try:
            return Path(path).read_text("utf-8")
        except FileNotFoundError:
            raise ContextMissing(
                f"The saved context file {path} is missing (moved or deleted). Restore it, or "
                f"clear the pause with `claude-session start --on-mismatch stay` after "
                f"checking out another branch, or `claude-session end`."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ContextMissing(f"The saved context file {path} cannot be read ({exc}). "
                                 f"Check its permissions and encoding.") from exc

    def _session_git(self, project: Project, entry: LedgerEntry | None
                     ) -> tuple[list[str], list[str]]:
        """This session's commits ('sha subject') and committed files, from its starting sha."""
        if not project.in_git or entry is None or not entry.starting_head:
            return [], []
        try:
            with git.Repository(project.root) as repo:
                commits = [f"{sha[:7]} {subject}"
                           for sha, subject in repo.commits_since(entry.starting_head)]
                files = repo.files_changed_since(entry.starting_head)
        except GitError as exc:
            self._warn(f"Could not list this session's commits: {exc}")
            return [], []
        return commits, files

    def _base_context(self, project: Project, *, kind: str, session_id: str,
                      state: git.WorkingState | None, entry: LedgerEntry | None,
                      summary: str, accomplishments: list[str], next_steps: list[str],
                      notes: str) -> ctxmod.Context:
        commits, files = self._session_git(project, entry)
        return ctxmod.Context(
            project=project.name, kind=kind, created=utcnow(),
            branch=state.branch if state else None, head=state.head if state else None,
            session_id=session_id, repository=project.repository,
            summary=summary, accomplishments=list(accomplishments),
            next_steps=list(next_steps), notes=notes,
            dirty_files=list(state.dirty_files) if state else [],
            untracked_files=list(state.untracked_files) if state else [],
            stashes=list(state.stashes) if state else [],
            commits=commits, files_changed=files,
            maintenance_runs=[r.model_dump(mode="json") for r in entry.maintenance_runs]
            if entry else [],
        )

    # --- branch check (seed: "Branch Mismatch on /start") ----------------------------------

    def _branch_decision(self, project: Project, pause: PauseEntry,
                         state: git.WorkingState | None, choice: str | None) -> str:
        """'match', 'mismatch' (caller must ask), 'switched', 'stayed' or 'cancelled'."""
        if state is None or pause.branch is None or state.branch == pause.branch:
            return "match"
        if choice in (None, "ask"):
            return "mismatch"
        if choice == "cancel":
            return "cancelled"
        if choice == "stay":
            pausestate.clear(self.paths, project.key, state=self.pause_file)
            self._warn(f"Stayed on '{state.branch}' and cleared the pause of '{pause.branch}'. "
                       f"Its context is kept in {pause.context_file}.")
            return "stayed"
        if choice == "switch":
            with git.Repository(project.root) as repo:
                repo.checkout(pause.branch)
            return "switched"
        raise ClaudeSessionError(f"Unknown branch choice {choice!r}: use one of "
                                 f"{', '.join(MISMATCH_CHOICES)}.")

    def _mismatch_result(self, project: Project, session_id: str, pause: PauseEntry,
                         state: git.WorkingState | None) -> StartResult:
        current = state.branch if state else None
        return StartResult(
            status="branch_mismatch", project=project.name, project_root=project.key,
            branch=current, session_id=session_id, paused_branch=pause.branch,
            choices=list(MISMATCH_CHOICES), warnings=list(self._warnings),
            context=(f"This project was paused on branch '{pause.branch}' but the current "
                     f"branch is '{current or 'detached HEAD'}'. Choices: switch (check out "
                     f"'{pause.branch}'; refused if uncommitted changes would be lost), stay "
                     f"(keep '{current}' and clear the pause), cancel."),
        )

    # --- start ----------------------------------------------------------------------------

    def start(self, cwd: Path | str, *, session_id: str | None = None,
              on_mismatch: str | None = None, no_import: bool = False,
              source: str = "cli") -> StartResult:
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=True)
            assert sid is not None
            existing = self._ledger(sid)
            if existing and existing.status == "active" and existing.start_done:
                return self._already_started(project, existing)
            state = self._state(project)
            pause = self._pause_entry(project)
            if pause is None and project.repository:
                pause = self._moved_pause(project)
            context = ""
            switched = cleared = False
            if pause is not None:
                decision = self._branch_decision(project, pause, state, on_mismatch)
                if decision == "mismatch":
                    return self._mismatch_result(project, sid, pause, state)
                if decision == "cancelled":
                    return StartResult(status="cancelled", project=project.name,
                                       project_root=project.key, session_id=sid,
                                       branch=state.branch if state else None,
                                       paused_branch=pause.branch, warnings=self._warnings)
                switched, cleared = decision == "switched", decision == "stayed"
                if switched:
                    state = self._state(project)
                if not cleared:
                    context = self._read_context(pause.context_file)
            context_file = pause.context_file if pause and not cleared else None
            imported = None
            if not no_import:
                context, context_file, imported = self._claudesync_check(
                    project, sid, context, context_file, have_pause=pause is not None)
            entry = self._ensure_ledger(project, sid, source=source, state=state)
            entry.start_done = True
            if context_file:
                entry.context_id = Path(context_file).stem
            self._save_ledger(entry)
            if pause is not None and not cleared:
                pausestate.clear(self.paths, project.key, state=self.pause_file)
            self._finalize_orphans(project, keep=sid)
            if not no_import:
                self._after_vault_check(project)
            return StartResult(
                status="ready", project=project.name, project_root=project.key,
                branch=state.branch if state else None, session_id=sid, context=context,
                warnings=self._warnings, paused_branch=pause.branch if pause else None,
                imported_item=imported, switched_branch=switched, cleared_pause=cleared,
                vault=self._vault.description if self._vault else None,
            )

    def _already_started(self, project: Project, entry: LedgerEntry) -> StartResult:
        context = ""
        if entry.context_id:
            path = self.paths.contexts / f"{entry.context_id}.md"
            if path.exists():
                context = path.read_text("utf-8")
        state = self._state(project)
        return StartResult(status="ready", project=project.name, project_root=project.key,
                           branch=state.branch if state else None, session_id=entry.session_id,
                           context=context, already_started=True, warnings=self._warnings)

    def _claudesync_check(self, project: Project, session_id: str, context: str,
                          context_file: str | None, *, have_pause: bool
                          ) -> tuple[str, str | None, str | None]:
        """Seed: 1Password check. A sync item from another machine (when nothing is paused
        here) gives the context; a filled claude.ai answer is merged into it."""
        try:
            vault = self.vault
            if not have_pause:
                synced = self._newest_sync_item(vault, project)
                if synced is not None:
                    context = synced.context
                    vault.mark_imported(synced.id)
                    origin = synced.machine or "another machine"
                    self._warn(f"Continuing the session synced from {origin} ({synced.title}).")
            item = vault.pending_response(project=project.name, repository=project.repository)
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
            waiting = self.vault.pending_response(project=project.name,
                                                  repository=project.repository)
        except VaultError as exc:
            self._warn(f"ClaudeSync not checked: {exc}")
            return False
        self._cache_handoff(project, waiting)
        return waiting is not None

    def _newest_sync_item(self, vault: Vault, project: Project) -> HandoffItem | None:
        for item in vault.list_items(project=project.name, repository=project.repository):
            if item.kind == "sync" and not item.imported:
                return item
        return None

    def _merge_answer(self, project: Project, session_id: str, base: str,
                      item: HandoffItem) -> str:
        """Write a new 'import' context: the base context plus the claude.ai insights."""
        ctx = ctxmod.parse(base) if base.strip() else ctxmod.parse(item.context)
        ctx = ctxmod.merge_insights(ctx, ctxmod.render_insights(item.claude_ai_response),
                                    source=f"claude.ai via {item.title}")
        ctx.kind = "import"
        ctx.created = utcnow()
        ctx.session_id = session_id
        ctx.project = ctx.project or project.name
        return str(self._write_context(ctx))

    # --- pause ----------------------------------------------------------------------------

    def pause(self, cwd: Path | str, *, session_id: str | None = None, summary: str = "",
              next_steps: list[str] | None = None, accomplishments: list[str] | None = None,
              note: str | None = None, wip_commit: bool = False, handoff: bool = False
              ) -> PauseResult:
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=True)
            assert sid is not None
            state = self._state(project)
            entry = self._ensure_ledger(project, sid, source="cli", state=state)
            ctx = self._base_context(project, kind="pause", session_id=sid, state=state,
                                     entry=entry, summary=summary,
                                     accomplishments=accomplishments or [],
                                     next_steps=next_steps or [], notes=note or "")
            path = self._write_context(ctx)
            wip_sha = None
            if wip_commit and project.in_git:
                try:
                    wip_sha = self._wip_commit(project, summary)
                except GitError as exc:
                    self._warn(f"No WIP commit ({exc}); the pause is saved without one.")
                if wip_sha:
                    state = self._state(project)
                    ctx.notes = (ctx.notes + f"\n\nWIP commit {wip_sha[:10]} holds the "
                                 f"uncommitted work (squash it later).").strip()
                    ctx.head = state.head if state else ctx.head
                    atomic_write(path, ctxmod.render(ctx))
            pause = PauseEntry(
                project=project.name, project_root=project.key, repository_url=project.origin_url,
                branch=state.branch if state else None, head=state.head if state else None,
                context_file=str(path), paused_at=utcnow(), session_id=sid, wip_commit=wip_sha,
                note=redact_data(note), summary=redact_data(summary),
            )
            data = pause.model_dump(mode="json")
            data["repository"] = project.repository
            pausestate.put(self.paths, project.key, data, state=self.pause_file)
            entry.context_id = path.stem
            entry.summary = redact_data(summary) or entry.summary
            entry.paused_at = pause.paused_at
            self._save_ledger(entry)
            item_title = prompt = None
            if handoff:
                item_title, prompt = self._create_handoff(project, sid, state, path, kind="handoff")
            return PauseResult(project=project.name, project_root=project.key,
                               branch=pause.branch, session_id=sid, context_file=str(path),
                               wip_commit=wip_sha, handoff_item=item_title,
                               transfer_prompt=prompt, warnings=self._warnings)

    def _wip_commit(self, project: Project, summary: str) -> str | None:
        first = (summary.strip().splitlines() or ["paused session"])[0][:72]
        with git.Repository(project.root) as repo:
            return repo.wip_commit(f"WIP: {first}")

    def _create_handoff(self, project: Project, session_id: str,
                        state: git.WorkingState | None, context_path: Path, *, kind: str
                        ) -> tuple[str | None, str]:
        text = context_path.read_text("utf-8")
        branch = state.branch if state else None
        prompt = transfer_prompt(project=project.name, branch=branch,
                                 repository=project.repository, context_markdown=text)
        request: dict[str, Any] = {
                   "project": project.name, "branch": branch, "session_id": session_id,
                   "machine": machine_name(), "repository": project.repository, "context": text,
                   "transfer_prompt": prompt, "kind": kind}
        try:
            item = self.vault.create_item(**request)
        except VaultError as exc:
            pending = self.paths.data / "pending-handoffs" / f"{new_id()}.json"
            atomic_write(pending, json.dumps(request))
            self._warn(f"The ClaudeSync item could not be created ({exc}). Nothing is lost: the "
                       f"context is in {context_path} and the item will be created by the next "
                       f"start or `claude-session sync`.")
            return None, prompt
        if self.vault.kind == "local":
            self._warn(f"ClaudeSync is using the {self.vault.description}.")
        return item.title, prompt

    def _retry_pending_handoffs(self) -> int:
        """Create the ClaudeSync items that an earlier pause or end could not create."""
        folder = self.paths.data / "pending-handoffs"
        created = 0
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                request = json.loads(path.read_text("utf-8"))
                item = self.vault.create_item(**request)
            except VaultError as exc:
                self._warn(f"ClaudeSync still unavailable ({exc}); "
                           f"{len(list(folder.glob('*.json')))} hand-off(s) wait.")
                break
            except (OSError, ValueError, TypeError):
                continue
            path.unlink(missing_ok=True)
            created += 1
            self._warn(f"Created the delayed ClaudeSync item {item.title}.")
        return created

    def _cache_handoff(self, project: Project, item: HandoffItem | None) -> None:
        """What the SessionStart hook reads: is a claude.ai answer waiting (no network there)."""
        cache = StateFile(self.paths.handoff_cache, empty=lambda: {"projects": {}})
        try:
            with cache.update() as data:
                projects = data.setdefault("projects", {})
                if not isinstance(projects, dict):
                    projects = data["projects"] = {}
                projects[project.key] = {"waiting": item is not None,
                                         "item": item.title if item else None,
                                         "checked_at": utcnow().isoformat()}
        except StateError as exc:
            self._warn(f"The hand-off cache was not updated: {exc}")

    # --- resume ---------------------------------------------------------------------------

    def resume(self, cwd: Path | str, *, session_id: str | None = None,
               on_mismatch: str | None = None) -> StartResult:
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=True)
            assert sid is not None
            pause = self._pause_entry(project)
            if pause is None and project.repository:
                pause = self._moved_pause(project)
            state = self._state(project)
            if pause is None:
                return StartResult(
                    status="no_pause_state", project=project.name, project_root=project.key,
                    branch=state.branch if state else None, session_id=sid,
                    warnings=self._warnings,
                    context="Nothing is paused for this project. Use start to begin a session.")
            decision = self._branch_decision(project, pause, state, on_mismatch)
            if decision == "mismatch":
                return self._mismatch_result(project, sid, pause, state)
            if decision in ("cancelled", "stayed"):
                status: StartStatus = ("cancelled" if decision == "cancelled"
                                       else "no_pause_state")
                return StartResult(status=status, project=project.name, project_root=project.key,
                                   branch=state.branch if state else None, session_id=sid,
                                   paused_branch=pause.branch, warnings=self._warnings,
                                   cleared_pause=decision == "stayed")
            context = self._read_context(pause.context_file)
            if decision == "switched":
                state = self._state(project)
            entry = self._ensure_ledger(project, sid, source="resume", state=state)
            entry.start_done = True
            entry.context_id = Path(pause.context_file).stem
            entry.summary = entry.summary or pause.summary
            self._save_ledger(entry)
            pausestate.patch(self.paths, project.key,
                             {"resumed_at": utcnow().isoformat(), "resumed_by": sid},
                             state=self.pause_file)
            return StartResult(status="ready", project=project.name, project_root=project.key,
                               branch=state.branch if state else None, session_id=sid,
                               context=context, paused_branch=pause.branch,
                               switched_branch=decision == "switched", warnings=self._warnings)

    def _moved_pause(self, project: Project) -> PauseEntry | None:
        """A pause of the same repository saved under another folder: the repository moved."""
        raw = pausestate.find_by_repository(self.paths, project.repository or "")
        if raw is None or raw.get("project_root") == project.key:
            return None
        old_root = str(raw["project_root"])
        with self.pause_file.update() as data:
            moved = data["projects"].pop(old_root, None)
            if moved is None:
                return None
            moved["project_root"] = project.key
            data["projects"][project.key] = moved
        self._warn(f"The pause was saved at {old_root}; the repository is now at {project.key} "
                   f"and the pause moved with it.")
        return PauseEntry.model_validate(moved)

    # --- end ------------------------------------------------------------------------------

    def end(self, cwd: Path | str, *, session_id: str | None = None, summary: str = "",
            accomplishments: list[str] | None = None, next_steps: list[str] | None = None,
            message: str | None = None, push: bool = True, mode: str = "standard",
            transcript: str | None = None) -> EndResult:
        if mode not in END_MODES:
            raise ClaudeSessionError(f"Unknown end mode {mode!r}: use standard, handoff or sync.")
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=True)
            assert sid is not None
            state = self._state(project)
            entry = self._ledger(sid)
            if entry is None or entry.status not in ("active", "ending"):
                if entry is None:
                    self._warn("No start was recorded for this session; its duration counts "
                               "from now.")
                entry = self._ensure_ledger(project, sid, source="cli", state=state)
            if not entry.record_id:
                entry.record_id = new_id()  # fixed before anything is sent: reruns never duplicate
            if transcript:
                entry.transcript_path = transcript
            self._save_ledger(entry)
            kind = "handoff" if mode == "handoff" else "end"
            commit_sha = None
            if project.in_git:
                commit_sha = self._end_commit(project, message, summary)
                state = self._state(project)
            ctx = self._base_context(project, kind=kind, session_id=sid, state=state,
                                     entry=entry, summary=summary,
                                     accomplishments=accomplishments or [],
                                     next_steps=next_steps or [], notes="")
            path = self._write_context(ctx)
            entry.context_id = path.stem
            pushed, push_detail = self._end_push(project, push)
            item_title = prompt = None
            if mode in ("handoff", "sync"):
                item_title, prompt = self._create_handoff(project, sid, state, path,
                                                          kind=mode)
            commits, files = self._session_git(project, entry)
            record = build_record(
                entry, application=project.name, repository_url=project.origin_url,
                ended_at=utcnow(), ending_branch=state.branch if state else None,
                commits_count=len(commits), files_changed=files,
                usage=transcript_usage(entry.transcript_path, sid), summary=summary,
                accomplishments=accomplishments or [], next_steps=next_steps or [], mode=mode,
                record_id=entry.record_id,
            )
            # 'ending': the hooks never finalize it into an 'unended' record that would
            # overwrite this one on the tracker; a re-run of end picks it up with its record id
            entry.status = "ending"
            self._save_ledger(entry)
            outcome, detail = self._deliver(record)
            if outcome in ("sent", "local"):
                self.delivery.drain(limit=20, budget=2.0)  # the tracker is up: older ones too
            pausestate.clear(self.paths, project.key, state=self.pause_file)
            entry.status = "ended"
            entry.ended_at = record.ended_at
            entry.summary = redact_data(summary) or entry.summary
            self._save_ledger(entry)
            return EndResult(project=project.name, project_root=project.key, session_id=sid,
                             mode=mode, record=record, context_file=str(path),
                             commit=commit_sha, pushed=pushed, push_detail=push_detail,
                             tracker=outcome, tracker_detail=detail, handoff_item=item_title,
                             transfer_prompt=prompt if mode == "handoff" else None,
                             warnings=self._warnings)

    def _end_commit(self, project: Project, message: str | None, summary: str) -> str | None:
        text = (message or "").strip() or (summary.strip().splitlines() or [""])[0][:72]
        with git.Repository(project.root) as repo:
            if repo.operation_in_progress():
                self._warn(f"No commit: a {repo.operation_in_progress()} is in progress. Finish "
                           f"or abort it, then commit by hand.")
                return None
            return repo.commit(text or "End of Claude Code session")

    def _end_push(self, project: Project, push: bool) -> tuple[bool, str | None]:
        if not project.in_git:
            return False, "not a git repository"
        if not push:
            return False, "not pushed (--no-push)"
        with git.Repository(project.root) as repo:
            outcome = repo.push()
        if outcome.status in ("rejected", "failed"):  # the others are in push_detail already
            self._warn(f"Push: {outcome.detail}")
        return outcome.pushed, outcome.detail

    def _deliver(self, record: SessionRecord) -> tuple[TrackerOutcome, str | None]:
        """Hand the record to the tracker through the spool, which keeps what fails."""
        result = self.delivery.deliver(record)
        if result.warning:
            self._warn(result.warning)
        return result.outcome, result.detail

    # --- sessions that ended without /end -------------------------------------------------

    def _finalize_orphans(self, project: Project | None, *, keep: str | None) -> list[str]:
        """Close open sessions whose Claude Code is gone (or silent for long), then deliver
        every spooled record (the hooks spool them too)."""
        done = hooklib.finalize_orphans(self.paths, project_root=project.key if project else None,
                                        keep=keep)
        self._drain()
        return done

    def _drain(self) -> DrainReport:
        report = self.delivery.drain()
        for warning in report.warnings:
            self._warn(warning)
        return report

    # --- import ---------------------------------------------------------------------------

    def import_handoff(self, cwd: Path | str, *, item: str | None = None,
                       session_id: str | None = None) -> ImportResult:
        with self._collecting():
            project = resolve(cwd)
            if item:
                found = self.vault.get_item(item)
                if not found.claude_ai_response.strip():
                    raise ItemNotFound(
                        f"Item '{found.title}' has no claude.ai answer yet: paste claude.ai's "
                        f"summary into its claude_ai_response field (or pipe it into "
                        f"`claude-session handoff receive`), then import again.")
                if found.imported:
                    self._warn(f"Item '{found.title}' was imported before; importing it again.")
            else:
                pending = self.vault.pending_response(project=project.name,
                                                      repository=project.repository)
                if pending is None:
                    return ImportResult(status="nothing_to_import", project=project.name,
                                        warnings=self._warnings)
                found = pending
            sid = self._session_id(session_id, project, create=True) or new_id()
            pause = self._pause_entry(project)
            base = self._read_context(pause.context_file) if pause else found.context
            merged = self._merge_answer(project, sid, base, found)
            if pause is not None:
                pausestate.patch(self.paths, project.key, {"context_file": merged},
                                 state=self.pause_file)
            self.vault.mark_imported(found.id)
            return ImportResult(status="imported", project=project.name, item=found.title,
                                context_file=merged,
                                insights=ctxmod.render_insights(found.claude_ai_response),
                                warnings=self._warnings)

    # --- reminders ------------------------------------------------------------------------

    def remind(self, cwd: Path | str, *, action: str = "status", every: int | None = None,
               dirty_files: int | None = None, global_default: bool = False) -> RemindResult:
        with self._collecting():
            project = resolve(cwd)
            reminders.check_settings(every, dirty_files)
            root = None if global_default else project.key
            if action in ("on", "off"):
                merged = reminders.set_settings(self.paths, root, {
                    "enabled": action == "on", "every_minutes": every, "dirty_files": dirty_files})
            elif action == "status":
                merged = reminders.settings_for(reminders.remind_file(self.paths).read(),
                                                project.key)
            else:
                raise ClaudeSessionError(f"Unknown remind action {action!r}: use on, off or "
                                         f"status.")
            last = reminders.remind_file(self.paths).read()["last_reminded"].get(project.key)
            return RemindResult(project=project.name, project_root=project.key,
                                settings=ReminderSettings(**merged),
                                scope="default" if global_default else "project",
                                last_reminded=last)

    # --- maintenance runs -----------------------------------------------------------------

    def record_maintenance(self, cwd: Path | str, *, command: str, status: str,
                           results: Any = None, notes: str | None = None,
                           session_id: str | None = None) -> MaintenanceResult:
        if not command.strip() or not status.strip():
            raise ClaudeSessionError("A maintenance run needs a command name and a status.")
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=True)
            assert sid is not None
            entry = self._ensure_ledger(project, sid, source="cli", state=self._state(project))
            run = MaintenanceRun(command=command.strip(), status=status.strip(),
                                 results=redact_data(results), notes=redact_data(notes))
            entry.maintenance_runs.append(run)
            entry.security_findings.extend(security_findings(run))
            self._save_ledger(entry)
            return MaintenanceResult(project=project.name, session_id=sid, run=run,
                                     warnings=self._warnings)

    # --- status, history, sync, hand-off by hand -------------------------------------------

    def status(self, cwd: Path | str, *, session_id: str | None = None) -> StatusResult:
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=False)
            entry = self._ledger(sid) if sid else None
            state = self._state(project)
            remind_data = reminders.remind_file(self.paths).read()
            waiting = self._after_vault_check(project, retry=False)
            return StatusResult(
                project=project.name, project_root=project.key,
                branch=state.branch if state else None,
                active_session=entry if entry and entry.status == "active" else None,
                pause=self._pause_entry(project),
                reminders=ReminderSettings(**reminders.settings_for(remind_data, project.key)),
                **self._outbox_status(),
                vault=self.vault.description, tracker=self.tracker.description,
                handoff_waiting=waiting, warnings=self._warnings,
            )

    def _outbox_status(self) -> dict[str, Any]:
        try:
            delivery = self.delivery
            return {"outbox_depth": delivery.depth(), "outbox_last_error": delivery.last_error(),
                    "outbox": delivery.counts()}
        except StateError as exc:
            self._warn(f"Outbox not readable: {exc}")
            return {}

    def history(self, *, project: str | None = None, limit: int = 20) -> HistoryResult:
        if limit < 1:
            raise ClaudeSessionError("--limit must be at least 1.")
        return HistoryResult(records=self.tracker.list_sessions(project=project, limit=limit),
                             tracker=self.tracker.description)

    def sync(self, cwd: Path | str | None = None, *, force: bool = True) -> SyncResult:
        """Finalize unended sessions, send what waits (``force``: even while backing off),
        retry delayed hand-offs."""
        with self._collecting():
            finalized = hooklib.finalize_orphans(self.paths, project_root=None,
                                                 keep=self.settings.session_id)
            ledger.prune(self.paths)
            report = self.delivery.drain(limit=1000, budget=60.0, force=force)
            for warning in report.warnings:
                self._warn(warning)
            retried = 0
            try:
                retried = self._retry_pending_handoffs()
            except VaultError as exc:
                self._warn(f"ClaudeSync not reached: {exc}")
            if cwd is not None:
                self._after_vault_check(resolve(cwd))
            return SyncResult(finalized=finalized, sent=report.sent, remaining=report.remaining,
                              auth_failed=report.auth_failed, rejected=report.rejected,
                              last_error=report.last_error, retried_handoffs=retried,
                              skipped=report.skipped,
                              tracker=self.tracker.description,
                              warnings=self._warnings)

    def latest_context(self, project: Project) -> Path | None:
        pause = self._pause_entry(project)
        if pause is not None and Path(pause.context_file).exists():
            return Path(pause.context_file)
        prefix = f"{project.name}-"
        try:
            candidates = [p for p in self.paths.contexts.iterdir()
                          if p.name.startswith(prefix) and p.suffix == ".md"]
        except FileNotFoundError:
            return None
        return max(candidates, key=lambda p: p.stat().st_mtime, default=None)

    def handoff_prompt(self, cwd: Path | str) -> dict[str, Any]:
        with self._collecting():
            project = resolve(cwd)
            path = self.latest_context(project)
            if path is None:
                raise NoActiveSession("No saved context for this project yet: run "
                                      "`claude-session pause` or `end --mode handoff` first.")
            state = self._state(project)
            prompt = transfer_prompt(project=project.name, branch=state.branch if state else None,
                                     repository=project.repository,
                                     context_markdown=path.read_text("utf-8"))
            return {"project": project.name, "context_file": str(path), "prompt": prompt,
                    "warnings": self._warnings}

    def handoff_receive(self, cwd: Path | str, answer: str, *, item: str | None = None
                        ) -> dict[str, Any]:
        if not answer.strip():
            raise ClaudeSessionError("No answer on standard input: paste claude.ai's summary and "
                                     "end with Ctrl-D.")
        with self._collecting():
            project = resolve(cwd)
            if item:
                target = self.vault.get_item(item)
            else:
                items = [i for i in self.vault.list_items(project=project.name,
                                                          repository=project.repository)
                         if i.kind == "handoff" and not i.imported]
                if not items:
                    state = self._state(project)
                    path = self.latest_context(project)
                    text = path.read_text("utf-8") if path else ""
                    target = self.vault.create_item(
                        project=project.name, branch=state.branch if state else None,
                        session_id=None, machine=machine_name(), repository=project.repository,
                        context=text, kind="handoff")
                else:
                    target = items[0]
            updated = self.vault.set_response(target.id, answer)
            return {"project": project.name, "item": updated.title, "vault": self.vault.description,
                    "warnings": self._warnings}


def check_writable(paths: Paths) -> None:
    """Fail early, with a clear message, when the state home cannot be written."""
    try:
        paths.home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"Cannot create {paths.home} ({exc.strerror}). Set CLAUDE_CONFIG_DIR "
                         f"to a writable folder.") from exc
