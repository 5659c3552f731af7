"""Time helpers shared by the core and the hooks. Standard library only.

Timestamps are stored as ISO-8601 strings in UTC. ``parse_time`` also reads the ``Z`` suffix
other tools write, which ``datetime.fromisoformat`` accepts only from Python 3.11 on.

``datetime`` is imported by the functions that use it: the Stop hook, every turn, only stamps
``now_iso`` (see there).
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing


def now() -> datetime:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def now_iso() -> str:
    """``now().isoformat()``, the same text (microseconds, said only when not 0, and
    ``+00:00``), without importing ``datetime``: 1.0 ms of the Stop hook's start, every turn
    (``-X importtime``, min of 15); paired runs: ``bench_claude_code.py --hooks-only --compare
    datetime``, figures in the README's Performance section."""
    seconds, micro = divmod(time.time_ns() // 1000, 1_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{micro:06d}+00:00" if micro else f"{stamp}+00:00"


def as_utc(moment: datetime | None = None) -> datetime:
    """``moment`` (or now) as an aware UTC datetime; a naive one is taken to be UTC already
    (the 1Password SDK's datetimes are naive UTC)."""
    from datetime import timezone

    if moment is None:
        return now()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO-8601 string or datetime; None for anything else."""
    from datetime import datetime, timezone

    if isinstance(value, datetime):
        when = value
    else:
        text = str(value).strip() if value is not None else ""
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            when = datetime.fromisoformat(text)
        except (TypeError, ValueError):
            return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def ago(when: datetime | None) -> str:
    """'just now', '12 min ago', '3 h ago', '2 days ago'."""
    if when is None:
        return "some time ago"
    minutes = int((now() - when).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 90:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


def new_id() -> str:
    """A random record id (uuid4 text)."""
    import uuid  # imports platform and more: only when an id is made

    return str(uuid.uuid4())
