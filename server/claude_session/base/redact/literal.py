"""Where a literal stands in a long text, found through its rarest character. Standard library
only.

``str.find`` looks for one character with ``memchr`` (many GB/s) but for a longer needle it
steps through the text a character or two at a time (about 2 ms a needle on bench_redact's
5 MB transcript). A needle holding a character that ordinary text seldom holds (``J`` of
``eyJ``, ``Q`` of ``Q~``, the ``Z`` of a random token) is found faster by looking for that one
character and checking the needle around each of its occurrences; after ``_TRIES`` misses
(a text full of that character) the plain search takes over, so no text costs more than
``str.find`` and a few checks.
"""

from __future__ import annotations

from collections.abc import Iterator

# characters by how seldom they stand in prose, code and transcripts (rarest first)
_RARE = "QJZXqVj~KYzWxGUHFkBDOMNLPIR"
_RANK = {ch: rank for rank, ch in enumerate(_RARE)}
_TRIES = 64


def _pivot(needle: str) -> int:
    """The offset in ``needle`` of its rarest character (-1 when none is rare)."""
    best = -1
    for i, ch in enumerate(needle):
        rank = _RANK.get(ch)
        if rank is not None and (best < 0 or rank < _RANK[needle[best]]):
            best = i
    return best


def first(text: str, needle: str, start: int = 0) -> int:
    """``text.find(needle, start)``."""
    return next(occurrences(text, needle, start), -1)


def occurrences(text: str, needle: str, start: int = 0) -> Iterator[int]:
    """Every start of ``needle`` in ``text`` from ``start`` on, not overlapping, in order."""
    off = _pivot(needle)
    pos = start
    if off >= 0:
        ch = needle[off]
        at = text.find(ch, pos + off)
        misses = 0
        while at >= 0 and misses < _TRIES:
            if text.startswith(needle, at - off):
                yield at - off
                pos = at - off + len(needle)
                at = text.find(ch, pos + off)
            else:
                misses += 1
                at = text.find(ch, at + 1)
        if at < 0:
            return
        pos = max(pos, at - off)
    at = text.find(needle, pos)
    while at >= 0:
        yield at
        at = text.find(needle, at + len(needle))
