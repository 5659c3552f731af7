"""pause (seed: "/pause"): the work in flight saved, so that a later session picks it up.

A WIP context file (what the model wrote, plus what claude-session collects), optionally a WIP
commit, the project's entry in ``pause-state.json``, and with ``handoff`` the ClaudeSync item.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from claude_session.base import context as ctxmod
from claude_session.base import flow
from claude_session.base.clock import new_id
from claude_session.base.redact import redact_data
from claude_session.base.state import pause as pausestate
from claude_session.base.statefile import atomic_write
from claude_session.core import commits, handoffs, records, steps
from claude_session.core.gitstate import WorkingState
from claude_session.core.project import Project, resolve
from claude_session.core.services import Services
from claude_session.errors import GitError, NoActiveSession
from claude_session.models import LedgerEntry, PauseEntry, PauseResult


def pause(
    services: Services,
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
    secrets = (
        commits.refuse_secret(
            commits.first_line(summary),
            allow=allow_secret,
            what="WIP commit message (the summary's first line)",
        )
        if wip_commit
        else []
    )
    with services.call(), contextlib.ExitStack() as turn:
        project = resolve(cwd)
        sid = steps.session_id(services, session_id, project, create=True)
        assert sid is not None
        turn.enter_context(steps.session_turn(services, sid))  # a racing end waits (N48)
        _refuse_ended(services, sid)
        state = steps.working_state(project)
        entry = steps.open_entry(services, project, sid, source="cli", state=state)
        # fixed now: the session that resumes this pause names this record as continued
        entry.record_id = entry.record_id or new_id()
        ctx = steps.build_context(
            services,
            project,
            kind="pause",
            session_id=sid,
            state=state,
            entry=entry,
            summary=summary,
            accomplishments=accomplishments,
            next_steps=next_steps,
            notes=note or "",
        )
        path = steps.write_context(services, ctx)
        wip_sha = None
        if wip_commit and not project.in_git:
            flow.warn(
                f"--wip-commit did nothing: {project.root} is not a git repository, so there "
                f"is nothing to commit. The pause is saved."
            )
        elif wip_commit:
            wip_sha, state = _wip_commit(services, project, summary, state, ctx, path, entry)
            commits.secret_committed(secrets, wip_sha)
        saved = _save_pause(services, project, state, path, entry, wip_sha, summary, note)
        records.send_paused(
            services,
            project,
            entry,
            ending_branch=state.branch,
            commits_count=len(ctx.commits) + (1 if wip_sha else 0),
            files_changed=ctx.files_changed,
            summary=summary,
            accomplishments=accomplishments or [],
            next_steps=next_steps or [],
            head=state.head,
        )
        steps.save_ledger(services, entry)
        item_title = prompt = None
        if handoff:
            item_title, prompt = handoffs.create(
                services, project, sid, state, path, kind="handoff"
            )
            if item_title:
                pausestate.patch(services.paths, project.key, {"handoff_item": item_title})
        return steps.result(
            PauseResult,
            project,
            branch=saved.branch,
            session_id=sid,
            context_file=str(path),
            wip_commit=wip_sha,
            handoff_item=item_title,
            transfer_prompt=prompt,
        )


def _refuse_ended(services: Services, session_id: str) -> None:
    """A session that end closed stays closed: pausing it would open it again and record it
    a second time (redteam N48: a pause racing the end). Nothing is written before this."""
    entry = steps.ledger_entry(services, session_id)
    if entry is not None and entry.status == "ended":
        raise NoActiveSession(
            f"Session {session_id} has ended (its record is made): nothing was paused. "
            "Run `claude-session start` to begin a new session, then pause that one."
        )


def _wip_commit(
    services: Services,
    project: Project,
    summary: str,
    state: WorkingState,
    ctx: ctxmod.Context,
    path: Path,
    entry: LedgerEntry,
) -> tuple[str | None, WorkingState]:
    """The WIP commit, and the context file rewritten to name it and to say the tree as it is
    after it (its files are committed, not dirty; it is one of the session's commits)."""
    try:
        sha = commits.wip_commit(services, project, summary, state)
    except GitError as exc:
        flow.warn(f"No WIP commit; the pause is saved without one. {exc}")
        return None, state
    if sha is None:
        return None, state
    entry.wip_commits.append(sha)
    state = steps.working_state(project)
    ctx.notes = (
        ctx.notes + f"\n\nWIP commit {sha[:10]} holds the work in progress; `end` squashes it "
        "into the end commit while it is not pushed."
    ).strip()
    if state.known:
        ctx.head, ctx.branch = state.head, state.branch
        ctx.dirty_files, ctx.untracked_files = list(state.dirty_files), list(state.untracked_files)
    ctx.commits, ctx.files_changed = steps.session_git(project, entry)
    atomic_write(path, ctxmod.render(ctx))
    return sha, state


def _save_pause(
    services: Services,
    project: Project,
    state: WorkingState,
    path: Path,
    entry: LedgerEntry,
    wip_sha: str | None,
    summary: str,
    note: str | None,
) -> PauseEntry:
    """The project's pause entry, and the ledger entry that says the session paused."""
    pause = pausestate.new_entry(
        project=project.name,
        project_root=project.key,
        repository_url=project.record_url,
        branch=state.branch,
        head=state.head,
        context_file=str(path),
        paused_at=services.now().isoformat(),
        session_id=entry.session_id,
        wip_commit=wip_sha,
        note=redact_data(note),
        summary=redact_data(summary),
        repository=project.repository,
        record_id=entry.record_id,
    )
    pausestate.put(services.paths, project.key, pause)
    saved = PauseEntry.model_validate(pause)
    entry.context_id = path.stem
    entry.summary = redact_data(summary) or entry.summary
    entry.paused_at = saved.paused_at
    steps.save_ledger(services, entry)
    return saved
