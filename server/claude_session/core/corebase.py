"""What every flow of ``Core`` stands on: settings and paths, the backends (created once,
under a lock), the per-call flow state, typed access to the state files, context files and the
session's git measurements. The flows themselves are in ``lifecycle`` (the seed's), ``claudesync``
(the round trip through the vault) and ``upkeep`` (status, history, sync).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from claude_session.base import context as ctxmod
from claude_session.base import flow, sessions
from claude_session.base.redact import count_markers, describe
from claude_session.base.state import ledger, pausestate
from claude_session.base.statefile import atomic_write
from claude_session.config import Settings
from claude_session.core import git
from claude_session.core.project import Project
from claude_session.errors import (
    ContextMissing,
    GitError,
)
from claude_session.models import (
    LedgerEntry,
    PauseEntry,
    new_id,
    utcnow,
)
from claude_session.paths import Paths

if TYPE_CHECKING:  # the backends import SQLAlchemy and the 1Password SDK: only when used
    from claude_session.tracker.base import Tracker
    from claude_session.tracker.delivery import Delivery
    from claude_session.vault.base import Vault

log = logging.getLogger(__name__)
_B = TypeVar("_B", "Vault | None", "Tracker | None")
_Self = TypeVar("_Self", bound="CoreBase")


class CoreBase:
    """Settings, state and backends of one machine's claude-session."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        vault: Vault | None = None,
        tracker: Tracker | None = None,
    ) -> None:
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

                self._tracker = self._adopt(
                    open_tracker(self.settings, self.paths, resolve_secret=self._tracker_secret)
                )
            assert self._tracker is not None
            return self._tracker

    def _tracker_secret(self, reference: str) -> str:
        """The key an ``op://`` tracker setting names, read from 1Password within the seconds a
        tracker call may take (the tracker package does not import the vault)."""
        from claude_session.tracker.client import DEFAULT_BUDGET
        from claude_session.vault.secretref import resolve_secret

        return resolve_secret(reference, self.settings, timeout=DEFAULT_BUDGET)

    @property
    def delivery(self) -> Delivery:
        from claude_session.tracker.delivery import Delivery

        return Delivery(self.paths, self.tracker)

    def close(self) -> None:
        for thing in (self._vault, self._tracker):
            if thing is not None:
                thing.close()
        self._vault = self._tracker = None

    def __enter__(self: _Self) -> _Self:
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
        """The flow's warnings, ending with what redaction removed from what it saved (read
        when the result is made, after everything was saved)."""
        current = flow.current()
        told = describe(current.redacted)
        return [*current.warnings, *([f"Redaction: {told} from what was saved."] if told else [])]

    @property
    def _redacted(self) -> dict[str, int]:
        return dict(flow.current().redacted)

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
            self._warn(
                f"The pause entry for {project.root} in {self.paths.pause_state} is "
                f"malformed and was ignored; edit or remove it by hand."
            )
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
        open_ = ledger.entries(
            self.paths, project_root=project.key, status="active", warnings=self._warnings
        ) or ledger.entries(self.paths, project_root=project.key, status="ending")
        if open_:
            return str(open_[0]["session_id"])
        return new_id() if create else None

    def _ensure_ledger(
        self, project: Project, session_id: str, *, source: str, state: git.WorkingState | None
    ) -> LedgerEntry:
        entry = self._ledger(session_id)
        now = utcnow()
        if entry is None or entry.status not in ("active", "ending"):
            entry = LedgerEntry(
                session_id=session_id,
                project=project.name,
                project_root=project.key,
                repository_url=project.record_url,
                started_at=now,
                source=source,
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
        text = ctxmod.render(ctx)
        flow.current().saw_redactions(count_markers(text))
        atomic_write(path, text)
        whole = ctxmod.render(ctx, budget=10**9, list_limit=10**6)
        if whole != text:  # cut to its size budget: the whole text is kept beside it
            kept = path.with_name(f"{path.stem}.full.txt")
            atomic_write(kept, whole)
            self._warn(
                f"The context was cut to its size budget ({len(text):,} of "
                f"{len(whole):,} characters); the whole text is kept in {kept}."
            )
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
            raise ContextMissing(
                f"The saved context file {path} cannot be read ({exc}). "
                f"Check its permissions and encoding."
            ) from exc

    def _session_git(
        self, project: Project, entry: LedgerEntry | None
    ) -> tuple[list[str], list[str]]:
        """This session's commits ('sha subject') and committed files, from its starting sha."""
        if not project.in_git or entry is None or not entry.starting_head:
            return [], []
        commits, files = sessions.measure_git(project.root, entry.starting_head)
        return [f"{sha[:7]} {subject}" for sha, subject in commits], files

    def _base_context(
        self,
        project: Project,
        *,
        kind: str,
        session_id: str,
        state: git.WorkingState | None,
        entry: LedgerEntry | None,
        summary: str,
        accomplishments: list[str],
        next_steps: list[str],
        notes: str,
    ) -> ctxmod.Context:
        commits, files = self._session_git(project, entry)
        return ctxmod.Context(
            project=project.name,
            kind=kind,
            created=utcnow(),
            branch=state.branch if state else None,
            head=state.head if state else None,
            session_id=session_id,
            repository=project.identity,
            summary=summary,
            accomplishments=list(accomplishments),
            next_steps=list(next_steps),
            notes=notes,
            dirty_files=list(state.dirty_files) if state else [],
            untracked_files=list(state.untracked_files) if state else [],
            stashes=list(state.stashes) if state else [],
            commits=commits,
            files_changed=files,
            maintenance_runs=[r.model_dump(mode="json") for r in entry.maintenance_runs]
            if entry
            else [],
        )
