"""A session's digest without a model: what it was about, read from its transcript and git.

Standard library only: the hooks finalize sessions that ended without ``/end`` with it.

The digest is deterministic and bounded: the user's first and last request, the last thing the
assistant said (cut), the files its edit and write tool calls named, the session's commits
(``gitread.session_commits``, the same definition ``/end`` uses) and how often each tool ran.
Every text in it is redacted. ``summary``, ``accomplishments`` and ``files`` are the one shape
both the tracker record and the context file of an unended session are made of.

The transcript is untrusted input, read with ``transcript``'s one line reader (regular files
only, lines longer than ``MAX_LINE_BYTES`` skipped without being held whole) for at most
``MAX_BYTES`` and ``budget`` seconds; what counts as a request is ``transcript.user_prompt``.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from claude_session.base import gitread, transcript

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

#: bytes of one transcript read at most; what was read by then counts
MAX_BYTES = 256 * 1024 * 1024
#: a line longer than this (a huge tool result) is skipped
MAX_LINE_BYTES = 8 * 1024 * 1024
#: seconds one digest may spend reading a transcript
BUDGET = 1.0
REQUEST_CHARS = 300
REPLY_CHARS = 600
MAX_FILES = 40
MAX_COMMITS = 20
MAX_TOOLS = 15
#: the summary text never grows past this (the record's and the context file's)
SUMMARY_CHARS = 1600
#: tool calls whose input names a file they change
EDIT_TOOLS = {
    "Edit": "file_path",
    "Write": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
}
#: claude-session's MCP tools that change no work: a session of only these leaves no note
BOOKKEEPING_TOOLS = frozenset({"start_session", "resume_session", "session_status", "set_reminder"})


@dataclass
class Digest:
    """What a session did, as far as its transcript and git say."""

    first_request: str = ""
    last_request: str = ""
    last_reply: str = ""
    requests: int = 0
    files: list[str] = field(default_factory=list)
    more_files: int = 0
    commits: list[str] = field(default_factory=list)  # "sha7 subject"
    more_commits: int = 0
    tools: dict[str, int] = field(default_factory=dict)
    complete: bool = True  # False: the transcript was cut by size or time

    @property
    def empty(self) -> bool:
        return not (self.requests or self.files or self.commits or self.tools or self.last_reply)

    @property
    def worked(self) -> bool:
        """True when the session did something worth telling the next one: a request of the
        user, a file edited, or a tool other than claude-session's own bookkeeping (a session
        that only ran /session:start and quit leaves nothing to resume)."""
        return bool(
            self.requests or self.files or any(not _bookkeeping(name) for name in self.tools)
        )

    def summary(self, *, heading: str = "Ended without /end.") -> str:
        """One bounded paragraph per fact: the record's summary and the context's Summary."""
        parts = [heading] if heading else []
        if self.first_request:
            parts.append(f"First request: {self.first_request}")
        if self.last_request and self.last_request != self.first_request:
            parts.append(f"Last request ({self.requests} in all): {self.last_request}")
        if self.last_reply:
            parts.append(f"Last reply: {self.last_reply}")
        if not self.complete:
            parts.append("(The transcript was read only in part.)")
        if len(parts) == (1 if heading else 0):
            parts.append("The transcript holds no request.")
        return _cut("\n".join(parts), SUMMARY_CHARS)

    def accomplishments(self) -> list[str]:
        """Counted facts: files edited, commits, tools."""
        items = []
        if self.files:
            shown = ", ".join(self.files[:8])
            more = len(self.files) - 8 + self.more_files
            items.append(
                f"Edited {len(self.files) + self.more_files} file(s): {shown}"
                + (f" and {more} more" if more > 0 else "")
            )
        if self.commits:
            total = len(self.commits) + self.more_commits
            items.append(
                f"{total} commit(s): "
                + "; ".join(self.commits[:5])
                + (f"; and {total - 5} more" if total > 5 else "")
            )
        if self.tools:
            items.append(
                "Tools used: " + ", ".join(f"{name} x{count}" for name, count in self.tools.items())
            )
        return [_cut(item, 400) for item in items]


def build(
    transcript_path: object,
    *,
    session_id: str | None,
    root: Path | None,
    starting_head: str | None,
    budget: float = BUDGET,
    commits: list[tuple[str, str]] | None = None,
    start: int = 0,
    earlier: list[str] | None = None,
) -> Digest:
    """The digest of one session: its transcript (when a usable path is given; from byte
    ``start``, where the stretch began, and after the last response in ``earlier``: those an
    earlier record billed, as a fork's copied history) and, in a git repository with a known
    starting head,
    its commits (read from git, unless the caller has them). Never raises for bad input."""
    digest = Digest()
    if isinstance(transcript_path, str) and transcript_path:
        try:
            digest = read_transcript(
                Path(transcript_path),
                session_id=session_id,
                root=root,
                budget=budget,
                start=start,
                earlier=earlier,
            )
        except (OSError, ValueError):
            digest = Digest(complete=False)
    if root is not None and (gitread.is_oid(starting_head) or starting_head == gitread.FROM_ROOT):
        if commits is None:
            commits = gitread.session_commits(root, starting_head)
        digest.commits = [
            f"{sha[:7]} {_one_line(subject, 100)}" for sha, subject in commits[:MAX_COMMITS]
        ]
        digest.more_commits = max(0, len(commits) - MAX_COMMITS)
    return redacted(digest)


def read_transcript(
    path: Path,
    *,
    session_id: str | None = None,
    root: Path | None = None,
    budget: float = BUDGET,
    start: int = 0,
    earlier: list[str] | None = None,
) -> Digest:
    """The transcript's part of a digest (no commits), read from byte ``start`` (a stretch's
    first line; from the next line when ``start`` falls inside one, from the beginning when
    the file is shorter than ``start``: it was replaced); unredacted."""
    reader = _Reader(session_id, root, earlier)
    handle = transcript.open_regular(path)
    if handle is None:
        return reader.digest
    deadline = time.monotonic() + budget
    with handle:
        start, partial = _seek_line(handle, start)
        found = transcript.lines(
            handle, max_line=MAX_LINE_BYTES, max_bytes=start + MAX_BYTES, deadline=deadline
        )
        for count, line in enumerate(found):
            if line is not None and not (partial and count == 0):
                reader.feed(line)
            if count % 128 == 0 and time.monotonic() > deadline:
                break
        if handle.tell() - start > MAX_BYTES or time.monotonic() > deadline:
            reader.digest.complete = False
    return reader.finish()


def _seek_line(handle: BinaryIO, start: int) -> tuple[int, bool]:
    """Put ``handle`` at ``start`` (0 when the file is shorter); True when that is inside a
    line, whose rest the reader skips."""
    if start <= 0 or start > os.fstat(handle.fileno()).st_size:
        return 0, False
    handle.seek(start - 1)
    return start, handle.read(1) != b"\n"


def redacted(digest: Digest) -> Digest:
    """Every text of the digest through the redaction rules."""
    from claude_session.base.redact import redact

    def clean(text: str) -> str:
        return redact(text)[0] if text else text

    digest.first_request = clean(digest.first_request)
    digest.last_request = clean(digest.last_request)
    digest.last_reply = clean(digest.last_reply)
    digest.files = [clean(f) for f in digest.files]
    digest.commits = [clean(c) for c in digest.commits]
    digest.tools = {clean(name): count for name, count in digest.tools.items()}
    return digest


# --- reading --------------------------------------------------------------------------------------


class _Reader:
    def __init__(
        self, session_id: str | None, root: Path | None, earlier: list[str] | None = None
    ) -> None:
        self.session_id = session_id
        self.root = os.path.realpath(root) if root is not None else None
        self.earlier = set(earlier or ())
        self.digest = Digest()
        self.tools: Counter[str] = Counter()
        self.files: dict[str, None] = {}  # ordered set

    def feed(self, line: bytes) -> None:
        if b'"user"' not in line and b'"assistant"' not in line:
            return
        obj = transcript.parse(line)
        if not isinstance(obj, dict) or obj.get("isSidechain") is True:
            return
        sid = obj.get("sessionId")
        if self.session_id and isinstance(sid, str) and sid and sid != self.session_id:
            return
        message = obj.get("message")
        if not isinstance(message, dict):
            return
        if obj.get("type") == "user":
            self._user(transcript.user_prompt(obj))
        elif obj.get("type") == "assistant" and message.get("id") in self.earlier:
            # an earlier record's response: it and all before it are that record's
            self.digest, self.tools, self.files = Digest(), Counter(), {}
        elif obj.get("type") == "assistant":
            self._assistant(message.get("content"))

    def _user(self, text: str) -> None:
        if not text:
            return
        self.digest.requests += 1
        if not self.digest.first_request:
            self.digest.first_request = _cut(text, REQUEST_CHARS)
        self.digest.last_request = _cut(text, REQUEST_CHARS)

    def _assistant(self, content: object) -> None:
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            return
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                text = block.get("text")
                if isinstance(text, str) and text.strip():
                    self.digest.last_reply = _cut(text.strip(), REPLY_CHARS)
            elif block.get("type") == "tool_use":
                name = block.get("name")
                if not isinstance(name, str) or not name:
                    continue
                self.tools[_one_line(name, 60)] += 1
                key = EDIT_TOOLS.get(name)
                tool_input = block.get("input")
                if key and isinstance(tool_input, dict):
                    target = tool_input.get(key)
                    if isinstance(target, str) and target.strip():
                        self.files[self._relative(target)] = None

    def _relative(self, target: str) -> str:
        target = _one_line(target, 300)
        if self.root and os.path.isabs(target):
            real = os.path.normpath(target)
            if real.startswith(self.root + os.sep):
                return real[len(self.root) + 1 :]
        return target

    def finish(self) -> Digest:
        files = list(self.files)
        self.digest.files = files[:MAX_FILES]
        self.digest.more_files = max(0, len(files) - MAX_FILES)
        self.digest.tools = dict(self.tools.most_common(MAX_TOOLS))
        return self.digest


def _bookkeeping(tool: str) -> bool:
    """One of claude-session's own MCP tools that only read or resume state."""
    return tool.startswith("mcp__") and tool.rsplit("__", 1)[-1] in BOOKKEEPING_TOOLS


def _one_line(text: str, limit: int) -> str:
    return _cut(" ".join(text.split()), limit)


def _cut(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, cut at a word where one is near, marked."""
    text = "".join(c for c in text if c in "\n\t" or c.isprintable())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.7:
        cut = cut[:space]
    return cut.rstrip() + "…"
