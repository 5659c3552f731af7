"""Per-call state of a flow: the warnings (and redaction counts) one tool call or command
collects.

One ``Core`` serves a whole MCP server, whose SDK runs tool calls concurrently in worker
threads, so nothing a single call collects may live on the ``Core``. ``begin()`` makes a fresh
``Flow`` for the calling context (a ``ContextVar``: each thread and task has its own), and
``current()`` finds it from anywhere below: the core's helpers, the vault, the state files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Flow:
    """What one call collects; one object per call, compared by identity."""

    def __init__(
        self, warnings: list[str] | None = None, redacted: Counter[str] | None = None
    ) -> None:
        self.warnings: list[str] = [] if warnings is None else warnings
        self.redacted: Counter[str] = Counter() if redacted is None else redacted
        self.done: set[str] = set()
        #: what one call reads more than once and cannot change under it (a repository's
        #: origin URL): asked once per call; a throwaway flow (outside any call) keeps nothing
        self.memo: dict[tuple[str, str], object] = {}
        #: lines for the log alone (a transcript line skipped, a time budget spent: nothing
        #: went wrong for the person): a hook sets a list and writes it to hooks.log, so none
        #: reaches its stderr; None (the CLI, the server): to ``logging``, set up there
        self.notes: list[str] | None = None

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


def warn(message: str) -> None:
    """The one way a warning travels: into the calling flow, whose result shows it to the
    person (CLI text, ``--json``, MCP result, hook message); outside any flow, into the log."""
    flow = _current.get()
    if flow is not None:
        flow.warn(message)
    else:
        import logging  # not on the hooks' path: they always run inside a flow

        logging.getLogger(__name__).warning("%s", message)


def note(logger: str, message: str, *args: object) -> None:
    """A line for the log alone (``Flow.notes``), as ``logging``'s ``warning`` takes it."""
    flow = _current.get()
    if flow is not None and flow.notes is not None:
        flow.notes.append(message % args if args else message)
        return
    import logging  # not on the hooks' path: they keep notes

    logging.getLogger(logger).warning(message, *args)
