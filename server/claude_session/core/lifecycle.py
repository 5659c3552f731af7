"""The seed's flows: start (with its branch check), pause, resume, end, remind, maintenance runs.

``Core`` is the one object the CLI, the MCP server and tests talk to. Its other flows live beside
this module: the ClaudeSync round trip (import, hand-offs) in ``claudesync``, status, history and
sync in ``upkeep``, and what they all stand on in ``corebase``. It knows nothing of MCP,
hooks or argument parsing; it raises ``ClaudeSessionError`` subclasses whose message says what
to do, and returns the models of ``claude_session.models``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_session.base import context as ctxmod
from claude_session.base import flow
from claude_session.base.redact import count_markers, find_secrets, redact_data
from claude_session.base.state import answers, remind
from claude_session.base.state import pause as pausestate
from claude_session.base.statefile import atomic_write
from claude_session.core import git
from claude_session.core.project import Project, resolve
from claude_session.core.records import (
    build_record,
    security_findings,
    transcript_usage,
)
from claude_session.core.upkeep import Upkeep
from claude_session.errors import (
    MISMATCH_CHOICES,
    ClaudeSessionError,
    ContextMissing,
    GitError,
    NoActiveSession,
    SecretInCommit,
)
from claude_session.models import (
    EndResult,
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
    TrackerOutcome,
    new_id,
    utcnow,
)

if TYPE_CHECKING:  # the backends import SQLAlchemy and the 1Password SDK: only when used
    pass

log = logging.getLogger(__name__)

END_MODES = ("standard", "handoff", "sync")


def _same_place(pause: PauseEntry, state: git.WorkingState) -> bool:
    """Whether the checkout is where the pause was: the same branch, or, for a pause on a
    detached HEAD, a detached HEAD at the same commit (a branch is never a match for it)."""
    if pause.branch is not None:
        return state.branch == pause.branch
    if pause.head is None:
        return True  # paused outside git, or in an empty repository
    return state.branch is None and state.head == pause.head


def _where(branch: str | None, head: str | None) -> str:
    if branch:
        return f"branch '{branch}'"
    return f"a detached HEAD at {head[:10]}" if head else "no commit yet"


def first_line(text: str, limit: int = 72) -> str:
    return (text.strip().splitlines() or [""])[0][:limit]


def refuse_secret_in_commit(text: str, *, allow: bool, what: str) -> None:
    """A commit message is never rewritten: one that holds a secret is refused, before
    anything is committed or pushed, with the kinds found and how to go on."""
    kinds = find_secrets(text)
    if kinds and not allow:
        raise SecretInCommit(
            f"The {what} holds what looks like a secret ({', '.join(kinds)}); nothing was "
            f"committed or pushed. Take it out of the message and run again, or, if it is not a "
            f"secret, allow it (CLI: --allow-secret; tool: allow_secret=true)."
        )


class Core(Upkeep):
    """The flows of one machine's claude-session, over its settings and state home."""

    # --- branch check (seed: "Branch Mismatch on /start") ----------------------------------

    def _branch_decision(
        self,
        project: Project,
        pause: PauseEntry,
        state: git.WorkingState | None,
        choice: str | None,
    ) -> str:
        """'match', 'mismatch' (caller must ask), 'switched', 'stayed' or 'cancelled'."""
        if state is None or _same_place(pause, state):
            return "match"
        if choice in (None, "ask"):
            return "mismatch"
        if choice == "cancel":
            return "cancelled"
        if choice == "stay":
            pausestate.clear(self.paths, project.key)
            self._warn(
                f"Stayed on {_where(state.branch, state.head)} and cleared the pause of "
                f"{_where(pause.branch, pause.head)}. Its context is kept in "
                f"{pause.context_file}."
            )
            return "stayed"
        if choice == "switch":
            with git.Repository(project.root) as repo:
                if pause.branch:
                    repo.checkout(pause.branch)
                elif pause.head:
                    repo.checkout_commit(pause.head)
            return "switched"
        raise ClaudeSessionError(
            f"Unknown branch choice {choice!r}: use one of {', '.join(MISMATCH_CHOICES)}."
        )

    def _mismatch_result(
        self, project: Project, session_id: str, pause: PauseEntry, state: git.WorkingState | None
    ) -> StartResult:
        current = _where(state.branch if state else None, state.head if state else None)
        paused = _where(pause.branch, pause.head)
        return StartResult(
            status="branch_mismatch",
            project=project.name,
            project_root=project.key,
            branch=state.branch if state else None,
            session_id=session_id,
            paused_branch=pause.branch,
            choices=list(MISMATCH_CHOICES),
            warnings=list(self._warnings),
            context=(
                f"This project was paused on {paused} but the current checkout is "
                f"{current}. Choices: switch (check out {paused}; refused if uncommitted "
                f"changes would be lost), stay (keep {current} and clear the pause), "
                f"cancel."
            ),
        )

    # --- start ----------------------------------------------------------------------------

    def start(
        self,
        cwd: Path | str,
        *,
        session_id: str | None = None,
        on_mismatch: str | None = None,
        no_import: bool = False,
        source: str = "cli",
    ) -> StartResult:
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=True)
            assert sid is not None
            existing = self._ledger(sid)
            pause = self._pause_entry(project)
            if pause is None and project.repository:
                pause = self._moved_pause(project)
            # a pause or a claude.ai answer made since this session started: the whole flow
            if (
                existing
                and existing.status == "active"
                and existing.start_done
                and pause is None
                and (no_import or answers.waiting(self.paths, project.key) is None)
            ):
                return self._already_started(project, existing)
            state = self._state(project)
            context = ""
            switched = cleared = False
            if pause is not None:
                decision = self._branch_decision(project, pause, state, on_mismatch)
                if decision == "mismatch":
                    return self._mismatch_result(project, sid, pause, state)
                if decision == "cancelled":
                    return StartResult(
                        status="cancelled",
                        project=project.name,
                        project_root=project.key,
                        session_id=sid,
                        branch=state.branch if state else None,
                        paused_branch=pause.branch,
                        warnings=self._warnings,
                    )
                switched, cleared = decision == "switched", decision == "stayed"
                if switched:
                    state = self._state(project)
                if not cleared:
                    context = self._paused_context(pause)
            context_file = pause.context_file if pause and not cleared else None
            imported = None
            if not no_import:
                context, context_file, imported = self._claudesync_check(
                    project, sid, context, context_file, have_pause=pause is not None
                )
            entry = self._ensure_ledger(project, sid, source=source, state=state)
            entry.start_done = True
            if context_file:
                entry.context_id = Path(context_file).stem
            if pause is not None and not cleared:
                self._continue(entry, pause)
            self._save_ledger(entry)
            if pause is not None and not cleared:
                pausestate.clear(self.paths, project.key)
            self._finalize_orphans(project, keep=sid)
            if not no_import:
                self._after_vault_check(project)
            return StartResult(
                status="ready",
                project=project.name,
                project_root=project.key,
                branch=state.branch if state else None,
                session_id=sid,
                context=context,
                warnings=self._warnings,
                paused_branch=pause.branch if pause else None,
                imported_item=imported,
                switched_branch=switched,
                cleared_pause=cleared,
                vault=self._vault.description if self._vault else None,
            )

    def _paused_context(self, pause: PauseEntry) -> str:
        """The paused context; a missing file never blocks start (it is said, and the session
        starts without it)."""
        try:
            return self._read_context(pause.context_file)
        except ContextMissing:
            self._warn(
                f"The saved context file {pause.context_file} is gone or unreadable; "
                f"the session starts without it (the pause of "
                f"{_where(pause.branch, pause.head)} is cleared)."
            )
            return ""

    def _already_started(self, project: Project, entry: LedgerEntry) -> StartResult:
        context = ""
        if entry.context_id:
            path = self.paths.contexts / f"{entry.context_id}.md"
            if path.exists():
                context = path.read_text("utf-8")
        state = self._state(project)
        return StartResult(
            status="ready",
            project=project.name,
            project_root=project.key,
            branch=state.branch if state else None,
            session_id=entry.session_id,
            context=context,
            already_started=True,
            warnings=self._warnings,
        )

    # --- pause ----------------------------------------------------------------------------

    def pause(
        self,
        cwd: Path | str,
        *,
        session_id: str | None = None,
        summary: str = "",
        next_steps: list[str] | None = None,
        accomplishments: list[str] | None = None,
        note: str | None = None,
        wip_commit: bool = False,
        handoff: bool = False,
        allow_secret: bool = False,
    ) -> PauseResult:
        if wip_commit:
            refuse_secret_in_commit(
                first_line(summary),
                allow=allow_secret,
                what="WIP commit message (the summary's first line)",
            )
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=True)
            assert sid is not None
            state = self._state(project)
            entry = self._ensure_ledger(project, sid, source="cli", state=state)
            # fixed now: the session that resumes this pause names this record as continued
            entry.record_id = entry.record_id or new_id()
            ctx = self._base_context(
                project,
                kind="pause",
                session_id=sid,
                state=state,
                entry=entry,
                summary=summary,
                accomplishments=accomplishments or [],
                next_steps=next_steps or [],
                notes=note or "",
            )
            path = self._write_context(ctx)
            wip_sha = None
            if wip_commit and project.in_git:
                try:
                    wip_sha = self._wip_commit(project, summary, state)
                except GitError as exc:
                    self._warn(f"No WIP commit ({exc}); the pause is saved without one.")
                if wip_sha:
                    state = self._state(project)
                    ctx.notes = (
                        ctx.notes + f"\n\nWIP commit {wip_sha[:10]} holds the "
                        f"uncommitted work (squash it later)."
                    ).strip()
                    ctx.head = state.head if state else ctx.head
                    ctx.branch = state.branch if state else ctx.branch
                    atomic_write(path, ctxmod.render(ctx))
            pause = PauseEntry(
                project=project.name,
                project_root=project.key,
                repository_url=project.record_url,
                branch=state.branch if state else None,
                head=state.head if state else None,
                context_file=str(path),
                paused_at=utcnow(),
                session_id=sid,
                wip_commit=wip_sha,
                note=redact_data(note),
                summary=redact_data(summary),
                repository=project.repository,
                record_id=entry.record_id,
            )
            data = pause.model_dump(mode="json")
            pausestate.put(self.paths, project.key, data)
            entry.context_id = path.stem
            entry.summary = redact_data(summary) or entry.summary
            entry.paused_at = pause.paused_at
            self._save_ledger(entry)
            item_title = prompt = None
            if handoff:
                item_title, prompt = self._create_handoff(project, sid, state, path, kind="handoff")
            return PauseResult(
                project=project.name,
                project_root=project.key,
                branch=pause.branch,
                session_id=sid,
                context_file=str(path),
                wip_commit=wip_sha,
                handoff_item=item_title,
                transfer_prompt=prompt,
                warnings=self._warnings,
                redacted=self._redacted,
            )

    def _wip_commit(
        self, project: Project, summary: str, state: git.WorkingState | None
    ) -> str | None:
        """The WIP commit; on a detached HEAD it goes on a new named branch first, so that no
        later checkout can strand it."""
        with git.Repository(project.root) as repo:
            if (
                state is not None
                and state.detached
                and state.head
                and (state.dirty_files or state.untracked_files)
            ):
                name = f"claude-session/wip-{utcnow():%Y%m%d-%H%M%S}"
                repo.branch_here(name)
                self._warn(
                    f"HEAD was detached at {state.head[:10]}: the WIP commit is on the new "
                    f"branch '{name}' so that it cannot be lost (`git checkout "
                    f"{state.head[:10]}` goes back to where you were)."
                )
            return repo.wip_commit(f"WIP: {first_line(summary) or 'paused session'}")

    # --- resume ---------------------------------------------------------------------------

    def resume(
        self, cwd: Path | str, *, session_id: str | None = None, on_mismatch: str | None = None
    ) -> StartResult:
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
                    status="no_pause_state",
                    project=project.name,
                    project_root=project.key,
                    branch=state.branch if state else None,
                    session_id=sid,
                    warnings=self._warnings,
                    context="Nothing is paused for this project. Use start to begin a session.",
                )
            decision = self._branch_decision(project, pause, state, on_mismatch)
            if decision == "mismatch":
                return self._mismatch_result(project, sid, pause, state)
            if decision in ("cancelled", "stayed"):
                status: StartStatus = "cancelled" if decision == "cancelled" else "no_pause_state"
                return StartResult(
                    status=status,
                    project=project.name,
                    project_root=project.key,
                    branch=state.branch if state else None,
                    session_id=sid,
                    paused_branch=pause.branch,
                    warnings=self._warnings,
                    cleared_pause=decision == "stayed",
                )
            context = self._read_context(pause.context_file)
            if decision == "switched":
                state = self._state(project)
            entry = self._ensure_ledger(project, sid, source="resume", state=state)
            entry.start_done = True
            entry.context_id = Path(pause.context_file).stem
            entry.summary = entry.summary or pause.summary
            self._continue(entry, pause)
            self._save_ledger(entry)
            pausestate.patch(
                self.paths,
                project.key,
                {"resumed_at": utcnow().isoformat(), "resumed_by": sid},
            )
            return StartResult(
                status="ready",
                project=project.name,
                project_root=project.key,
                branch=state.branch if state else None,
                session_id=sid,
                context=context,
                paused_branch=pause.branch,
                switched_branch=decision == "switched",
                warnings=self._warnings,
            )

    @staticmethod
    def _continue(entry: LedgerEntry, pause: PauseEntry) -> None:
        """This session picks up the pause (or the unended session) of another one: its
        record will name that session's record, so the tracker shows one chain."""
        if (
            pause.record_id
            and pause.record_id != entry.record_id
            and pause.session_id != entry.session_id
        ):
            entry.continues = pause.record_id

    def _moved_pause(self, project: Project) -> PauseEntry | None:
        """A pause of the same repository saved under another folder: the repository moved."""
        raw = pausestate.find_by_repository(self.paths, project.repository or "")
        if raw is None or raw.get("project_root") == project.key:
            return None
        old_root = str(raw["project_root"])
        moved = pausestate.move(self.paths, old_root, project.key)
        if moved is None:
            return None
        self._warn(
            f"The pause was saved at {old_root}; the repository is now at {project.key} "
            f"and the pause moved with it."
        )
        return PauseEntry.model_validate(moved)

    # --- end ------------------------------------------------------------------------------

    def end(
        self,
        cwd: Path | str,
        *,
        session_id: str | None = None,
        summary: str = "",
        accomplishments: list[str] | None = None,
        next_steps: list[str] | None = None,
        message: str | None = None,
        push: bool = True,
        mode: str = "standard",
        transcript: str | None = None,
        allow_secret: bool = False,
        force: bool = False,
    ) -> EndResult:
        if mode not in END_MODES:
            raise ClaudeSessionError(f"Unknown end mode {mode!r}: use standard, handoff or sync.")
        commit_text = (message or "").strip() or first_line(summary)
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=True)
            assert sid is not None
            state = self._state(project)
            entry = self._ledger(sid)
            if entry is None or entry.status not in ("active", "ending"):
                if not force:
                    raise NoActiveSession(
                        f"No session is open in {project.root} ("
                        + ("it ended already" if entry else "nothing was started")
                        + "): nothing was committed or recorded. Run `claude-session start` "
                        "first, or `claude-session end --force` to record a session that starts "
                        "now."
                    )
                self._warn("No start was recorded for this session; its duration counts from now.")
                entry = self._ensure_ledger(project, sid, source="cli", state=state)
            if not entry.record_id:
                entry.record_id = new_id()  # fixed before anything is sent: reruns never duplicate
            if transcript:
                entry.transcript_path = transcript
            self._save_ledger(entry)
            kind = "handoff" if mode == "handoff" else "end"
            commit_sha = None
            # a clean tree (as status just said) has nothing to commit: no git for it
            changed = bool(state and (state.dirty_files or state.untracked_files))
            if project.in_git and (changed or state is None):
                if changed:  # a commit will be made: check its message first
                    refuse_secret_in_commit(
                        commit_text,
                        allow=allow_secret,
                        what=(
                            "commit message"
                            if message
                            else "commit message (the summary's first "
                            "line; give --message to choose another)"
                        ),
                    )
                commit_sha, after = self._end_commit(project, commit_text, before=state)
                if after is not None:
                    state = after
                elif commit_sha is not None or state is None:
                    state = self._state(project)
            ctx = self._base_context(
                project,
                kind=kind,
                session_id=sid,
                state=state,
                entry=entry,
                summary=summary,
                accomplishments=accomplishments or [],
                next_steps=next_steps or [],
                notes="",
            )
            path = self._write_context(ctx)
            entry.context_id = path.stem
            pushed, push_detail = self._end_push(project, push)
            item_title = prompt = None
            if mode in ("handoff", "sync"):
                item_title, prompt = self._create_handoff(
                    project, sid, state, path, kind=mode, end_mode=mode
                )
            commits, files = ctx.commits, ctx.files_changed  # measured once (push adds none)
            record = build_record(
                entry,
                application=project.name,
                repository_url=project.record_url,
                ended_at=utcnow(),
                ending_branch=state.branch if state else None,
                commits_count=len(commits),
                files_changed=files,
                usage=transcript_usage(entry.transcript_path, sid),
                summary=summary,
                accomplishments=accomplishments or [],
                next_steps=next_steps or [],
                mode=mode,
                record_id=entry.record_id,
            )
            record = self._storable(record)
            # One write makes the record the ledger's: 'ending' with the record in it. From
            # here a crash loses nothing (the SessionEnd hook or the next sync spools this
            # very record; a re-run of end makes it again with its id), and the hooks never
            # finalize the session into an 'unended' record that would overwrite it.
            entry.status = "ending"
            entry.record = record.model_dump(mode="json")
            self._save_ledger(entry)
            outcome, detail = self._deliver(record)
            if outcome in ("sent", "local"):  # the tracker is up: older ones too
                # if no other drain is at it: end never waits for one
                for warning in self.delivery.drain(limit=20, budget=2.0, wait=0.0).warnings:
                    self._warn(warning)
            pausestate.clear(self.paths, project.key)
            entry.status = "ended"
            entry.ended_at = record.ended_at
            entry.summary = redact_data(summary) or entry.summary
            self._save_ledger(entry)
            return EndResult(
                project=project.name,
                project_root=project.key,
                session_id=sid,
                mode=mode,
                record=record,
                context_file=str(path),
                commit=commit_sha,
                pushed=pushed,
                push_detail=push_detail,
                tracker=outcome,
                tracker_detail=detail,
                handoff_item=item_title,
                transfer_prompt=prompt if mode == "handoff" else None,
                warnings=self._warnings,
                redacted=self._redacted,
            )

    def _end_commit(
        self, project: Project, text: str, *, before: git.WorkingState | None
    ) -> tuple[str | None, git.WorkingState | None]:
        """The end's commit of everything ``before`` listed: its sha, and the working state
        after it where that follows without asking git again (``committed_state``)."""
        changed = bool(before and (before.dirty_files or before.untracked_files))
        with git.Repository(project.root) as repo:
            if repo.operation_in_progress():
                self._warn(
                    f"No commit: a {repo.operation_in_progress()} is in progress. Finish "
                    f"or abort it, then commit by hand."
                )
                return None, None
            sha = repo.commit(text or "End of Claude Code session", changed=changed)
            if sha is None or before is None:
                return sha, None
            return sha, repo.committed_state(before, sha)

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
        flow.current().saw_redactions(count_markers(record.model_dump_json()))
        return record

    def _deliver(self, record: SessionRecord) -> tuple[TrackerOutcome, str | None]:
        """Hand the record to the tracker through the spool, which keeps what fails."""
        result = self.delivery.deliver(record)
        if result.warning:
            self._warn(result.warning)
        return result.outcome, result.detail

    # --- reminders ------------------------------------------------------------------------

    def remind(
        self,
        cwd: Path | str,
        *,
        action: str = "status",
        every: int | None = None,
        dirty_files: int | None = None,
        global_default: bool = False,
    ) -> RemindResult:
        with self._collecting():
            project = resolve(cwd)
            remind.check_settings(every, dirty_files)
            root = None if global_default else project.key
            if action in ("on", "off"):
                merged = remind.set_settings(
                    self.paths,
                    root,
                    {"enabled": action == "on", "every_minutes": every, "dirty_files": dirty_files},
                )
            elif action == "status":
                merged = remind.settings_for(
                    remind.read(self.paths), root
                )  # None (--global): the default alone
            else:
                raise ClaudeSessionError(
                    f"Unknown remind action {action!r}: use on, off or status."
                )
            last = remind.read(self.paths)["last_reminded"].get(project.key)
            return RemindResult(
                project=project.name,
                project_root=project.key,
                settings=ReminderSettings(**merged),
                scope="default" if global_default else "project",
                last_reminded=last,
            )

    # --- maintenance runs -----------------------------------------------------------------

    def record_maintenance(
        self,
        cwd: Path | str,
        *,
        command: str,
        status: str,
        results: Any = None,
        notes: str | None = None,
        session_id: str | None = None,
    ) -> MaintenanceResult:
        if not command.strip() or not status.strip():
            raise ClaudeSessionError("A maintenance run needs a command name and a status.")
        with self._collecting():
            project = resolve(cwd)
            sid = self._session_id(session_id, project, create=True)
            assert sid is not None
            entry = self._ensure_ledger(project, sid, source="cli", state=self._state(project))
            run = MaintenanceRun(
                command=command.strip(),
                status=status.strip(),
                results=redact_data(results),
                notes=redact_data(notes),
            )
            flow.current().saw_redactions(count_markers(run.model_dump_json()))
            entry.maintenance_runs.append(run)
            entry.security_findings.extend(security_findings(run))
            self._save_ledger(entry)
            return MaintenanceResult(
                project=project.name,
                session_id=sid,
                run=run,
                warnings=self._warnings,
                redacted=self._redacted,
            )
