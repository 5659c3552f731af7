"""Where a session stands, in a few words for the person: the wording the SessionStart hook's
line and ``claude-session statusline`` share. Standard library only.

Text taken from state (a summary, a branch, an item title) is made one terminal-safe line
(``clean``) before it is shown: it may hold escape sequences. (The state itself is read by each
file's owner in ``state/``, lock-free with ``peek``.)
"""

from __future__ import annotations

import re

from claude_session.base.state import outbox
from claude_session.paths import Paths

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


# --- records on their way to the tracker --------------------------------------------------------


def outbox_counts(paths: Paths) -> dict[str, int]:
    """Records kept in the tracker outbox, by state, and ``failing`` (``state/outbox.counts``);
    {} when it cannot be read."""
    return outbox.counts(paths.outbox_db) or {}


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


def _positive(value: object, default: int) -> int:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default
    return number if number >= 1 else default


def duration(minutes: int) -> str:
    """``42 min``, ``1 h 05 min``, ``3 days``."""
    if minutes < 60:
        return f"{max(0, minutes)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // 1440} days"
