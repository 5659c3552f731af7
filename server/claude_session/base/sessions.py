"""A session's life in the ledger, shared by the hooks and the core. Standard library only.

A ledger entry is opened by whoever sees the session first (the SessionStart hook, or a flow
of the core), refreshed on each turn, and closed either by ``/end`` (the core builds the
record) or, for a session that ended without it, by ``finalize_session`` here: the record is
built from the entry, git (``gitread``) and the transcript, and spooled under
``claude-session/spool/`` for the core to deliver. Both paths build the record with
``record_fields`` and measure git with the same ``gitread`` functions, so a session's record
does not depend on how it ended.

Entries are plain dicts here; ``models.LedgerEntry`` is their typed form in the core.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from claude_session.base import flow, gitread
from claude_session.base.clock import new_id, now, parse_time
from claude_session.base.state import ledger, pause, spool
from claude_session.paths import Paths, project_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from claude_session.base.digest import Digest
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Entry = dict[str, Any]
#: how long a finalization may spend reading one transcript
TRANSCRIPT_BUDGET = 3.0


def claude_pid() -> int:
    """The Claude Code process: our parent, or its parent when a shell sits between us."""
    pid = os.getppid()
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        if comm in ("sh", "bash", "dash", "zsh"):
            stat = Path(f"/proc/{pid}/stat").read_text()
            return int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return pid


# --- measuring a session ------------------------------------------------------------------------


def measure_git(root: Path, starting_head: str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """This session's commits (sha, subject) and changed files since its starting head."""
    return gitread.session_range(root, starting_head)


def session_start(entry: Entry) -> str | None:
    """Where the session's commits start: its starting head, or ``gitread.FROM_ROOT`` for a
    session that began on a branch with no commit yet (a new repository: its first commit is
    the session's), None when nothing can be counted (outside git)."""
    head = entry.get("starting_head")
    if head:
        return str(head)
    return gitread.FROM_ROOT if entry.get("starting_branch") else None


def record_fields(
    entry: Entry,
    *,
    record_id: str,
    ended_at: str,
    repository_url: str | None,
    ending_branch: str | None,
    commits_count: int,
    files_changed: list[str],
    usage: Any,
    summary: str,
    accomplishments: list[str],
    next_steps: list[str],
    mode: str,
    machine: str | None,
    paths: Paths | None = None,
) -> Entry:
    """The session record (SessionRecord's shape, plain JSON) from a ledger entry and what was
    measured at its end: the one place both /end and the hooks' finalization build it (its
    cost at the prices in force for ``paths``)."""
    from claude_session.base import pricing  # only when a record is made

    started = parse_time(entry.get("started_at")) or now()
    ended = parse_time(ended_at) or started
    return {
        "id": record_id,
        "application_name": entry.get("project") or project_name(Path(entry["project_root"])),
        "repository_url": repository_url,
        "claude_session_id": entry["session_id"],
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "duration_minutes": max(0, round((ended - started).total_seconds() / 60)),
        "starting_branch": entry.get("starting_branch"),
        "ending_branch": ending_branch,
        "commits_count": commits_count,
        "context_id": entry.get("context_id"),
        "session_source": entry.get("source") or "claude-code",
        "tokens_input": usage.input if usage else 0,
        "tokens_output": usage.output if usage else 0,
        "tokens_cache_creation": usage.cache_creation if usage else 0,
        "tokens_cache_read": usage.cache_read if usage else 0,
        "summary": summary or entry.get("summary") or "",
        "accomplishments": accomplishments,
        "next_steps": next_steps,
        "files_changed": files_changed,
        "maintenance_runs": entry.get("maintenance_runs") or [],
        "security_findings": entry.get("security_findings") or [],
        "machine": machine,
        "end_mode": mode,
        "continues": entry.get("continues"),
        **pricing.record_cost(usage, paths),
    }


def transcript_usage(
    path: object, session_id: str | None, *, budget: float = TRANSCRIPT_BUDGET
) -> Any:
    """Token usage from a transcript path (checked again on every use: a regular file, read
    with a bounded size and time); None without a usable path."""
    if not path or not isinstance(path, str):
        return None
    from claude_session.base.tokens import usage_from_transcript

    return usage_from_transcript(Path(path), session_id=session_id, budget=budget)


def session_digest(
    entry: Entry,
    *,
    in_git: bool = True,
    commits: list[tuple[str, str]] | None = None,
    budget: float | None = None,
    earlier: list[str] | None = None,
) -> Digest:
    """The model-free digest of a session's stretch from its transcript (read from where the
    stretch starts, ``stretch.offset``) and git (``commits``: the session's, when the caller
    has them already; ``budget``: seconds of transcript reading, the digest's own by default;
    ``earlier``: message ids earlier records billed, whose lines and all before them belong
    to those records, as in a forked transcript's copied history)."""
    from claude_session.base import digest, stretch  # only when a session is finalized

    root = Path(str(entry["project_root"]))
    return digest.build(
        entry.get("transcript_path"),
        start=stretch.offset(entry),
        earlier=earlier,
        session_id=str(entry["session_id"]),
        root=root,
        starting_head=session_start(entry) if in_git else None,
        commits=commits,
        budget=digest.BUDGET if budget is None else budget,
    )


def build_unended_record(
    entry: Entry,
    ended_at: str,
    *,
    made: Digest | None = None,
    usage: Any = None,
    continues: str | None = None,
    paths: Paths | None = None,
) -> Entry:
    """The record of a session that ended without /end (plain dict, SessionRecord's shape):
    its summary, accomplishments and edited files come from the session's digest (a pause's
    own summary, when it paused, comes first); ``usage``: the stretch's (``stretch.count``),
    else the whole transcript's."""
    root = Path(str(entry["project_root"]))
    head = gitread.git_head(root)
    commits, files = measure_git(root, session_start(entry)) if head else ([], [])
    made = made or session_digest(entry, in_git=head is not None, commits=commits)
    paused = bool(entry.get("paused_at"))
    summary = made.summary(
        heading="Paused, then ended without /end." if paused else "Ended without /end."
    )
    if entry.get("summary"):
        summary = f"{entry['summary']}\n\n{summary}"
    if usage is None:
        usage = transcript_usage(entry.get("transcript_path"), str(entry["session_id"]))
    return record_fields(
        {**entry, "continues": continues or entry.get("continues")},
        record_id=entry.get("record_id") or new_id(),
        ended_at=ended_at,
        repository_url=entry.get("repository_url")
        or (gitread.origin_url(root) if head else None)
        or root.as_uri(),
        ending_branch=(head[1] if head else None) or entry.get("starting_branch"),
        commits_count=len(commits),
        files_changed=list(dict.fromkeys([*files, *made.files])),
        usage=usage,
        summary=summary,
        accomplishments=made.accomplishments(),
        next_steps=[],
        mode="paused" if paused else "unended",
        machine=None,
        paths=paths,
    )


def derived_record_id(entry: Entry) -> str:
    """A record id derived from the session: a finalize redone after a kill spools the same
    record again instead of a second one."""
    import uuid

    return str(
        uuid.uuid5(
            uuid.NAMESPACE_URL, f"claude-session:{entry['session_id']}:{entry.get('started_at')}"
        )
    )


# --- sessions that ended without /end -----------------------------------------------------------


def finalize_session(
    paths: Paths, session_id: str, *, ended_at: str | None = None, budget: float | None = None
) -> bool:
    """Close an open ledger entry and spool its record; False if it was not open.

    The next session is told where this one stood: the digest is also written as a context
    file (kind ``unended``) with a pause-like entry naming it, the record id it continues and
    the branch and head, unless the project holds a real pause (``snapshots.leave_note``).

    ``budget`` (the SessionEnd hook's, which must finish within its deadline whatever the
    transcript's size) bounds the transcript reading in seconds; when the transcript could not
    be read within it, nothing is closed (False): the entry stays open, with its end time, for
    the next start or ``sync`` to finalize with their own, larger budgets (N19)."""
    with ledger.edit(paths, session_id) as entry:
        if "session_id" not in entry:
            return False
        if entry.get("status") == "ending" and isinstance(entry.get("record"), dict):
            return _finish_ending(paths, entry)
        if entry.get("status", "active") != "active":
            return False
        if not entry.get("record_id"):
            entry["record_id"] = derived_record_id(entry)
        when = ended_at or str(entry.get("ended_hint") or "") or None
        when = when or str(entry.get("last_activity") or entry.get("started_at"))
        root = Path(str(entry["project_root"]))
        head = gitread.git_head(root)
        from claude_session.base import stretch  # only when a session is finalized

        # the digest reads less of the transcript than the token count does
        reads = (None, stretch.BUDGET) if budget is None else (budget / 3, budget * 2 / 3)
        usage, continues = stretch.count(
            paths, entry, record_id=entry["record_id"], budget=reads[1]
        )
        made = session_digest(
            entry,
            in_git=head is not None,
            budget=reads[0],
            earlier=usage.earlier if usage else None,
        )
        if budget is not None and not (made.complete and (usage is None or usage.complete)):
            entry["ended_hint"] = when  # the next finalization keeps this end time
            return False
        record = build_unended_record(
            entry, when, made=made, usage=usage, continues=continues, paths=paths
        )
        entry["status"] = "finalized"
        entry["ended_at"] = when
        if stretch.is_empty(entry, usage, record["commits_count"]):
            entry["record_id"] = entry.get("continues")  # a later resume continues that one
            return True
        folded = stretch.fold_tail(paths, entry, usage, record["commits_count"])
        if folded is not None:  # the quiet tail of a pause: that record, completed
            spool.put(paths, folded)
            entry["record_id"], entry["record"] = folded["id"], folded
            return True
        from claude_session.base import snapshots  # only when a session is finalized

        snapshots.leave_note(paths, entry, made, record, head=head, when=when)
        spool.put(paths, record)
        stretch.bill(paths, str(entry["session_id"]), str(entry["record_id"]), usage)
    return True


def _finish_ending(paths: Paths, entry: Entry) -> bool:
    """An ``end`` that stopped after it wrote its record into the ledger (a crash, a kill):
    the record is spooled as ``end`` made it, never replaced by an unended one, and the pause
    that ``end`` would have cleared is cleared. The caller holds the entry's lock."""
    record = dict(entry["record"])
    _complete_tokens(paths, entry, record)
    spool.put(paths, record)
    current = pause.get(paths, str(entry["project_root"]))
    sid = entry["session_id"]
    if current is not None and sid in (current.get("session_id"), current.get("resumed_by")):
        pause.clear(paths, str(entry["project_root"]))
    entry["status"] = "ended"
    entry["ended_at"] = record.get("ended_at")
    return True


# --- the whole bill: the /end turn's own tokens ------------------------------------------------


def _complete_tokens(paths: Paths, entry: Entry, record: Entry) -> bool:
    """Count the stretch's transcript again into ``record`` (and the entry's copy of it); True
    when the totals grew. A transcript that is gone or shorter never lowers what was recorded."""
    from claude_session.base import stretch  # only when a record is counted again

    record_id = str(record.get("id") or entry.get("record_id"))
    usage, _continues = stretch.count(paths, entry, record_id=record_id)
    if usage is None:
        return False
    counted = stretch.token_fields(usage)
    if sum(counted.values()) <= sum(int(record.get(k) or 0) for k in counted):
        return False
    from claude_session.base import pricing

    record.update(counted, **pricing.record_cost(usage, paths))
    entry["record"] = record
    stretch.bill(paths, str(entry["session_id"]), record_id, usage)
    return True


def settle_tokens(paths: Paths, session_id: str, *, final: bool) -> bool:
    """Complete an ended session's record with the tokens its transcript holds now (the
    ``/end`` turn is written after ``end`` counted): the same record id is spooled again and
    the tracker updates it. ``final`` (Claude Code has exited) stops further counting. True
    when a completed record was spooled."""
    with ledger.edit(paths, session_id) as entry:
        if (
            entry.get("status") != "ended"
            or entry.get("tokens_settled")
            or not isinstance(entry.get("record"), dict)
        ):
            return False
        record = dict(entry["record"])
        grew = _complete_tokens(paths, entry, record)
        if grew:
            spool.put(paths, record)
        if final:
            entry["tokens_settled"] = True
    return grew


def is_orphan(
    entry: Entry, *, current_pid: int | None = None, stale: timedelta = timedelta(hours=12)
) -> bool:
    """True when the session's Claude Code is gone (or silent for long)."""
    pid = entry.get("claude_pid")
    last = parse_time(entry.get("last_activity") or entry.get("started_at"))
    silent = last is None or now() - last > stale
    if isinstance(pid, int) and pid > 0:
        if current_pid is not None and pid == current_pid:
            return True  # the same Claude Code moved on to a new session (/clear, /resume)
        # a live pid that has been silent for a week is a reused pid, not our Claude Code
        return not ledger.pid_alive(pid) or (silent and now() - (last or now()) > timedelta(days=7))
    return silent


def finalize_orphans(
    paths: Paths,
    *,
    project_root: str | None,
    keep: str | None,
    current_pid: int | None = None,
) -> list[str]:
    """Finalize every open session (of one project, or all) whose Claude Code is gone; one
    that fails is told to the calling flow and the others go on."""
    done = []
    for entry in [
        *ledger.entries(paths, project_root=project_root, status="active"),
        *ledger.entries(paths, project_root=project_root, status="ending"),
    ]:
        sid = str(entry["session_id"])
        if sid != keep and is_orphan(entry, current_pid=current_pid):
            try:
                if finalize_session(paths, sid):
                    done.append(sid)
            except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the others
                flow.warn(f"could not finalize session {sid}: {exc}")
    return done


def settle_ended(paths: Paths, *, keep: str | None = None) -> list[str]:
    """Complete the tokens of every ended session whose record may still lack its last turn;
    a session whose Claude Code is gone is settled for good. Returns the sessions resent."""
    resent = []
    for entry in ledger.entries(paths, status="ended"):
        sid = str(entry["session_id"])
        if entry.get("tokens_settled") or not isinstance(entry.get("record"), dict):
            continue
        try:
            if settle_tokens(paths, sid, final=sid != keep and is_orphan(entry)):
                resent.append(sid)
        except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the others
            flow.warn(f"could not complete the tokens of session {sid}: {exc}")
    return resent
