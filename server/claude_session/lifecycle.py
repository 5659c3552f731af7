"""The seed's flows: start, pause, resume, end, import, remind, maintenance runs, status, sync.

``Core`` is the one object the CLI, the MCP server and tests talk to. It knows nothing of MCP,
hooks or argument parsing; it raises ``ClaudeSessionError`` subclasses whose message says what
to do, and returns the models of ``claude_session.models``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from claude_session import context as ctxmod
from claude_session import flow, git, ledger, pausestate, reminders, sessions
from claude_session.claudesync import ClaudeSyncFlows
from claude_session.config import Settings
from claude_session.errors import (
    MISMATCH_CHOICES,
    ClaudeSessionError,
    ContextMissing,
    GitError,
    StateError,
    VaultError,
)
from claude_session.models import (
    DeadLetterInfo,
    EndResult,
    HistoryResult,
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
    security_findings,
    transcript_usage,
)
from claude_session.redact import redact_data
from claude_session.statefile import atomic_write

if TYPE_CHECKING:  # the backends import SQLAlchemy and the 1Password SDK: only when used
    from claude_session.tracker.base import Tracker
    from claude_session.tracker.delivery import Delivery, DrainReport
    from claude_session.vault.base import Vault

log = logging.getLogger(__name__)
_B = TypeVar("_B", "Vault | None", "Tracker | None")

END_MODES = ("standard", "handoff", "sync")


class Core(ClaudeSyncFlows):
    """The flows of one machine's claude-session, over its settings and state home."""

    def __init__(self, settings: Settings | None = None, *, vault: Vault | None = None,
                 tracker: Tracker | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.paths = Paths(self.settings.home)
        self.pause_file = pausestate.pause_file(self.paths)
        # moved-aside state files, vault and tracker warnings land in the calling flow
        self.pause_file.warnings = flow.WarningSink()
        self._vault: Vault | None = self._adopt(vault)
        self._tracker: Tracker | None = self._adopt(tracker)
        self._backend_lock = threading.Lock()  # tool calls run in parallel worker threads

    # --- plumbing ------------------------------------------------------------------------

    @staticmethod
    def _adopt(backend: _B) -> _B:
        """Route a backend's warnings (the ones it has, and later ones) to the calling flow."""
        if backend is not None:
            sink = flow.WarningSink()
            sink.extend(list(backend.warnings))
            backend.warnings = sink
        return backend

    @property
    def vault(self) -> Vault:
        with self._backend_lock:
            if self._vault is None:
                from claude_session.vault import open_vault

                self._vault = self._adopt(open_vault(self.settings, self.paths))
            assert self._vault is not None
            return self._vault

    @property
    def tracker(self) -> Tracker:
        with self._backend_lock:
            if self._tracker is None:
                from claude_session.tracker import open_tracker

                self._tracker = self._adopt(open_tracker(self.settings, self.paths))
            assert self._tracker is not None
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
        """A flow of its own for this call: the warnings it produces (state files moved aside,
        skipped steps) are its own, whatever runs at the same time."""
        with flow.begin() as current:
            yield current.warnings

    @property
    def _warnings(self) -> list[str]:
        warnings: list[str] = flow.current().warnings
        return warnings

    def _warn(self, message: str) -> None:
        log.warning(message)
        flow.current().warn(message)

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
        sessions.merge_save(self.paths, entry.model_dump(mode="json"))

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
                repository_url=project.record_url, started_at=now, source=source,
                starting_branch=state.branch if state else None,
                starting_head=state.head if state else None,
            )
        if entry.repository_url is None:
            entry.repository_url = project.record_url  # entries the SessionStart hook made lack it
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
        commits, files = sessions.measure_git(project.root, entry.starting_head)
        return [f"{sha[:7]} {subject}" for sha, subject in commits], files

    def _base_context(self, project: Project, *, kind: str, session_id: str,
                      state: git.WorkingState | None, entry: LedgerEntry | None,
                      summary: str, accomplishments: list[str], next_steps: list[str],
                      notes: str) -> ctxmod.Context:
        commits, files = self._session_git(project, entry)
        return ctxmod.Context(
            project=project.name, kind=kind, created=utcnow(),
            branch=state.branch if state else None, head=state.head if state else None,
            session_id=session_id, repository=project.identity,
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
                project=project.name, project_root=project.key, repository_url=project.record_url,
                branch=state.branch if state else None, head=state.head if state else None,
                context_file=str(path), paused_at=utcnow(), session_id=sid, wip_commit=wip_sha,
                note=redact_data(note), summary=redact_data(summary),
                repository=project.repository,
            )
            data = pause.model_dump(mode="json")
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
        moved = pausestate.move(self.paths, old_root, project.key, state=self.pause_file)
        if moved is None:
            return None
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
                entry, application=project.name, repository_url=project.record_url,
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
            record = self._storable(record)
            outcome, detail = self._deliver(record)
            if outcome in ("sent", "local"):  # the tracker is up: older ones too
                for warning in self.delivery.drain(limit=20, budget=2.0).warnings:
                    self._warn(warning)
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

    def _storable(self, record: SessionRecord) -> SessionRecord:
        """The record as the tracker can store it; what had to change becomes a warning."""
        from claude_session.tracker.delivery import Delivery

        record, changes = Delivery.sanitize(record)
        for change in changes:
            self._warn(change)
        return record

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
        done = sessions.finalize_orphans(self.paths, keep=keep, warn=self._warn,
                                         project_root=project.key if project else None)
        self._drain()
        return done

    def _drain(self) -> DrainReport:
        report = self.delivery.drain()
        for warning in report.warnings:
            self._warn(warning)
        return report

    # --- reminders ------------------------------------------------------------------------

    def remind(self, cwd: Path | str, *, action: str = "status", every: int | None = None,
               dirty_files: int | None = None, global_default: bool = False) -> RemindResult:
        with self._collecting():
            project = resolve(cwd)
            if every is not None and every < 1:
                raise ClaudeSessionError("--every must be at least 1 minute.")
            if dirty_files is not None and dirty_files < 1:
                raise ClaudeSessionError("--dirty-files must be at least 1.")
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
                handoff_waiting=waiting, pending_handoffs=self.pending_handoffs(),
                warnings=self._warnings,
            )

    def _outbox_status(self) -> dict[str, Any]:
        try:
            delivery = self.delivery
            return {"outbox_depth": delivery.depth(), "outbox_last_error": delivery.last_error(),
                    "outbox": delivery.counts(),
                    "dead_letters": [DeadLetterInfo.model_validate(vars(d))
                                     for d in delivery.dead_letters()]}
        except StateError as exc:
            self._warn(f"Outbox not readable: {exc}")
            return {}

    def history(self, *, project: str | None = None, limit: int = 20) -> HistoryResult:
        if limit < 1:
            raise ClaudeSessionError("--limit must be at least 1.")
        return HistoryResult(records=self.tracker.list_sessions(project=project, limit=limit),
                             tracker=self.tracker.description)

    def sync(self, cwd: Path | str | None = None, *, force: bool = True,
             retry_rejected: bool = False) -> SyncResult:
        """Finalize unended sessions, send what waits (``force``: even while backing off;
        ``retry_rejected``: the records the tracker refused too), retry delayed hand-offs."""
        with self._collecting():
            finalized = sessions.finalize_orphans(self.paths, project_root=None, warn=self._warn,
                                                  keep=self.settings.session_id)
            ledger.prune(self.paths)
            report = self.delivery.drain(limit=1000, budget=60.0, force=force,
                                         retry_rejected=retry_rejected)
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
