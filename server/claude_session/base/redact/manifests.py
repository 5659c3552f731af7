"""Values of a Kubernetes Secret: every entry under ``data:`` or ``stringData:`` of a document
whose ``kind`` is ``Secret``, whatever the entry's name (``.dockercfg: …``, ``ca.pem: …``).
Standard library only."""

from __future__ import annotations

import re

from claude_session.base.redact.lazy import Lazy
from claude_session.base.redact.shapes import Span
from claude_session.base.redact.values import is_placeholder

_KIND = Lazy(r"kind:[ \t]*[\"']?secret[\"']?[ \t]*(?:#[^\n]*)?$", re.M)
_DATA = Lazy(r"^(?P<ind>[ \t]*)(?:data|stringdata):[ \t]*$", re.M)
_ENTRY = Lazy(
    r"(?P<ind>[ \t]+)[\"']?[\w.-]{1,253}[\"']?:[ \t]*"
    r"(?:(?P<block>[|>][+-]?)[ \t]*|[\"']?(?P<value>[^\s\"'#]{1,65536})[\"']?)[ \t]*$"
)
_DOCUMENTS = Lazy(r"^---[ \t]*$", re.M)


def _width(indent: str) -> int:
    return len(indent.expandtabs(4))


def find_kubernetes_secrets(text: str, low: str, spans: list[Span]) -> None:
    if "kind:" not in low or "data:" not in low:
        return
    starts = [0] + [m.end() for m in _DOCUMENTS.finditer(low)]
    ends = starts[1:] + [len(low)]
    for start, end in zip(starts, ends):
        if _KIND.search(low, start, end):
            for data in _DATA.finditer(low, start, end):
                _entries(text, data.end() + 1, end, _width(data.group("ind")), spans)


def _entries(text: str, pos: int, end: int, indent: int, spans: list[Span]) -> None:
    """The values of the entries indented under a ``data:`` line."""
    while pos < end:
        line_end = text.find("\n", pos, end)
        line_end = end if line_end < 0 else line_end
        line = text[pos:line_end]
        if line.strip() and not line.lstrip().startswith("#"):
            entry = _ENTRY.fullmatch(text, pos, line_end)
            if not entry or _width(entry.group("ind")) <= indent:
                return
            if entry.group("value") and not is_placeholder(entry.group("value")):
                spans.append((entry.start("value"), entry.end("value"), "secret"))
            elif entry.group("block"):
                pos = _block(text, line_end + 1, end, _width(entry.group("ind")), spans)
                continue
        pos = line_end + 1


def _block(text: str, pos: int, end: int, indent: int, spans: list[Span]) -> int:
    """A block scalar's lines (indented deeper than its key): each one redacted."""
    while pos < end:
        line_end = text.find("\n", pos, end)
        line_end = end if line_end < 0 else line_end
        line = text[pos:line_end]
        body = line.lstrip()
        if body and _width(line[: len(line) - len(body)]) <= indent:
            return pos
        if body:
            first = line_end - len(body)
            spans.append((first, first + len(body.rstrip()), "secret"))
        pos = line_end + 1
    return pos
