"""A scripted stand-in for the Anthropic Messages API, served over real HTTP on 127.0.0.1.

The real Claude Code client talks to it through ``ANTHROPIC_BASE_URL``. Each request that
offers ``tools`` (a conversation turn) consumes the next step of the script; requests without
tools (session titles and other side requests) get a short text and consume nothing. Every
request body is kept so a test can check what the model was given.

Like a real model, the scripted one loads a deferred tool before calling it: when a step calls a
tool the request does not offer but names among the deferred tools (Claude Code 2.1.2xx and later
defer MCP tools behind ``ToolSearch``), it answers ``ToolSearch`` with ``select:<name>`` first and
calls the tool in the next request (the step is not consumed). ``tool_searches`` counts these.

    with FakeAnthropic([tool_use("mcp__x__echo", {"text": "hi"}), text("ok")]) as api:
        run_claude("hi", base_url=api.base_url, ...)
        assert api.turn_requests[1]  # holds the tool_result
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

JSON = dict[str, Any]
DONE_TEXT = "done"
SEARCH_TOOL = "ToolSearch"
SIDE_TEXT = "Probe session"


@dataclass(frozen=True)
class Text:
    """A turn that answers with text and ends the turn."""

    text: str


@dataclass(frozen=True)
class ToolUse:
    """A turn that asks the client to run one tool, optionally after some text."""

    name: str
    input: JSON
    preamble: str = ""


@dataclass(frozen=True)
class Hold:
    """A turn held until the server is released or closed (to kill the client mid-turn)."""


Turn = Text | ToolUse | Hold
Step = Turn | Callable[[JSON], Turn]


def text(value: str) -> Text:
    return Text(value)


def tool_use(name: str, input: JSON, *, preamble: str = "") -> ToolUse:  # noqa: A002 - API name
    """A tool call; with ``preamble`` the message has two content blocks (text, then tool_use)."""
    return ToolUse(name, dict(input), preamble)


def hold() -> Hold:
    return Hold()


@dataclass(frozen=True)
class Usage:
    """Token counts of one response, as the API reports them."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int

    def as_json(self) -> JSON:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "service_tier": "standard",
        }


@dataclass(frozen=True)
class Response:
    """What the server answered to one /v1/messages request (to compare with transcripts)."""

    message_id: str
    request_id: str
    usage: Usage
    side: bool
    stream: bool


@dataclass
class Call:
    """One HTTP request the client made, whatever the route."""

    method: str
    path: str
    headers: dict[str, str]
    body: JSON | None = None


@dataclass
class _State:
    script: list[Step]
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    released: threading.Event = field(default_factory=threading.Event)
    calls: list[Call] = field(default_factory=list)
    requests: list[JSON] = field(default_factory=list)
    turn_requests: list[JSON] = field(default_factory=list)
    side_requests: list[JSON] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    searched: list[str] = field(default_factory=list)  # deferred tools loaded, in order

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)


class FakeAnthropic:
    """The scripted Messages API server; a context manager that serves on a free port."""

    def __init__(
        self, script: Iterable[Step] = (), *, model: str | None = None, event_delay: float = 0.0
    ) -> None:
        """``model`` answers as that model (default: the one asked for); ``event_delay`` spaces
        the streamed events out in time, as a real model does."""
        self.model = model
        self.event_delay = event_delay
        self._state = _State(script=list(script))
        self._ids = itertools.count(1)
        self._token = uuid.uuid4().hex[:8]  # ids stay unique across servers in one test
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeAnthropic:
        handler = type("Handler", (_Handler,), {"api": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="fake-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    # -- what the client sent ---------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self._state.lock:
            return list(self._state.calls)

    @property
    def requests(self) -> list[JSON]:
        """Every body POSTed to /v1/messages, side requests included, in order."""
        with self._state.lock:
            return list(self._state.requests)

    @property
    def turn_requests(self) -> list[JSON]:
        """Bodies of the requests that offered tools: one per conversation turn."""
        with self._state.lock:
            return list(self._state.turn_requests)

    @property
    def side_requests(self) -> list[JSON]:
        with self._state.lock:
            return list(self._state.side_requests)

    @property
    def responses(self) -> list[Response]:
        with self._state.lock:
            return list(self._state.responses)

    @property
    def errors(self) -> list[str]:
        """Failures inside the server (a bad scripted step, an unexpected route)."""
        with self._state.lock:
            return list(self._state.errors)

    @property
    def tool_searches(self) -> list[str]:
        """The deferred tools the scripted model loaded through ``ToolSearch``, in order."""
        with self._state.lock:
            return list(self._state.searched)

    def wait_for_turns(self, count: int, timeout: float = 30.0) -> list[JSON]:
        """Block until ``count`` turn requests arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._state.changed:
            while len(self._state.turn_requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"saw {len(self._state.turn_requests)} of {count} turns")
                self._state.changed.wait(left)
            return list(self._state.turn_requests)

    def release(self) -> None:
        """Let every held turn answer (with the ``done`` text)."""
        self._state.released.set()

    # -- answering ------------------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._state.changed:
            self._state.calls.append(call)
            self._state.changed.notify_all()

    def _next_turn(self, body: JSON) -> tuple[Turn, bool]:
        """The turn answering ``body`` and whether it is a side request."""
        side = not body.get("tools")
        with self._state.changed:
            self._state.requests.append(body)
            (self._state.side_requests if side else self._state.turn_requests).append(body)
            self._state.changed.notify_all()
            step: Step = (
                Text(SIDE_TEXT)
                if side
                else (self._state.script.pop(0) if self._state.script else Text(DONE_TEXT))
            )
        turn = step(body) if callable(step) else step
        if isinstance(turn, ToolUse) and _deferred(turn.name, body):
            with self._state.lock:
                self._state.searched.append(turn.name)
                self._state.script.insert(0, turn)  # the call decided now, made once loaded
            return ToolUse(SEARCH_TOOL, {"query": f"select:{turn.name}"}), side
        return turn, side

    def _answer(self, turn: Turn, body: JSON, side: bool) -> tuple[Response, list[JSON]]:
        """Number the answer: unique message, request and tool-use ids, and its usage."""
        n = next(self._ids)
        ids = f"{self._token}{n:04d}"
        content = _content(turn, ids)
        usage = _usage_for(body, content, n)
        response = Response(
            f"msg_fake{ids}", f"req_fake{ids}", usage, side, bool(body.get("stream"))
        )
        with self._state.lock:
            self._state.responses.append(response)
        return response, content

    def _fail(self, message: str) -> None:
        with self._state.lock:
            self._state.errors.append(message)


def _deferred(name: str, body: JSON) -> bool:
    """Whether ``name`` must be loaded through ``ToolSearch`` before this request can call it:
    not offered, but ``ToolSearch`` is, and the request names it (the deferred-tools list)."""
    offered = tool_names(body)
    if name in offered or SEARCH_TOOL not in offered or name not in request_text(body):
        return False
    # searched already in this conversation and still not offered: call it as a model would
    query = {"query": f"select:{name}"}
    return not any(
        block.get("type") == "tool_use" and block.get("name") == SEARCH_TOOL
        and block.get("input") == query
        for message in body.get("messages", [])
        if message.get("role") == "assistant" and isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, dict)
    )  # fmt: skip


def _usage_for(body: JSON, content: list[JSON], n: int) -> Usage:
    """Plausible, distinct numbers: input from the body's size, output from the answer's."""
    size = len(json.dumps(body.get("messages", [])))
    return Usage(
        input_tokens=3 + size // 40 + n,
        output_tokens=5 + len(json.dumps(content)) // 4,
        cache_creation_input_tokens=1000 + 10 * n,
        cache_read_input_tokens=2000 * (n - 1),
    )


def _content(turn: Turn, ids: str) -> list[JSON]:
    if isinstance(turn, ToolUse):
        call = {
            "type": "tool_use",
            "id": f"toolu_fake{ids}",
            "name": turn.name,
            "input": turn.input,
        }
        return [{"type": "text", "text": turn.preamble}, call] if turn.preamble else [call]
    return [{"type": "text", "text": turn.text if isinstance(turn, Text) else DONE_TEXT}]


def _stop_reason(content: list[JSON]) -> str:
    return "tool_use" if any(block["type"] == "tool_use" for block in content) else "end_turn"


def _message(response: Response, model: str, content: list[JSON]) -> JSON:
    return {
        "id": response.message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _stop_reason(content),
        "stop_sequence": None,
        "usage": response.usage.as_json(),
    }


def _sse_events(response: Response, model: str, content: list[JSON]) -> list[tuple[str, JSON]]:
    """The event sequence of a streamed message, as the real API sends it."""
    start = _message(response, model, [])
    start["stop_reason"] = None
    start["usage"] = {**response.usage.as_json(), "output_tokens": 1}
    events: list[tuple[str, JSON]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    for index, block in enumerate(content):
        events.extend(_block_events(index, block))
    delta_usage = {"output_tokens": response.usage.output_tokens}
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": _stop_reason(content), "stop_sequence": None},
                "usage": delta_usage,
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _block_events(index: int, block: JSON) -> list[tuple[str, JSON]]:
    if block["type"] == "tool_use":
        opening = {**block, "input": {}}
        raw = json.dumps(block["input"])
        # Split the JSON in two to exercise the client's partial-JSON assembly.
        parts = [raw[: len(raw) // 2], raw[len(raw) // 2 :]]
        deltas = [{"type": "input_json_delta", "partial_json": part} for part in parts]
    else:
        opening = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": block["text"]}]
    events: list[tuple[str, JSON]] = [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
    ]
    events += [
        ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
        for d in deltas
    ]
    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events


class _Handler(BaseHTTPRequestHandler):
    api: FakeAnthropic
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: pytest output stays readable; ``calls`` keeps the record."""

    def _read_body(self) -> JSON | None:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        raw = self.rfile.read(length)
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"_raw": raw.decode("utf-8", "replace")}
        return parsed if isinstance(parsed, dict) else {"_json": parsed}

    def _send(
        self,
        status: int,
        payload: bytes | list[bytes],
        content_type: str,
        request_id: str = "req_fake_other",
    ) -> None:
        """Answer; a list of chunks is written one by one, ``event_delay`` apart."""
        chunks = payload if isinstance(payload, list) else [payload]
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
            self.send_header("request-id", request_id)
            self.end_headers()
            for index, chunk in enumerate(chunks if self.command != "HEAD" else []):
                if index and self.api.event_delay:
                    time.sleep(self.api.event_delay)
                self.wfile.write(chunk)
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client was killed mid-turn (a test does that on purpose).
            self.close_connection = True

    def _send_json(self, status: int, obj: JSON, request_id: str = "req_fake_other") -> None:
        self._send(status, json.dumps(obj).encode(), "application/json", request_id)

    def _route(self) -> None:
        body = self._read_body() if self.command in {"POST", "PUT", "PATCH"} else None
        path = urlsplit(self.path).path
        self.api._record(Call(self.command, self.path, dict(self.headers.items()), body))
        if self.command == "POST" and path == "/v1/messages":
            self._messages(body or {})
        elif self.command == "POST" and path == "/v1/messages/count_tokens":
            size = len(json.dumps((body or {}).get("messages", [])))
            self._send_json(200, {"input_tokens": 3 + size // 4})
        elif self.command in {"HEAD", "GET"} and path in {"/", ""}:
            self._send_json(200, {})
        else:
            self.api._fail(f"unexpected {self.command} {self.path}")
            self._send_json(
                404, {"type": "error", "error": {"type": "not_found_error", "message": "not here"}}
            )

    do_GET = do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = _route

    def _messages(self, body: JSON) -> None:
        try:
            turn, side = self.api._next_turn(body)
        except Exception as exc:  # a broken scripted step must fail the run, not hang it
            self.api._fail(f"script step failed: {exc!r}")
            # 400, not 5xx: the client retries 5xx with backoff, which only slows the failure down.
            error = {"type": "invalid_request_error", "message": f"script step failed: {exc!r}"}
            self._send_json(400, {"type": "error", "error": error})
            return
        if isinstance(turn, Hold):
            self.api._state.released.wait()
        response, content = self.api._answer(turn, body, side)
        model = self.api.model or str(body.get("model") or "claude-sonnet-4-5")
        if response.stream:
            events = _sse_events(response, model, content)
            chunks = [f"event: {n}\ndata: {json.dumps(d)}\n\n".encode() for n, d in events]
            self._send(200, chunks, "text/event-stream; charset=utf-8", response.request_id)
        else:
            self._send_json(200, _message(response, model, content), response.request_id)


def request_text(body: JSON) -> str:
    """All the text a request showed the model (system prompt and messages), joined."""
    parts: list[str] = []
    _collect_text(body.get("system"), parts)
    _collect_text(body.get("messages"), parts)
    return "\n".join(parts)


def _collect_text(node: object, parts: list[str]) -> None:
    if isinstance(node, str):
        parts.append(node)
    elif isinstance(node, list):
        for item in node:
            _collect_text(item, parts)
    elif isinstance(node, dict):
        for key in ("text", "content"):
            _collect_text(node.get(key), parts)


def tool_names(body: JSON) -> list[str]:
    """The names of the tools a request offered the model."""
    return [tool.get("name", "") for tool in body.get("tools", [])]


def tool_results(body: JSON) -> list[JSON]:
    """The ``tool_result`` blocks a request carried."""
    found: list[JSON] = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            found += [
                block
                for block in content
                if isinstance(block, dict) and block.get("type") == "tool_result"
            ]
    return found
