"""What Claude Code tells SessionStart about a resumed or forked session (2.1.2xx and later):
how long ago its last answer came, and, when its prompt cache has likely expired, how many
tokens the first request re-caches and at about what cost. A line for the person at start-up;
an older Claude Code sends none of these fields, and nothing is said. Standard library only."""

from __future__ import annotations

from datetime import timedelta

from claude_session.base.clock import ago, now

TYPE_CHECKING = False  # typing costs a hook's start-up time; only the type checker reads it
if TYPE_CHECKING:
    from typing import Any

#: the SessionStart sources that carry the fields
SOURCES = ("resume", "fork")
#: beyond these the values are not believed (a day of seconds * 10 years, a context, a bill)
_LIMITS = {
    "seconds_since_last_response": 10 * 366 * 86400,
    "context_tokens": 100_000_000,
    "estimated_cache_write_usd": 100_000,
}


def _number(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if 0 <= value <= _LIMITS[key] else None


def _tokens(count: float) -> str:
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    return f"{count / 1000:.0f}k" if count >= 1000 else f"{count:.0f}"


def _usd(amount: float) -> str:
    return "under $0.01" if amount < 0.01 else f"about ${amount:.2f}"


def resume_note(data: dict[str, Any]) -> str | None:
    """The start-up item for a resumed session whose prompt cache has likely expired, e.g.
    "resumed; its last answer was 3 h ago, so the first request re-caches 120k tokens (about
    $0.45)"; None otherwise (a fresh start, a warm cache, an older Claude Code)."""
    if data.get("source") not in SOURCES or data.get("prompt_cache_likely_expired") is not True:
        return None
    seconds = _number(data, "seconds_since_last_response")
    if seconds is None:
        return None
    said = f"resumed; its last answer was {ago(now() - timedelta(seconds=seconds))}"
    tokens = _number(data, "context_tokens")
    if not tokens:
        return f"{said}, so its prompt cache has likely expired"
    cost = _number(data, "estimated_cache_write_usd")
    return f"{said}, so the first request re-caches {_tokens(tokens)} tokens" + (
        f" ({_usd(cost)})" if cost is not None else ""
    )
