"""How long 1Password takes to answer here, remembered across commands, and the deadline a
command gets from it when the person chose none (findings/onepassword-2.md L7).

A command that makes a hand-off from a new process signs in and makes four calls. On a far or
slow link that takes longer than the 5 s default, and the hand-off waits for the next command,
reported as "1Password did not answer". So each command records how long its sign-in and its
first call took (one small write per command, in the state folder, keyed by a short hash of
the credentials), and the default deadline is twice what a sign-in and five calls take at the
median of the last ``KEPT`` commands: never below 5 s, never above ``LONGEST`` (a 1Password
that stopped answering still costs a bounded time). A deadline set by the person
(``CLAUDE_SESSION_OP_DEADLINE``, ``op_deadline``) is used as set.

Only answers are measured: a call that never answered says nothing about the link (the network
may be down), and counting it would make every command wait longer while it is. So a sign-in
slower than the whole deadline is not learned by a command that gives up on it (a long-lived
process, the MCP server, keeps that sign-in and measures it); the timeout message names the
setting for that case.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from claude_session.base.routines import DEFAULT_OP_DEADLINE
from claude_session.vault import op_state

FILE_NAME = "1password-latency.json"
KEPT = 20
CALLS = 5  # a hand-off from a new process: vault, listing, create, listing again (and sign-in)
MARGIN = 2.0
LONGEST = 30.0


class LatencyMemory:
    """The sign-in and call times measured with one set of credentials (``key``), in ``path``."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.key = key

    def samples(self) -> dict[str, list[float]]:
        """``sign_in`` and ``call`` seconds, oldest first; an unreadable file is none."""
        entry = op_state.load(self.path).get(self.key)
        if not isinstance(entry, dict):
            return {"sign_in": [], "call": []}
        return {name: _seconds(entry.get(name)) for name in ("sign_in", "call")}

    def record(self, *, sign_in: float | None, call: float) -> None:
        """One command's measures: its sign-in (None when the process had signed in already)
        and its first call that answered."""
        entries = op_state.load(self.path)
        kept = self.samples()
        if sign_in is not None:
            kept["sign_in"] = [*kept["sign_in"], round(sign_in, 3)][-KEPT:]
        kept["call"] = [*kept["call"], round(call, 3)][-KEPT:]
        entries[self.key] = kept
        op_state.save(self.path, entries)

    def deadline(self) -> float:
        """The seconds a command gets when the person chose none (see the module)."""
        measured = self.samples()
        if not measured["call"]:
            return DEFAULT_OP_DEADLINE
        sign_in = statistics.median(measured["sign_in"]) if measured["sign_in"] else 0.0
        need = sign_in + CALLS * statistics.median(measured["call"])
        return min(max(DEFAULT_OP_DEADLINE, MARGIN * need), LONGEST)


def _seconds(value: object) -> list[float]:
    if not isinstance(value, list):
        return []
    return [
        float(v)
        for v in value
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 3600
    ][-KEPT:]
