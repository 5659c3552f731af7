"""The text the rules read: the same text with what hides a secret from them undone.

Full-width ``：``/``＝``/letters, non-breaking spaces and zero-width characters keep a keyword
or a token from being seen. Full-width and space characters are replaced one for one, so every
offset stays; zero-width characters are dropped, and ``Prepared.original`` maps an offset back.
(JSON escapes in raw JSON text, ``…\\nsk-…`` or ``{\\"password\\": …}``, are read by the rules
themselves: copying a whole transcript to undo them cost a fifth of the scan.)
Standard library only."""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

_ONE_FOR_ONE: dict[int, str] = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
_ONE_FOR_ONE.update(
    (code, " ") for code in (0xA0, 0x1680, 0x202F, 0x205F, 0x3000, *range(0x2000, 0x200B))
)
_SPECIAL = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\uff01-\uff5e]")
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200d\u2060\ufeff]")


class Prepared(NamedTuple):
    """The text to scan, and where each dropped character stood (offsets of the original)."""

    text: str
    dropped: list[int]

    def original(self, pos: int) -> int:
        """The offset in the original text of offset ``pos`` of the prepared one."""
        if not self.dropped:
            return pos
        # the n-th kept character is preceded by every dropped one at or before its offset
        lo, hi = pos, pos + len(self.dropped)
        while lo < hi:
            mid = (lo + hi) // 2
            if mid - bisect.bisect_right(self.dropped, mid) < pos:
                lo = mid + 1
            else:
                hi = mid
        return lo


def prepared(text: str) -> Prepared:
    """``text`` as the rules read it (see the module docstring)."""
    if text.isascii():
        return Prepared(text, [])
    if _SPECIAL.search(text):
        text = text.translate(_ONE_FOR_ONE)
    dropped: list[int] = []
    if _INVISIBLE.search(text):
        dropped = [match.start() for match in _INVISIBLE.finditer(text)]
        text = _INVISIBLE.sub("", text)
    return Prepared(text, dropped)
