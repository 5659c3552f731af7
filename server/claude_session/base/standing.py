"""Where a session stands, in a few words for the person: what the SessionStart hook's line,
the reminders and ``claude-session statusline`` share. Standard library only, read-only.

Everything here reads state without taking a lock and without writing anything: state files
are replaced by atomic renames, so a read sees the old file or the new one, and a status line
that runs after every message must never move a file aside or create one. What does not parse
reads as nothing. Text taken from state (a summary, a branch, an item title) is made one
terminal-safe line (``clean``) before it is shown: it may hold escape sequences.
"""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import datetime, timedelta
from pathlib import Path

from claude_session.base.state import outbox
from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: ``reminders.DEFAULTS`` (that module imports the locking state files, which a status line
#: never needs; a test keeps the two equal)
REMINDER_DEFAULTS: dict[str, Any] = {"enabled": False, "every_minutes": 30, "dirty_files": 10}
#: the largest state file read (pause-state.json with a thousand projects is ~0.5 MB)
MAX_STATE_BYTES = 8 * 1024 * 1024
# C0/C1 controls (ESC starts terminal escape sequences), line and paragraph separators,
# zero-width and bidirectional formatting characters
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")


def clean(text: object, limit: int) -> str:
    """``text`` as one line fit for a terminal: control characters gone, whitespace folded,
    at most ``limit`` characters (cut with an ellipsis)."""
    line = " ".join(_CONTROL.sub(" ", str(text if text is not None else "")).split())
    return line if len(line) <= limit else line[: max(0, limit - 1)].rstrip() + "…"


def first_line(text: object, limit: int) -> str:
    """The first non-blank line of ``text``, cleaned and cut to ``limit``."""
    for line in str(text if text is not None else "").splitlines():
        if line.strip():
            return clean(line, limit)
    return ""


def read_json(path: Path, *, limit: int = MAX_STATE_BYTES) -> dict[str, Any]:
    """A state file's JSON object; {} when it is missing, not a regular file, too big or not
    an object. Never blocks on a FIFO, never follows a symlink, never writes."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return {}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {}
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            return {}
        data = json.loads(b"".join(chunks))
    except (OSError, ValueError):
        return {}
    finally:
        os.close(fd)
    return data if isinstance(data, dict) else {}


def _project(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    projects = data.get("projects")
    entry = projects.get(key) if isinstance(projects, dict) else None
    return entry if isinstance(entry, dict) else None


# --- the pause, a claude.ai answer -------------------------------------------------------------


def open_pause(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The pause entry when it still waits to be picked up (not yet resumed)."""
    if not isinstance(entry, dict) or entry.get("resumed_by"):
        return None
    return entry


def pause_of(paths: Paths, key: str) -> dict[str, Any] | None:
    """The project's pause that waits to be resumed, read-only."""
    return open_pause(_project(read_json(paths.pause_state), key))


def answer_waiting(paths: Paths, key: str) -> str | None:
    """The title of the ClaudeSync item whose claude.ai answer waits (as the core last saw)."""
    entry = _project(read_json(paths.handoff_cache), key)
    if entry is None or not entry.get("waiting"):
        return None
    return clean(entry.get("item") or "a ClaudeSync item", 60)


# --- records on their way to the tracker --------------------------------------------------------


def outbox_counts(paths: Paths) -> dict[str, int]:
    """Records kept in the tracker outbox, by state, and ``failing`` (``state/outbox.counts``);
    {} when it cannot be read."""
    return outbox.counts(paths.outbox_db) or {}


def spooled(paths: Paths) -> int:
    """Records the hooks spooled for the core to deliver (moved to the outbox by its next
    command)."""
    try:
        with os.scandir(paths.spool) as found:
            return sum(1 for e in found if e.name.endswith(".json") and not e.name.startswith("."))
    except OSError:
        return 0


def records_text(
    counts: dict[str, int], *, spool: int = 0, short: bool = False, stuck: bool = False
) -> str | None:
    """``2 records not yet in the tracker (1 refused)``; None when nothing waits. ``stuck``:
    records simply waiting count only while the tracker is failing (otherwise the next
    command sends them: they are on their way, not stuck)."""
    refused = int(counts.get("rejected") or 0)
    keyless = int(counts.get("auth_failed") or 0)
    waiting = int(counts.get("pending") or 0) + spool
    if stuck and not counts.get("failing"):
        waiting = 0
    total = waiting + refused + keyless
    if total <= 0:
        return None
    why = [f"{refused} refused"] if refused else []
    if keyless:
        why.append(f"{keyless} waiting for a valid key")
    noun = "record" if total == 1 else "records"
    text = f"{total} {noun} for the tracker" if short else f"{total} {noun} not yet in the tracker"
    return text + (f" ({', '.join(why)})" if why else "")


# --- reminders -----------------------------------------------------------------------------------


def _positive(value: object, default: int) -> int:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default
    return number if number >= 1 else default


def reminder_reasons(
    settings: dict[str, Any], *, current: datetime, last_save: datetime | None, dirty: int | None
) -> list[str]:
    """Why a reminder to pause or commit is due under ``settings`` (remind-state's merged
    settings for a project): time since the last commit or pause, uncommitted files. [] when
    none is, or reminders are off."""
    if not settings.get("enabled"):
        return []
    every = timedelta(minutes=_positive(settings.get("every_minutes"), 30))
    reasons = []
    if last_save is not None and current - last_save >= every:
        reasons.append(
            f"{int((current - last_save).total_seconds() // 60)} min since the last commit or pause"
        )
    if dirty is not None and dirty >= _positive(settings.get("dirty_files"), 10):
        reasons.append(f"{dirty} uncommitted files")
    return reasons


def duration(minutes: int) -> str:
    """``42 min``, ``1 h 05 min``, ``3 days``."""
    if minutes < 60:
        return f"{max(0, minutes)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // 1440} days"
