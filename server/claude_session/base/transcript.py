"""Reading Claude Code transcripts (JSONL): the one line reader and the one rule for "a user
prompt", shared by the token accounting (``tokens``), the digest of a session (``digest``) and
the compaction snapshot (the user's last prompts).

A transcript is untrusted input: it is opened only if it is a regular file (never a FIFO or a
device, and the open never blocks), every line is read with a bounded size (a longer one is
skipped in chunks, never held whole), and every reader stops past a byte limit. Standard library
only, and cheap to import: hooks read transcripts.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from claude_session.base import flow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

#: a line longer than this is skipped without ever being held whole
MAX_LINE_BYTES = 64 * 1024 * 1024
#: reading stops past this many bytes of one file
MAX_BYTES = 1024 * 1024 * 1024
#: what the compaction snapshot reads of a transcript's end, and how much of each prompt
TAIL_BYTES = 256_000
PROMPT_CHARS = 300
_SKIP_CHUNK = 1024 * 1024


def _warn(message: str, *args: object) -> None:
    flow.note(__name__, message, *args)  # the log's, never a hook's stderr


def open_regular(path: Path) -> BinaryIO | None:
    """``path`` opened for reading if it is a regular file; None for a missing file, a FIFO,
    a device or a folder (opening never blocks: a FIFO with no writer would hang a hook)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _warn("cannot read transcript %s: %s", path, exc)
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            _warn("cannot read transcript %s: not a regular file", path)
            os.close(fd)
            return None
        return os.fdopen(fd, "rb")
    except OSError:
        os.close(fd)
        return None


def lines(
    handle: BinaryIO,
    *,
    max_line: int = MAX_LINE_BYTES,
    max_bytes: int = MAX_BYTES,
    deadline: float | None = None,
) -> Iterator[bytes | None]:
    """Each line of a transcript from where ``handle`` stands; None for a line longer than
    ``max_line`` (skipped in small chunks). Stops once ``max_bytes`` of the file are behind,
    or once ``time.monotonic()`` passes ``deadline`` while skipping a long line (a huge file
    without line breaks is never read past a caller's deadline)."""
    import time

    while handle.tell() <= max_bytes:
        line = handle.readline(max_line + 1)
        if not line:
            return
        if len(line) <= max_line:
            yield line
            continue
        while not line.endswith(b"\n"):
            line = handle.readline(_SKIP_CHUNK)
            if not line or handle.tell() > max_bytes:
                break
            if deadline is not None and time.monotonic() > deadline:
                return
        _warn("skipped a transcript line longer than %d bytes", max_line)
        yield None


def end_offset(path: object) -> int | None:
    """Where a transcript ends now (its size in bytes, from ``stat``: nothing is opened, so a
    FIFO never blocks); None without a regular file at ``path``. A stretch of a session that
    starts now is read from there."""
    if not isinstance(path, str) or not path:
        return None
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return found.st_size if stat.S_ISREG(found.st_mode) else None


def user_prompt(obj: object) -> str:
    """What the user typed, from one parsed transcript line; "" when the line is no prompt.

    A prompt is a ``user`` line outside a sidechain and not ``isMeta``, whose content is text:
    a string or the text blocks of a list. Tool results are not prompts, and neither are
    command wrappers and system reminders (they start with '<') or Claude Code's caveats."""
    if not isinstance(obj, dict) or obj.get("type") != "user" or obj.get("isMeta"):
        return ""
    message = obj.get("message")
    if obj.get("isSidechain") is True or not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        text = content.strip()
    elif isinstance(content, list):
        if any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            return ""
        text = "\n".join(
            str(b["text"]).strip()
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        ).strip()
    else:
        return ""
    if not text or text.startswith("<") or text.startswith("Caveat:"):
        return ""
    return text


def parse(line: bytes) -> Any:
    """One line's JSON value; None when it is not JSON (or not UTF-8)."""
    try:
        return json.loads(line)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return None


def recent_prompts(path: object, limit: int = 5, *, tail_bytes: int = TAIL_BYTES) -> list[str]:
    """The user's last few prompts (oldest first, each cut to ``PROMPT_CHARS``), read from the
    transcript's last ``tail_bytes`` only; [] without a readable transcript."""
    handle = open_regular(Path(path)) if isinstance(path, str) and path else None
    if handle is None:
        return []
    prompts: list[str] = []
    try:
        with handle:
            size = handle.seek(0, os.SEEK_END)
            start = max(0, size - tail_bytes)
            handle.seek(max(0, start - 1))
            whole = start == 0 or handle.read(1) == b"\n"  # does the tail start with a line?
            for count, line in enumerate(lines(handle, max_line=tail_bytes)):
                if line is None or (count == 0 and not whole):
                    continue
                text = user_prompt(parse(line)) if b'"user"' in line else ""
                if text:
                    prompts.append(text[:PROMPT_CHARS])
    except OSError:
        return []
    return prompts[-limit:]
