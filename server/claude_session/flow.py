"""Per-call state of a flow: the warnings (and redaction counts) one tool call or command
collects.

One ``Core`` serves a whole MCP server, whose SDK runs tool calls concurrently in worker
threads, so nothing a single call collects may live on the ``Core``. ``begin()`` makes a fresh
``Flow`` for the calling context (a ``ContextVar``: each thread and task has its own), and
``current()`` finds it from anywhere below: the core's helpers, the vault, the state files.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Flow:
    warnings: list[str] = field(default_factory=list)
    redacted: Counter[str] = field(default_factory=Counter)
    done: set[str] = field(default_factory=set)

    def first_time(self, step: str) -> bool:
        """True the first time a flow asks for ``step`` (a step done once per command)."""
        if step in self.done:
            return False
        self.done.add(step)
        return True

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def saw_redactions(self, kinds: Counter[str]) -> None:
        """Note what was removed from one thing the flow saved; the flow reports, per kind,
        the most removed from any one of them (the same secret is in the context file, the
        record and the hand-off item: it counts once)."""
        for kind, count in kinds.items():
            self.redacted[kind] = max(self.redacted[kind], count)


_current: ContextVar[Flow | None] = ContextVar("claude_session_flow", default=None)


@contextmanager
def begin() -> Iterator[Flow]:
    """A fresh flow for this call; nested calls (a flow calling another) share the outer one."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    flow = Flow()
    token = _current.set(flow)
    try:
        yield flow
    finally:
        _current.reset(token)


def current() -> Flow:
    """The calling context's flow (a throwaway one outside any flow)."""
    return _current.get() or Flow()


class WarningSink(list[str]):
    """A list that backends append their warnings to; each append lands in the flow of the
    call that made it. Given to the vault and tracker once, shared safely by every call."""

    def append(self, message: str) -> None:
        flow = _current.get()
        if flow is not None:
            flow.warn(message)
        else:
            log.warning("%s", message)

    def extend(self, messages: Iterable[str]) -> None:
        for message in messages:
            self.append(message)
