"""The MCP server's stdin: each line is parsed by the standard library before the SDK sees it.

The SDK's stdio reader parses lines with pydantic's JSON parser, which refuses a lone surrogate
(``"\\ud800"``, valid JSON) and nesting near 200 levels; it then drops the request without an
answer or a log line, and Claude Code waits until its timeout (redteam M5). Here ``json`` reads
each line first: lone surrogates become U+FFFD and the clean message goes on; a message nested
deeper than :data:`~claude_session.base.text.MAX_DEPTH` is answered at once with a JSON-RPC error
(and logged). Lines that are not JSON reach the SDK unchanged, which ignores them as before.
Only the read side is ours: streams, stdout and the protocol stay the SDK's ``stdio_server``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import IO, Any, cast

from claude_session.base.text import MAX_DEPTH, clean_data, may_hold_lone_surrogate, too_deep

log = logging.getLogger(__name__)

Reply = dict[str, Any]
INVALID_REQUEST = -32600
_SPACE = re.compile(r"[ \t\n\r]*")


def screen(line: str) -> tuple[str | None, Reply | None]:
    """One line from the client: ``(line to pass on, None)`` or ``(None, error reply)``."""
    try:
        message = json.loads(line)
    except RecursionError:
        message, deep = None, True
    except ValueError:
        return line, None
    else:
        deep = too_deep(message)
    if deep:
        if isinstance(message, dict) and "id" not in message:
            log.warning("MCP notification dropped: nested deeper than %d levels", MAX_DEPTH)
            return None, None  # a notification gets no answer
        ident = message.get("id") if isinstance(message, dict) else _top_level_id(line)
        if not isinstance(ident, str) and type(ident) is not int:
            ident = None
        shown = repr(ident)[:40]
        log.warning("MCP request %s refused: nested deeper than %d levels", shown, MAX_DEPTH)
        return None, {
            "jsonrpc": "2.0",
            "id": ident,
            "error": {
                "code": INVALID_REQUEST,
                "message": f"The request nests deeper than {MAX_DEPTH} levels; nothing was done. "
                f"Send flatter arguments (e.g. results as a list of findings).",
            },
        }
    if may_hold_lone_surrogate(line):
        log.info("MCP message: lone surrogates replaced by U+FFFD")
        return json.dumps(clean_data(message)), None
    return line, None


def _top_level_id(line: str) -> Any:
    """The ``id`` of a message too deep for ``json``: scan the outer object's keys only."""
    decoder = json.JSONDecoder()
    depth, i = 0, 0
    while i < len(line):
        char = line[i]
        if char == '"':
            try:
                text, i = decoder.raw_decode(line, i)  # a string: no recursion
            except ValueError:
                return None
            colon = _SPACE.match(line, i).end()  # type: ignore[union-attr]
            if depth == 1 and text == "id" and line.startswith(":", colon):
                start = _SPACE.match(line, colon + 1).end()  # type: ignore[union-attr]
                if line.startswith(("[", "{"), start):
                    return None
                try:
                    return decoder.raw_decode(line, start)[0]
                except ValueError:
                    return None
            continue
        depth += char in "[{"
        depth -= char in "]}"
        i += 1
    return None


def _claim_stdin() -> tuple[IO[bytes], Callable[[], None]]:
    """Read the client from a private copy of fd 0 and point fd 0 at the null device, so that no
    child process (git, ...) reads the protocol: what the SDK's own reader does."""
    try:
        private = os.dup(0)  # not inherited by children (PEP 446)
    except OSError:
        return sys.stdin.buffer, lambda: None
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        try:
            os.dup2(null, 0)
        finally:
            os.close(null)
    except OSError:
        os.close(private)
        return sys.stdin.buffer, lambda: None

    def restore() -> None:
        os.dup2(private, 0)

    # closefd=False: a worker thread may still block in a read on it after the server stops.
    return os.fdopen(private, "rb", closefd=False), restore


class _Replies:
    """The SDK's write stream, with its answers to what ``front`` (``edges.mcp.front.Front``)
    already answered held back (and shown to the front, which caches them)."""

    def __init__(self, inner: Any, front: Any) -> None:
        self._inner = inner
        self._front = front

    async def send(self, item: Any, /) -> None:
        message = item.message
        ident = getattr(message, "id", None)
        if type(message).__name__ in ("JSONRPCResponse", "JSONRPCError") and self._front.wants(
            ident
        ):
            wire = message.model_dump_json(by_alias=True, exclude_unset=True)  # as sent
            if not self._front.outgoing(ident, wire):
                return
        await self._inner.send(item)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _Replies:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        return cast("bool | None", await self._inner.__aexit__(*exc))


@asynccontextmanager
async def stdio_streams(front: Any = None) -> AsyncIterator[tuple[Any, Any]]:
    """The SDK's ``stdio_server`` streams, fed by the screened reader: of fd 0, or of what
    ``front`` (``edges.mcp.front.Front``, which answered the client first) passes on."""
    import anyio
    import mcp_types
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage

    if front is not None:
        buffer, restore = front.source, front.close
        front.handover()  # stdio_server takes stdout next
    else:
        buffer, restore = _claim_stdin()
    source = anyio.wrap_file(io.TextIOWrapper(buffer, encoding="utf-8", errors="replace"))
    replies: list[Any] = []  # the write stream, once stdio_server has made it
    ready = anyio.Event()

    async def lines() -> AsyncIterator[str]:
        async for line in source:
            forward, reply = screen(line)
            if forward is not None:
                yield forward
            elif reply is not None:
                await ready.wait()
                message = mcp_types.jsonrpc_message_adapter.validate_python(reply, by_name=False)
                try:
                    await replies[0].send(SessionMessage(message))
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    log.warning("MCP error reply not sent: the server is closing")

    try:
        async with stdio_server(stdin=cast(Any, lines())) as (read_stream, write_stream):
            replies.append(write_stream)
            ready.set()
            yield read_stream, (write_stream if front is None else _Replies(write_stream, front))
    finally:
        restore()


def run(server: Any, front: Any = None) -> None:
    """Serve ``server`` (an ``MCPServer``) over stdio with the screened reader (behind
    ``front``, an ``edges.mcp.front.Front`` that reads the client, when given)."""
    import anyio

    # The SDK's own in-memory Client reaches the low-level server the same way.
    lowlevel = getattr(server, "_lowlevel_server", None)
    if lowlevel is None:
        log.warning(
            "this mcp version has no _lowlevel_server; serving with the SDK's reader, "
            "which drops requests holding lone surrogates"
        )
        if front is not None:
            log.error("this mcp version cannot be served behind the start-up front; upgrade mcp")
        server.run()
        return

    async def serve() -> None:
        async with stdio_streams(front) as (read_stream, write_stream):
            await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())

    anyio.run(serve)
