"""The active-session ledger: one small JSON file per session under ``claude-session/ledger/``.

One file per session keeps hooks cheap (the Stop hook rewrites a few hundred bytes per turn) and
keeps concurrent sessions from contending for one lock. Standard library only: hooks use it; the
core reads entries through ``models.LedgerEntry``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from claude_session.base import flow
from claude_session.base.statefile import StateFile, move_aside
from claude_session.paths import Paths, file_stem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Entry = dict[str, Any]
__all__ = ["Entry", "edit", "entries", "entry_file", "file_stem", "get", "pid_alive", "prune"]


def _validate(data: Entry) -> Entry:
    if not isinstance(data.get("session_id"), str) or not isinstance(data.get("project_root"), str):
        raise ValueError("ledger entry without session_id or project_root")
    return data


def entry_file(paths: Paths, session_id: str) -> StateFile:
    return StateFile(paths.ledger_entry(session_id), validate=_validate, lock_timeout=5.0)


def get(paths: Paths, session_id: str) -> Entry | None:
    data = entry_file(paths, session_id).read()
    return data if data.get("session_id") == session_id else None


@contextmanager
def edit(paths: Paths, session_id: str) -> Iterator[Entry]:
    """Lock, load (empty dict if new), yield for in-place changes, write back."""
    with entry_file(paths, session_id).update() as data:
        yield data


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
        data = json.loads(path.read_text("utf-8"))
        return _validate(data) if isinstance(data, dict) else None
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError):
        flow.warn(move_aside(path, "not a ledger entry"))
        return None


def pid_alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune(paths: Paths, *, older_than_days: float = 7.0) -> int:
    """Delete closed entries whose session ended long ago; every SessionStart hook reads the
    folder, so it must not grow with every session ever run. Returns how many went."""
    from datetime import timedelta

    from claude_session.base.clock import now, parse_time

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
    return removed
