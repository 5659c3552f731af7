"""Secrets written percent-encoded (``%22api_key%22%3A%20%22…``, a URL carried in a query
parameter, a token encoded byte by byte): each run of URL characters holding escapes is
decoded and scanned, and what is found there is mapped back to the encoded text. Standard
library only."""

from __future__ import annotations

from collections.abc import Callable

from claude_session.base.redact.lazy import Lazy
from claude_session.base.redact.shapes import Span

_ESCAPE = Lazy(r"%[0-9A-Fa-f]{2}")
_URL_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%+=&:/?#@!$,;*'()"
)
_MAX_RUN = 65536
_OPERATORS = ("%3D", "%3A", "%22", "%40")  # "=", ":", '"', "@" encoded: an assignment or userinfo


def _runs(text: str) -> list[tuple[int, int]]:
    """Runs of URL characters that hold at least two escapes."""
    runs: list[tuple[int, int]] = []
    for match in _ESCAPE.finditer(text):
        if runs and match.start() < runs[-1][1]:
            continue
        start = match.start()
        while start > 0 and text[start - 1] in _URL_CHARS and match.start() - start < _MAX_RUN:
            start -= 1
        end = match.end()
        while end < len(text) and text[end] in _URL_CHARS and end - start < _MAX_RUN:
            end += 1
        escapes = _ESCAPE.findall(text, start, end)
        if len(escapes) >= 2 or escapes[0].upper() in _OPERATORS:
            runs.append((start, end))
    return runs


def _decoded(run: str) -> tuple[str, list[int]]:
    """``run`` with its escapes decoded (as Latin-1: one character per byte) and, for each
    decoded character, its offset in ``run`` (plus the end)."""
    out: list[str] = []
    offsets: list[int] = []
    i = 0
    while i < len(run):
        if run[i] == "%" and _ESCAPE.match(run, i):
            out.append(chr(int(run[i + 1 : i + 3], 16)))
            offsets.append(i)
            i += 3
        else:
            out.append(" " if run[i] == "+" else run[i])
            offsets.append(i)
            i += 1
    offsets.append(len(run))
    return "".join(out), offsets


def find_percent_encoded(text: str, find: Callable[[str], list[Span]]) -> list[Span]:
    spans: list[Span] = []
    for start, end in _runs(text):
        decoded, offsets = _decoded(text[start:end])
        for s, e, kind in find(decoded):
            spans.append((start + offsets[s], start + offsets[e], kind))
    return spans
