"""What 1Password's rate limit said, remembered across commands (findings/onepassword-2.md L4).

A service account has hourly limits per token and a daily limit per account, shared by every
service account (``docs/1password.md``), and failing requests may count against them too. So
after 1Password answers "rate limit", calling it again at every command (each one signs in
first) only spends the limit further. This memory, one small file in the state folder, makes the
commands that run by themselves (start, resume, status, the MCP server's start-up sync) skip
1Password until a wait has passed, and say so; ``claude-session sync`` (the one the messages
name) tries at once.

The wait. 1Password does not say when a limit resets, so it doubles from 1 minute for each
limit met in a row (within the last wait, or as long again after it), up to an hour: an hourly
limit is seen again within its hour, and a daily one costs at most a few attempts an hour. A
wait that has passed stops nothing; the next limit met starts it again.

The file holds no secret: entries are keyed by a short hash of the credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from claude_session.base import clock
from claude_session.vault import op_state

FILE_NAME = "1password-rate-limit.json"
FIRST_WAIT = 60.0
LONGEST_WAIT = 3600.0


@dataclass(frozen=True)
class Limited:
    """A rate limit met ``strikes`` times in a row, the last at ``since``: no call before
    ``until``."""

    since: datetime
    until: datetime
    strikes: int

    def active(self, now: datetime) -> bool:
        return now < self.until

    def told(self) -> str:
        return (
            f"1Password's rate limit was reached at {_hhmm(self.since)}, so claude-session "
            f"does not call it again before {_hhmm(self.until)} (failed calls count against "
            f"the limit too). Everything waits on this machine; `claude-session sync` tries "
            f"at once."
        )

    def after(self) -> str:
        """What to add to the message of the limit just met."""
        return (
            f"Commands do not call 1Password again before {_hhmm(self.until)}; "
            f"`claude-session sync` tries at once."
        )


def _hhmm(moment: datetime) -> str:
    return clock.as_utc(moment).strftime("%H:%M UTC")


class RateLimitMemory:
    """The rate limit of one set of credentials (``key``), in ``path``."""

    def __init__(self, path: Path, key: str, *, now: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self.key = key
        self._now = now

    def now(self) -> datetime:
        return self._now() if self._now is not None else clock.now()

    def load(self) -> Limited | None:
        """The last limit met (its wait passed or not), or None; an unreadable file is no
        memory."""
        entry = op_state.load(self.path).get(self.key)
        if not isinstance(entry, dict):
            return None
        try:
            return Limited(
                since=datetime.fromisoformat(entry["since"]),
                until=datetime.fromisoformat(entry["until"]),
                strikes=int(entry["strikes"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def hit(self) -> Limited:
        """A rate limit met now: the wait doubles from the last one in a row."""
        last = self.load()
        moment = clock.as_utc(self.now())
        # in a row: within the last wait, or as long again after it
        in_a_row = last is not None and moment < last.until + (last.until - last.since)
        strikes = last.strikes + 1 if last is not None and in_a_row else 1
        wait = min(FIRST_WAIT * 2 ** (strikes - 1), LONGEST_WAIT)
        limited = Limited(since=moment, until=moment + timedelta(seconds=wait), strikes=strikes)
        entries = op_state.load(self.path)
        entries[self.key] = {
            "since": limited.since.isoformat(),
            "until": limited.until.isoformat(),
            "strikes": strikes,
        }
        op_state.save(self.path, entries)
        return limited
