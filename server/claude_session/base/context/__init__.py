"""Session context files: the ``Context`` a flow or a hook builds (``build``), written with a
size budget and redaction (``render``) and read back (``parse``). Standard library only: hooks
write contexts.

    model      Context, build, the kinds and sections
    __init__   these and the file names, the summary excerpt
    render     Markdown within a budget, the least important parts cut first, redacted
    parse      any context file back to a Context (what render wrote comes back equal)
    syntax     the conventions both share: scalars, escaped headings, lines

A rendered context looks like this::

    ---
    project: demo
    kind: pause
    created: 2024-05-01T12:00:00.123456+00:00
    branch: main
    ---

    # Session context: demo

    ## Summary
    ...
    ## Next steps
    - first
      continued on a second line

Front matter values are written bare when that is unambiguous and as JSON strings otherwise.
In free text (Summary, Notes, Insights) a line that starts with one or two ``#`` (optionally
after backslashes) gets one more leading backslash, so no text can pose as a section heading;
Markdown shows ``\\#`` as ``#``. ``###`` subsections are left as they are.
"""

from __future__ import annotations

import os
from datetime import datetime

from claude_session.base.context.model import KINDS, SECTIONS, Context, build
from claude_session.base.context.parse import parse
from claude_session.base.context.render import render
from claude_session.base.context.syntax import split_lines, unescape, utc
from claude_session.paths import safe_name

__all__ = [
    "KINDS",
    "SECTIONS",
    "Context",
    "build",
    "context_file_name",
    "parse",
    "render",
    "summary_excerpt",
]


def context_file_name(project: str, kind: str, created: datetime) -> str:
    """``<project>-<YYYYmmdd-HHMMSS>-<kind>-<random>.md``; the suffix keeps two sessions that
    save in the same second apart."""
    stamp = utc(created).strftime("%Y%m%d-%H%M%S")
    kind = safe_name(kind, fallback="context")
    return f"{safe_name(project)}-{stamp}-{kind}-{os.urandom(3).hex()}.md"


def summary_excerpt(text: str, limit: int = 400) -> str:
    """The start of a rendered file's Summary section, cheaply (no full parse)."""
    start = text.find("\n## Summary\n")
    if start < 0:
        return ""
    start += len("\n## Summary\n")
    stop = text.find("\n## ", start)
    chunk = text[start : stop if stop >= 0 else start + 4 * limit + 100]
    summary = unescape(split_lines(chunk))
    if len(summary) <= limit:
        return summary
    return summary[: max(0, limit - 1)].rstrip() + "…"
