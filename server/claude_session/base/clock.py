"""Time helpers shared by the core and the hooks. Standard library only.

Timestamps are stored as ISO-8601 strings in UTC. ``parse_time`` also reads the ``Z`` suffix
other tools write, which ``datetime.fromisoformat`` accepts only from Python 3.11 on.
"""

from __future__ import annotations

from datetime import datetime, timezone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing


def now() -> datetime:
    return datetime.now(timezone.utc)


def now_iso() -> str:
    return now().isoformat()


def as_utc(moment: datetime | None = None) -> datetime:
    """``moment`` (or now) as an aware UTC datetime; a naive one is taken to be UTC already
    (the 1Password SDK's datetimes are naive UTC)."""
    if moment is None:
        return now()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO-8601 string or datetime; None for anything else."""
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
