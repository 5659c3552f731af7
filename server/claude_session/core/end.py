"""end (seed: "/end" and its "Handoff Decision"): the session's work committed and pushed,
its context saved, its record made and delivered, its ledger entry closed.

``mode``: standard (same machine), handoff (continue on claude.ai: a ClaudeSync item with the
context and the transfer prompt) or sync (another machine: the context in the vault). Each step
is named below; the record is fixed in the ledger before it is sent, so that from there a crash
loses nothing and a re-run makes no second record.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from claude_session.base import flow
from claude_session.base.clock import new_id
from claude_session.base.redact import redact_data
from claude_session.base.state import pause as pausestate
from claude_session.core import commits, continued, handoffs, records, steps
from claude_session.core.gitstate import WipRun, WorkingState
from claude_session.core.project import Project, resolve
from claude_session.core.services import Services
from claude_session.errors import ClaudeSessionError, NoActiveSession
from claude_session.models import EndResult, LedgerEntry, SessionRecord
from claude_session.vocab import END_MODES, EndMode


def end(
    services: Services,
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
    keep_wip: bool = False,
) -> EndResult:
    end_mode = _end_mode(mode)
    with services.call(), contextlib.ExitStack() as turn:
        project = resolve(cwd)
        sid = steps.session_id(services, session_id, project, create=True)
        assert sid is not None
        turn.enter_context(steps.session_turn(services, sid))  # a racing pause waits (N48)
        state = steps.working_state(project)
        entry = _open_session(services, project, sid, state, force=force, transcript=transcript)
        wip = _wip_to_squash(project, entry, keep=keep_wip)
        sha, state = _commit(project, state, message, summary, allow_secret=allow_secret, wip=wip)
        squashed = _squashed(services, entry, wip) if sha else []
        ctx = steps.build_context(
            services,
            project,
            kind="handoff" if end_mode == "handoff" else "end",
            session_id=sid,
            state=state,
            entry=entry,
            summary=summary,
            accomplishments=accomplishments,
            next_steps=next_steps,
        )
        path = steps.write_context(services, ctx)
        entry.context_id = path.stem
        pushed = commits.push_outcome(project, push, publish=end_mode == "sync")
        item_title = prompt = None
        if end_mode == "sync" and project.in_git and not pushed.pushed:
            handoffs.refuse_sync(services, pushed.detail)
        elif handoffs.wanted(services, end_mode):
            item_title, prompt = handoffs.create(
                services, project, sid, state, path, kind=end_mode, end_mode=end_mode
            )
        record = records.make(
            services,
            project,
            entry,
            ending_branch=state.branch,
            commits_count=len(ctx.commits),  # measured once for the context (push adds none)
            files_changed=ctx.files_changed,
            summary=summary,
            accomplishments=accomplishments or [],
            next_steps=next_steps or [],
            mode=end_mode,
        )
        _fix_record(services, entry, record)
        outcome, detail = records.deliver(services, record)
        _close(services, project, entry, record, summary)
        return steps.result(
            EndResult,
            project,
            session_id=sid,
            mode=end_mode,
            record=record,
            context_file=str(path),
            commit=sha,
            pushed=pushed.pushed,
            push_detail=pushed.detail,
            push_status=pushed.status,
            tracker=outcome,
            tracker_detail=detail,
            handoff_item=item_title,
            transfer_prompt=prompt if end_mode == "handoff" else None,
            squashed_wip=squashed,
        )


def _end_mode(mode: str) -> EndMode:
    for known in END_MODES:
        if mode == known:
            return known
    raise ClaudeSessionError(f"Unknown end mode {mode!r}: use {', '.join(END_MODES)}.")


def _open_session(
    services: Services,
    project: Project,
    session_id: str,
    state: WorkingState,
    *,
    force: bool,
    transcript: str | None,
) -> LedgerEntry:
    """The session's open ledger entry, its record id fixed before anything is sent (re-runs
    never duplicate); nothing to end, unless ``force``, is a refusal before any commit."""
    entry = steps.ledger_entry(services, session_id)
    if continued.reopened(entry):
        assert entry is not None
        continued.tell(entry)
        entry = steps.open_entry(services, project, session_id, source=entry.source, state=state)
    elif entry is None or entry.status not in ("active", "ending"):
        if not force:
            raise NoActiveSession(
                f"No session is open in {project.root} ("
                + ("it ended already" if entry else "nothing was started")
                + "): nothing was committed or recorded. Run `claude-session start` first, or "
                "`claude-session end --force` to record a session that starts now."
            )
        flow.warn("No start was recorded for this session; its duration counts from now.")
        entry = steps.open_entry(services, project, session_id, source="cli", state=state)
    entry.record_id = entry.record_id or new_id()
    if transcript:
        entry.transcript_path = transcript
    steps.save_ledger(services, entry)
    return entry


def _wip_to_squash(project: Project, entry: LedgerEntry, *, keep: bool) -> WipRun | None:
    """The unpushed WIP commits the end commit takes in (by default), asked of git only when
    this session made or picked up one; those kept are said."""
    if not project.in_git or not entry.wip_commits:
        return None
    wip = commits.unpushed_wip(project)
    if keep and wip.shas:
        flow.warn(f"{_wip_words(wip.shas)} kept as made (--keep-wip).")
        return None
    pushed = [
        sha for sha in entry.wip_commits if sha not in wip.shas and commits.in_history(project, sha)
    ]
    if pushed:
        flow.warn(
            f"{_wip_words(pushed)} stays in the history as made: it was pushed already, or "
            f"commits were made on top of it (only unpushed WIP commits at the top are squashed)."
        )
    return wip if wip.shas else None


def _wip_words(shas: list[str]) -> str:
    return f"WIP commit{'s' if len(shas) > 1 else ''} " + ", ".join(sha[:10] for sha in shas)


def _squashed(services: Services, entry: LedgerEntry, wip: WipRun | None) -> list[str]:
    """The WIP commits the end commit replaced; a session that started on one of them now
    counts from the commit under them (its work is in the end commit)."""
    if wip is None:
        return []
    if entry.starting_head in wip.shas:
        entry.starting_head = wip.base
    entry.wip_commits = []
    steps.save_ledger(services, entry)
    return wip.shas


def _commit(
    project: Project,
    state: WorkingState,
    message: str | None,
    summary: str,
    *,
    allow_secret: bool,
    wip: WipRun | None = None,
) -> tuple[str | None, WorkingState]:
    """Commit the work (a clean tree, as status just said, needs no git for it, unless WIP
    commits are squashed into it): the commit's sha, and the working state after it."""
    if not project.in_git or (state.known and not state.changed and wip is None):
        return None, state
    text = (message or "").strip() or commits.first_line(summary)
    secrets: list[str] = []
    if state.changed or wip is not None:  # a commit will be made: check its message first
        secrets = commits.refuse_secret(
            text,
            allow=allow_secret,
            what="commit message"
            if message
            else "commit message (the summary's first line; give --message to choose another)",
        )
    sha, after = commits.end_commit(project, text, before=state, squash=wip)
    commits.secret_committed(secrets, sha)
    if after is not None:
        return sha, after
    if sha is not None or not state.known:
        return sha, steps.working_state(project)
    return sha, state


def _fix_record(services: Services, entry: LedgerEntry, record: SessionRecord) -> None:
    """One write makes the record the ledger's: 'ending' with the record in it. From here a
    crash loses nothing (the SessionEnd hook or the next sync spools this very record; a
    re-run of end makes it again with its id), and the hooks never finalize the session into
    an 'unended' record that would overwrite it."""
    entry.status = "ending"
    entry.record = record.model_dump(mode="json")
    steps.save_ledger(services, entry)


def _close(
    services: Services, project: Project, entry: LedgerEntry, record: SessionRecord, summary: str
) -> None:
    """This session's pause (or the one it resumed) is over, and its ledger entry ends;
    another session's pause in this project stays for whoever resumes it (redteam N49)."""
    pausestate.clear_of(services.paths, project.key, entry.session_id)
    entry.status = "ended"
    entry.ended_at = record.ended_at
    entry.summary = redact_data(summary) or entry.summary
    steps.save_ledger(services, entry)
