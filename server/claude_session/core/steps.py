"""The steps the flows share: which session a call belongs to, its ledger entry, the project's
pause entry and working state, the session's commits, and its context files.

Each step takes the ``Services`` of the call. State files are read and written through their
owners in ``base.state``; the pydantic models validate what those owners hold.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from claude_session.base import bounded, flow, sessions
from claude_session.base import context as ctxmod
from claude_session.base.clock import new_id
from claude_session.base.redact import count_markers, describe
from claude_session.base.state import ledger
from claude_session.base.state import pause as pausestate
from claude_session.base.statefile import atomic_write, file_lock, move_aside
from claude_session.core import repository
from claude_session.core.gitstate import WorkingState
from claude_session.core.project import Project
from claude_session.core.services import Services
from claude_session.errors import ContextMissing, GitError, StateError
from claude_session.models import FlowResult, LedgerEntry, PauseEntry
from claude_session.vocab import ContextKind

R = TypeVar("R", bound=FlowResult)


# --- results --------------------------------------------------------------------------------


def warnings() -> list[str]:
    """The call's warnings, ending with what redaction removed from what it saved (read when
    the result is made, after everything was saved)."""
    current = flow.current()
    told = describe(current.redacted)
    return [*current.warnings, *([f"Redaction: {told} from what was saved."] if told else [])]


def result(cls: type[R], project: Project, **fields: Any) -> R:
    """A flow's result: the project, the call's warnings and (where the model has them) the
    secrets removed, with the flow's own fields."""
    if "redacted" in cls.model_fields:
        fields.setdefault("redacted", dict(flow.current().redacted))
    return cls(project=project.name, project_root=project.key, warnings=warnings(), **fields)


# --- the session and its ledger entry -------------------------------------------------------


def session_id(
    services: Services, explicit: str | None, project: Project, *, create: bool
) -> str | None:
    """The explicit id, else Claude Code's, else this project's open session, else a new one."""
    if explicit:
        return explicit
    if services.settings.session_id:
        return services.settings.session_id
    open_ = ledger.entries(
        services.paths, project_root=project.key, status="active"
    ) or ledger.entries(services.paths, project_root=project.key, status="ending")
    if open_:
        return str(open_[0]["session_id"])
    return new_id() if create else None


#: seconds a pause or end waits for another one of the same session to finish (an end may
#: wait on a commit hook, a push and the tracker)
TURN_WAIT = 120.0


@contextlib.contextmanager
def session_turn(services: Services, session_id: str) -> Iterator[None]:
    """One pause or end at a time per session, across processes and threads (an flock,
    gone with its process). Without it a pause that read the entry before an end closed it
    wrote it back open, and the session was recorded twice (redteam N48)."""
    stem = services.paths.ledger_entry(session_id).stem
    try:
        with file_lock(services.paths.ledger / f"{stem}.turn", timeout=TURN_WAIT):
            yield
    except StateError as exc:
        if "locked by another" not in str(exc):
            raise
        raise StateError(
            f"Another claude-session command is still pausing or ending session {session_id} "
            f"after {TURN_WAIT:.0f} s; nothing was done here. Try again when it has finished."
        ) from exc


def ledger_entry(services: Services, session_id: str) -> LedgerEntry | None:
    raw = ledger.get(services.paths, session_id)
    if raw is None:
        return None
    try:
        return LedgerEntry.model_validate(raw)
    except ValueError:
        flow.warn(f"The ledger entry of session {session_id} is malformed and was ignored.")
        return None


def save_ledger(services: Services, entry: LedgerEntry) -> None:
    """Write the entry, keeping what a hook wrote since we read it (the Stop hook refreshes
    the transcript path and last activity while a flow runs)."""
    ledger.merge_save(services.paths, entry.model_dump(mode="json"))


def open_entry(
    services: Services,
    project: Project,
    session_id: str,
    *,
    source: str,
    state: WorkingState,
) -> LedgerEntry:
    """The session's open ledger entry (a new one when it has none open), touched now."""
    entry = ledger_entry(services, session_id)
    now = services.now()
    if entry is None or entry.status not in ("active", "ending"):
        closed = entry  # a session going on after its record: the stretch starts here
        entry = LedgerEntry.model_validate(
            ledger.new_entry(
                session_id=session_id,
                project=project.name,
                project_root=project.key,
                repository_url=project.record_url,
                started_at=now.isoformat(),
                source=source,
                branch=state.branch,
                head=state.head,
            )
            | ledger.stretch_start(closed.transcript_path if closed else None)
        )
        if closed is not None and closed.continued_by:  # its pause was resumed elsewhere
            entry.continues = closed.record_id
    if entry.repository_url is None:
        entry.repository_url = project.record_url  # entries the SessionStart hook made lack it
    if entry.starting_head is None and state.head and not entry.starting_branch:
        # (an entry with a branch and no head began before the first commit: it counts from
        # the root, sessions.session_start)
        entry.starting_head = state.head
        entry.starting_branch = state.branch
    entry.last_activity = now
    return entry


def continues(entry: LedgerEntry, pause: PauseEntry) -> None:
    """This session picks up the pause (or the unended session) of another one: its record
    will name that session's record, so the tracker shows one chain. Its WIP commit becomes
    this session's to squash at the end; the session's own pause ends (its time is not in the
    duration)."""
    if pause.wip_commit and pause.wip_commit not in entry.wip_commits:
        entry.wip_commits.append(pause.wip_commit)
    if pause.session_id == entry.session_id and entry.continues == pause.record_id:
        # its own pause ends: the stretch after it starts now, so no record holds the time
        # it was paused
        entry.started_at = entry.last_activity or entry.started_at
    if (
        pause.record_id
        and pause.record_id != entry.record_id
        and pause.session_id != entry.session_id
    ):
        entry.continues = pause.record_id


# --- the pause entry ------------------------------------------------------------------------


def pause_entry(services: Services, project: Project) -> PauseEntry | None:
    """The project's pause entry (read only)."""
    raw = pausestate.get(services.paths, project.key)
    if raw is None:
        return None
    try:
        return PauseEntry.model_validate(raw)
    except ValueError:
        flow.warn(
            f"The pause entry for {project.root} in {services.paths.pause_state} is "
            f"malformed and was ignored; edit or remove it by hand."
        )
        return None


def find_pause(services: Services, project: Project) -> PauseEntry | None:
    """The project's pause, also when it was saved under the folder the repository had before
    it moved: the pause then moves to this folder (start and resume)."""
    return pause_entry(services, project) or _moved_pause(services, project)


def _moved_pause(services: Services, project: Project) -> PauseEntry | None:
    if not project.repository:
        return None
    raw = pausestate.find_by_repository(services.paths, project.repository)
    if raw is None or raw.get("project_root") == project.key:
        return None
    old_root = str(raw["project_root"])
    moved = pausestate.move(services.paths, old_root, project.key)
    if moved is None:
        return None
    flow.warn(
        f"The pause was saved at {old_root}; the repository is now at {project.key} "
        f"and the pause moved with it."
    )
    return PauseEntry.model_validate(moved)


# --- git ------------------------------------------------------------------------------------


def working_state(project: Project) -> WorkingState:
    """Branch, head and changes; ``unknown`` outside git or when git cannot say (warned)."""
    if not project.in_git:
        return WorkingState.unknown(project.root)
    try:
        state = repository.working_state(project.root)
    except GitError as exc:
        flow.warn(f"Git state unavailable: {exc}")
        state = None
    return state or WorkingState.unknown(project.root)


def session_git(project: Project, entry: LedgerEntry | None) -> tuple[list[str], list[str]]:
    """This session's commits ('sha subject') and committed files, from its starting sha."""
    start = (
        sessions.session_start(
            {"starting_head": entry.starting_head, "starting_branch": entry.starting_branch}
        )
        if entry
        else None
    )
    if not project.in_git or start is None:
        return [], []
    commits, files = sessions.measure_git(project.root, start)
    return [f"{sha[:7]} {subject}" for sha, subject in commits], files


# --- context files --------------------------------------------------------------------------


def build_context(
    services: Services,
    project: Project,
    *,
    kind: ContextKind,
    session_id: str,
    state: WorkingState,
    entry: LedgerEntry | None,
    summary: str = "",
    accomplishments: list[str] | None = None,
    next_steps: list[str] | None = None,
    notes: str = "",
) -> ctxmod.Context:
    """The session's context: what the model wrote, and what claude-session collects itself
    (working state, this session's commits and files, its maintenance runs)."""
    commits, files = session_git(project, entry)
    ctx = ctxmod.build(
        kind,
        project=project.name,
        session_id=session_id,
        tree=state if state.known else None,
        created=services.now(),
        repository=project.identity,
        summary=summary,
        accomplishments=accomplishments or (),
        next_steps=next_steps or (),
        notes=notes,
        commits=commits,
        files_changed=files,
        maintenance_runs=[r.model_dump(mode="json") for r in entry.maintenance_runs]
        if entry
        else (),
    )
    ctx.insights = earlier_insights(services, entry)
    return ctx


def earlier_insights(services: Services, entry: LedgerEntry | None) -> str:
    """The claude.ai insights of the context this session continued from (a merged answer, a
    pause that carried them): kept in every later context (newcomer-2.md 2.13)."""
    if entry is None or not entry.context_id:
        return ""
    try:
        text = (services.paths.contexts / f"{entry.context_id}.md").read_text("utf-8")
        return ctxmod.parse(text).insights
    except (OSError, UnicodeDecodeError, ValueError):
        return ""


def write_context(services: Services, ctx: ctxmod.Context) -> Path:
    """Save the context in its size budget; the whole text, when cut, is kept beside it."""
    path = services.paths.contexts / ctxmod.context_file_name(ctx.project, ctx.kind, ctx.created)
    text = ctxmod.render(ctx)
    flow.current().saw_redactions(count_markers(text))
    atomic_write(path, text)
    whole = ctxmod.render(ctx, budget=10**9, list_limit=10**6)
    if whole != text:
        kept = path.with_name(f"{path.stem}.full.txt")
        atomic_write(kept, whole)
        flow.warn(
            f"The context was cut to its size budget ({len(text):,} of "
            f"{len(whole):,} characters); the whole text is kept in {kept}."
        )
    return path


def paused_context(services: Services, pause: PauseEntry) -> str:
    """The paused context to work from: its file, or, when the file is missing or unreadable,
    what the pause entry holds (summary, note, where and when), with the missing file and what
    was lost with it named (SPEC section 3: no reason to refuse)."""
    try:
        return read_context(pause.context_file)
    except ContextMissing as exc:
        flow.warn(
            f"{exc} The session goes on from what the pause entry holds (its summary, note, "
            f"branch and commit); the next steps, accomplishments and working state the file "
            f"listed are lost with it."
        )
    notes = [pause.note or ""]
    if pause.wip_commit:
        notes.append(f"WIP commit {pause.wip_commit[:10]} holds the work in progress.")
    notes.append(
        f"Paused {pause.paused_at:%Y-%m-%d %H:%M} UTC. The context file {pause.context_file} "
        f"is missing: this is what the pause entry holds."
    )
    ctx = ctxmod.build(
        "pause",
        project=pause.project,
        session_id=pause.session_id,
        tree=None,
        created=pause.paused_at,
        repository=pause.repository,
        summary=pause.summary,
        notes="\n\n".join(note for note in notes if note),
    )
    ctx.branch, ctx.head = pause.branch, pause.head
    return ctxmod.render(ctx)


def read_context(path: str) -> str:
    """A saved context file's text, read bounded (never through a link, never a FIFO): one
    that is not a small regular file is moved aside and said so."""
    try:
        return bounded.read_text(path)
    except bounded.NotStateFile as exc:
        raise ContextMissing(
            move_aside(Path(path), str(exc))
            + " Its pause can be cleared with `claude-session start --on-mismatch stay` or "
            "`claude-session end`."
        ) from None
    except FileNotFoundError:
        raise ContextMissing(
            f"The saved context file {path} is missing (moved or deleted)."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContextMissing(
            f"The saved context file {path} cannot be read ({exc}). "
            f"Check its permissions and encoding."
        ) from exc
