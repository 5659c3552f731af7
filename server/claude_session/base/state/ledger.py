"""The active-session ledger: one small JSON file per session under ``claude-session/ledger/``.

One file per session keeps hooks cheap (the Stop hook rewrites a few hundred bytes per turn) and
keeps concurrent sessions from contending for one lock. The one owner of an entry's shape:
``new_entry`` builds one (``models.LedgerEntry`` is its typed form in the core, validated from
this dict), ``touch`` and ``merge_save`` are the locked read-modify-writes of a session's life,
and ``peek`` reads an entry without a lock for the status line. An unreadable entry is moved
aside on its own and told to the calling flow. Standard library only: hooks use it.

A session goes on after its record was made when Claude Code resumes, continues or forks its
transcript: each stretch gets its own record that ``continues`` the one before. What the records
of a session have billed so far (the message ids of the model responses they counted) is kept
beside its entry, in ``<session>.billed``, so that a later stretch counts only its own responses,
in the same transcript or in a forked copy of it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from claude_session.base import gitread
from claude_session.base.bounded import read_regular
from claude_session.base.clock import now_iso, parse_time
from claude_session.base.state.lockfree import read_json
from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from claude_session.base.statefile import StateFile
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Entry = dict[str, Any]
#: keys a hook refreshes while a flow of the core runs; a flow's save keeps the newer value
HOOK_KEYS = ("transcript_path", "claude_pid", "compact_context")


def new_entry(
    *,
    session_id: str,
    project: str,
    project_root: str,
    branch: str | None,
    head: str | None,
    source: str,
    repository_url: str | None = None,
    started_at: str | None = None,
) -> Entry:
    """The one shape of a new ledger entry (``head``: kept only when it is an object id;
    ``started_at``: now, unless given)."""
    return {
        "session_id": session_id,
        "project": project,
        "project_root": project_root,
        "repository_url": repository_url,
        "started_at": started_at or now_iso(),
        "starting_branch": branch,
        "starting_head": head if gitread.is_oid(head) else None,
        "source": source,
        "status": "active",
        "maintenance_runs": [],
        "security_findings": [],
    }


def _validate(data: Entry) -> Entry:
    if not isinstance(data.get("session_id"), str) or not isinstance(data.get("project_root"), str):
        raise ValueError("ledger entry without session_id or project_root")
    return data


def _file(paths: Paths, session_id: str) -> StateFile:
    # imported here: ``peek`` (the status line) never loads the locking writer
    from claude_session.base.statefile import StateFile

    return StateFile(paths.ledger_entry(session_id), validate=_validate, lock_timeout=5.0)


def get(paths: Paths, session_id: str) -> Entry | None:
    data = _file(paths, session_id).read()
    return data if data.get("session_id") == session_id else None


def peek(paths: Paths, session_id: str) -> Entry | None:
    """The session's entry without a lock and without writing (``lockfree``); None when there
    is none or it is not this session's."""
    data = read_json(paths.ledger_entry(session_id))
    return data if data.get("session_id") == session_id else None


@contextmanager
def edit(paths: Paths, session_id: str) -> Iterator[Entry]:
    """Lock, load (empty dict if new), yield for in-place changes, write back."""
    with _file(paths, session_id).update() as data:
        yield data


#: the statuses of an entry whose record was made: a resume starts a new stretch after them
CLOSED = ("ended", "finalized")


def touch(
    paths: Paths,
    fresh: Entry,
    *,
    transcript_path: str | None = None,
    pid: int | None = None,
    restart: bool = False,
) -> Entry:
    """Open (from ``fresh``) or refresh a session's entry; ``restart`` starts a new stretch when
    the entry was already closed (a resumed, continued or cleared conversation): its record will
    continue the closed one. Returns the entry."""
    with edit(paths, fresh["session_id"]) as entry:
        if restart and entry.get("status", "active") in CLOSED:
            before = entry.get("record_id")
            entry.clear()
            entry.update(fresh)
            if isinstance(before, str) and before:
                entry["continues"] = before
            entry.update(stretch_start(transcript_path))
        if "session_id" not in entry:
            entry.update(fresh)
        entry["last_activity"] = now_iso()
        if transcript_path:
            entry["transcript_path"] = str(transcript_path)
        if pid is not None:
            entry["claude_pid"] = pid
        return dict(entry)


def stretch_start(transcript_path: object) -> Entry:
    """The entry's fields that say where a stretch starting now begins in its transcript (the
    digest of the stretch reads from there): the path and its size now; both None without a
    regular file."""
    from claude_session.base import transcript

    offset = transcript.end_offset(transcript_path)
    if offset is None:
        return {"stretch_transcript": None, "stretch_offset": None}
    return {"stretch_transcript": str(transcript_path), "stretch_offset": offset}


def merge_save(paths: Paths, new: Entry) -> None:
    """Write a flow's entry, keeping what a hook wrote since the flow read it (the Stop hook
    refreshes the transcript path and last activity while a flow runs)."""
    with edit(paths, new["session_id"]) as data:
        for key in HOOK_KEYS:
            if new.get(key) is None and data.get(key) is not None:
                new[key] = data[key]
        theirs = parse_time(data.get("last_activity"))
        ours = parse_time(new.get("last_activity"))
        if theirs and (ours is None or theirs > ours):
            new["last_activity"] = data["last_activity"]
        data.clear()
        data.update(new)


def entries(
    paths: Paths,
    *,
    project_root: str | None = None,
    status: str | None = None,
) -> list[Entry]:
    """All readable entries, newest start first; unreadable ones are moved aside (told to the
    calling flow)."""
    found: list[Entry] = []
    try:
        names = os.listdir(paths.ledger)
    except FileNotFoundError:
        return found
    for name in names:
        if not name.endswith(".json") or name.startswith("."):
            continue
        entry = _load(paths.ledger / name)
        if entry is None:
            continue
        if project_root is not None and entry.get("project_root") != project_root:
            continue
        if status is not None and entry.get("status", "active") != status:
            continue
        found.append(entry)
    found.sort(key=lambda e: str(e.get("started_at", "")), reverse=True)
    return found


def _load(path: Path) -> Entry | None:
    try:
        data = json.loads(read_regular(path).decode("utf-8"))
        return _validate(data) if isinstance(data, dict) else None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        from claude_session.base import flow  # the failure path: not on the status line's
        from claude_session.base.statefile import move_aside

        flow.warn(move_aside(path, f"not a ledger entry: {exc}"))
        return None


# --- what a session's records have billed ------------------------------------------------------


def _billed_file(paths: Paths, session_id: str) -> Path:
    return paths.ledger_entry(session_id).with_suffix(".billed")


def _billed_records(paths: Paths, session_id: str) -> dict[str, list[str]]:
    """Record id -> the message ids it billed, for one session (oldest record first); {} when
    none was made or the file is unreadable (a stretch then counts its whole transcript)."""
    data = read_json(_billed_file(paths, session_id))
    records = data.get("records")
    if data.get("session_id") != session_id or not isinstance(records, dict):
        return {}
    return {
        str(rid): [i for i in ids if isinstance(i, str)]
        for rid, ids in records.items()
        if isinstance(ids, list)
    }


def add_billed(paths: Paths, session_id: str, record_id: str, ids: list[str]) -> None:
    """Add message ids to those a record of ``session_id`` billed (the caller holds the entry's
    lock; a record counted again, as when its tokens are settled, adds what is new)."""
    from claude_session.base.statefile import atomic_write

    records = _billed_records(paths, session_id)
    records[record_id] = list(dict.fromkeys([*records.pop(record_id, []), *ids]))
    data = {"session_id": session_id, "records": records}
    atomic_write(_billed_file(paths, session_id), json.dumps(data))


def billed_by(paths: Paths, ids: list[str], *, but: str | None = None) -> dict[str, str]:
    """Message id -> the record that billed it, for those of ``ids`` any session's records
    billed (a resumed transcript goes on after them; a forked one starts with a copy of
    them); the record ``but`` (the one being counted again) does not count."""
    wanted = set(ids)
    found: dict[str, str] = {}
    try:
        names = os.listdir(paths.ledger) if wanted else []
    except FileNotFoundError:
        return found
    for name in names:
        if not name.endswith(".billed"):
            continue
        data = read_json(paths.ledger / name)
        records = data.get("records")
        if not isinstance(records, dict):
            continue
        for record_id, known in records.items():
            if record_id != but and isinstance(known, list):
                found.update(
                    (i, str(record_id))
                    for i in wanted.intersection(k for k in known if isinstance(k, str))
                )
    return found


def pid_alive(pid: int | None) -> bool:
    """True when a process with this pid exists. The pid comes from a ledger file, which may
    hold anything: a pid no system can have (past the C int range) is not alive."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def prune(paths: Paths, *, older_than_days: float = 7.0) -> int:
    """Delete closed entries whose session ended long ago; every SessionStart hook reads the
    folder, so it must not grow with every session ever run. Returns how many went."""
    from datetime import timedelta

    from claude_session.base.clock import now

    cutoff = now() - timedelta(days=older_than_days)
    removed = 0
    for entry in entries(paths):
        if entry.get("status", "active") not in ("ended", "finalized"):
            continue
        ended = parse_time(entry.get("ended_at"))
        if ended is not None and ended < cutoff:
            with contextlib.suppress(FileNotFoundError):
                paths.ledger_entry(str(entry["session_id"])).unlink()
                removed += 1
            with contextlib.suppress(FileNotFoundError):
                _billed_file(paths, str(entry["session_id"])).unlink()
    return removed
