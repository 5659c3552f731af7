"""Token accounting from Claude Code transcripts (JSONL, read with ``transcript``).

Standard library only: the SessionEnd hook counts the tokens of a session that ended.

Claude Code writes one API response as several lines (one per streamed content block), each
repeating the message id, the request id and a usage that may still be growing. Summing the
lines naively overcounts 2x to 4x, so every response is counted once, the way ccusage does it:

- only assistant lines with ``message.usage`` count; ``<synthetic>`` (locally made) ones do not;
- copies sharing (message id, request id) are one response; the copy with the largest token
  total wins (a streamed copy's output_tokens only grows);
- a copy without a request id is the same response as any copy of its message id;
- an ``isSidechain`` copy of a message id also seen outside a sidechain is a replay (``/btw``
  side questions replay parent messages with a new request id) and is dropped; sidechain
  copies are grouped by message id alone; sidechain responses with their own message ids
  (subagents) count;
- cache creation comes from ``cache_creation.ephemeral_5m/1h_input_tokens`` when present,
  else from ``cache_creation_input_tokens``.

The winner of a group is the largest of its copies as a whole, so the totals do not depend on
the order of lines or files, and reading a line twice changes nothing. A stretch of a session
(Claude Code's ``--resume``, ``--continue`` and ``--fork-session`` go on in the same transcript
or in a copy of it) counts only the responses whose message ids are not in ``exclude``: those
an earlier stretch already billed. Each counted response is kept (``Usage.messages``) with its
model and cache-write tiers, so that its cost can be computed at its model's prices. The
figures are what the transcript says, not billing: ``input_tokens`` there is known to
undercount (ccusage #866).
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Optional

from claude_session.base import flow, transcript
from claude_session.base.transcript import MAX_LINE_BYTES

SYNTHETIC_MODEL = "<synthetic>"
# Inside a JSON string a quote is escaped, so this only matches a real "usage" key.
_USAGE_MARKER = b'"usage"'


class Message(NamedTuple):
    """One counted model response: its id, model and tokens (cache writes by tier; a write
    whose tier the transcript does not tell is counted as the default 5-minute one)."""

    id: str
    model: str
    input: int
    output: int
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int


@dataclass
class Usage:
    """Token totals of one session's transcript, each API response counted once."""

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    responses: int = 0
    models: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    bad_lines: int = 0
    messages: list[Message] = field(default_factory=list)
    #: False when the time budget ran out before the transcript's end (what was read counts)
    complete: bool = True
    #: the transcript's responses an earlier record billed, left out (``stretch.count``)
    earlier: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        """The message ids of the counted responses (what a later stretch must not bill)."""
        return [m.id for m in self.messages]

    def add(self, message: Message) -> None:
        """Count one more response."""
        self.messages.append(message)
        self.input += message.input
        self.output += message.output
        self.cache_creation += message.cache_write_5m + message.cache_write_1h
        self.cache_read += message.cache_read
        self.responses += 1
        self.models[message.model] = self.models.get(message.model, 0) + 1

    def without(self, ids: Collection[str]) -> Usage:
        """These totals less the responses whose message ids are in ``ids``."""
        kept = Usage(lines=self.lines, bad_lines=self.bad_lines, complete=self.complete)
        for message in self.messages:
            if message.id not in ids:
                kept.add(message)
        return kept

    @property
    def total(self) -> int:
        """All four kinds of tokens together."""
        return self.input + self.output + self.cache_creation + self.cache_read


class _Response(NamedTuple):
    # Field order is the order copies are compared in: largest total first.
    total: int
    output: int
    input: int
    cache_creation: int
    cache_read: int
    model: str
    cache_1h: int = 0  # the part of cache_creation written for an hour


# (message id, request id or None, is sidechain)
_Key = tuple[str, Optional[str], bool]  # noqa: UP045 - runtime: no X | None on 3.9


def usage_from_transcript(
    path: Path,
    *,
    session_id: str | None = None,
    include_subagents: bool = True,
    max_line_bytes: int = MAX_LINE_BYTES,
    budget: float | None = None,
    exclude: Collection[str] = (),
) -> Usage:
    """Token usage in a transcript (and its subagents' transcripts), each response once, and
    none whose message id is in ``exclude`` (billed by an earlier stretch).

    A missing or unreadable transcript gives zero usage (unreadable: with a logged warning);
    lines of another session are skipped when ``session_id`` is given. Only regular files are
    read (never a FIFO or a device), at most ``MAX_TRANSCRIPT_BYTES`` each, and for at most
    ``budget`` seconds in all: what was read by then counts.
    """
    tally = _Tally(session_id, max_line_bytes)
    tally.deadline = None if budget is None else time.monotonic() + budget
    if not tally.read_file(Path(path)):
        return Usage()
    if include_subagents:
        for sub in subagent_transcripts(Path(path)):
            tally.read_file(sub)
    return tally.result(exclude)


def subagent_transcripts(path: Path) -> list[Path]:
    """The subagent transcripts Claude Code keeps beside a session transcript."""
    if not path.name.endswith(".jsonl"):
        return []
    folder = path.with_name(path.name[: -len(".jsonl")]) / "subagents"
    try:
        return sorted(p for p in folder.glob("*.jsonl") if p.is_file())
    except OSError as exc:
        flow.note(__name__, "cannot list subagent transcripts in %s: %s", folder, exc)
        return []


class _Tally:
    """Responses seen so far, deduplicated, across one or more files."""

    def __init__(self, session_id: str | None, max_line_bytes: int) -> None:
        self.session_id = session_id
        self.max_line_bytes = max_line_bytes
        self.best: dict[_Key, _Response] = {}
        self.lines = 0
        self.bad_lines = 0
        self.deadline: float | None = None
        self.complete = True

    def read_file(self, path: Path) -> bool:
        """Add one file's lines; False if it could not be opened."""
        if self.deadline and time.monotonic() > self.deadline:
            self.complete = False
            return False
        handle = transcript.open_regular(path)
        if handle is None:
            return False
        with handle:
            try:
                for count, line in enumerate(
                    transcript.lines(handle, max_line=self.max_line_bytes, deadline=self.deadline)
                ):
                    self.feed(line)
                    if handle.tell() > transcript.MAX_BYTES:
                        flow.note(
                            __name__,
                            "transcript %s is larger than %d bytes; the rest is not counted",
                            path,
                            transcript.MAX_BYTES,
                        )
                        break
                    if count % 256 == 0 and self.deadline and time.monotonic() > self.deadline:
                        flow.note(
                            __name__,
                            "transcript %s: time budget spent; counted what was read",
                            path,
                        )
                        self.complete = False
                        break
                if self.deadline and time.monotonic() > self.deadline:
                    self.complete = False
            except OSError as exc:
                # What was read so far is still what the transcript says.
                flow.note(__name__, "transcript %s could not be read to the end: %s", path, exc)
        return True

    def feed(self, line: bytes | None) -> None:
        """Count one line: None stands for a line too long to read."""
        if line is None:
            self.lines += 1
            self.bad_lines += 1
            return
        if line.isspace():  # unlike strip(), no copy of a long line
            return
        self.lines += 1
        if _USAGE_MARKER not in line:
            return
        obj = transcript.parse(line)
        if isinstance(obj, dict):
            self.add(obj)
        else:
            self.bad_lines += 1

    def add(self, obj: dict[str, object]) -> None:
        """Record an assistant line's usage, keeping the largest copy of each response."""
        message = obj.get("message")
        if obj.get("type") != "assistant" or not isinstance(message, dict):
            return
        usage = message.get("usage")
        model = message.get("model")
        if not isinstance(usage, dict) or model == SYNTHETIC_MODEL or not self._ours(obj):
            return
        response = _response(usage, model if isinstance(model, str) and model else "unknown")
        key = _key(obj, message, response)
        previous = self.best.get(key)
        if previous is None or response > previous:
            self.best[key] = response

    def _ours(self, obj: dict[str, object]) -> bool:
        line_session = obj.get("sessionId")
        return not (
            self.session_id
            and isinstance(line_session, str)
            and line_session
            and line_session != self.session_id
        )

    def result(self, exclude: Collection[str] = ()) -> Usage:
        """The totals over the surviving responses, less those in ``exclude``."""
        usage = Usage(lines=self.lines, bad_lines=self.bad_lines, complete=self.complete)
        for message_id, response in _deduplicated(self.best):
            if message_id not in exclude:
                usage.add(
                    Message(
                        message_id,
                        response.model,
                        response.input,
                        response.output,
                        response.cache_creation - response.cache_1h,
                        response.cache_1h,
                        response.cache_read,
                    )
                )
        return usage


def _count(value: object) -> int:
    """A token count from JSON: anything that is not a non-negative number counts as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and math.isfinite(value):
        return max(int(value), 0)
    return 0


def _cache_creation(usage: dict[str, object]) -> tuple[int, int]:
    """Cache writes in all, and the part of them written for an hour."""
    split = usage.get("cache_creation")
    if isinstance(split, dict) and (
        "ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split
    ):
        hour = _count(split.get("ephemeral_1h_input_tokens"))
        return _count(split.get("ephemeral_5m_input_tokens")) + hour, hour
    return _count(usage.get("cache_creation_input_tokens")), 0


def _response(usage: dict[str, object], model: str) -> _Response:
    input_tokens = _count(usage.get("input_tokens"))
    output = _count(usage.get("output_tokens"))
    creation, hour = _cache_creation(usage)
    read = _count(usage.get("cache_read_input_tokens"))
    return _Response(
        input_tokens + output + creation + read, output, input_tokens, creation, read, model, hour
    )


def _key(obj: dict[str, object], message: dict[str, object], response: _Response) -> _Key:
    """Which response a line is a copy of."""
    sidechain = obj.get("isSidechain") is True
    message_id = message.get("id")
    request_id = obj.get("requestId")
    # Sidechain copies of one message id are one response whatever their request ids, as
    # replays carry new ones.
    request = request_id if isinstance(request_id, str) and request_id and not sidechain else None
    if isinstance(message_id, str) and message_id:
        return (message_id, request, sidechain)
    # No message id (never seen in real files): fall back on the line's own identity, so
    # that at least the same line read twice is one response. "\0" keeps it apart from ids.
    uuid = obj.get("uuid")
    ident = uuid if isinstance(uuid, str) and uuid else f"{obj.get('timestamp')}{response}"
    return ("\0" + ident, request, sidechain)


def _deduplicated(best: dict[_Key, _Response]) -> list[tuple[str, _Response]]:
    """The responses left once sidechain replays and request-id-less copies are folded in."""
    main_ids = {message_id for message_id, _request, sidechain in best if not sidechain}
    kept = {key: r for key, r in best.items() if not (key[2] and key[0] in main_ids)}
    # After the replay drop, all copies of one message id are on the same side of the chain,
    # so a copy without a request id folds into the largest copy that has one.
    largest: dict[str, _Key] = {}
    for key, response in kept.items():
        top = largest.get(key[0])
        if key[1] is not None and (top is None or response > kept[top]):
            largest[key[0]] = key
    for (message_id, request, _side), response in kept.items():
        top = largest.get(message_id)
        if request is None and top is not None and response > kept[top]:
            kept[top] = response  # replaces a value, never adds a key: safe while iterating
    return [
        (message_id, r)
        for (message_id, request, _side), r in kept.items()
        if request is not None or message_id not in largest
    ]
