"""The text the rules read: the same text with what hides a secret from them undone.

Full-width ``：``/``＝``/letters, non-breaking spaces, zero-width characters and Cyrillic or
Greek letters that look like Latin ones keep a keyword or a token from being seen. Full-width,
look-alike and space characters are replaced one for one, so every offset stays; zero-width
characters are dropped, and so is the base64 data of images in a transcript;
``Prepared.original`` maps an offset back.
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
# Cyrillic and Greek letters that look like Latin ones (N27: "passwоrd" with a Cyrillic о,
# "АKIA…" with a Cyrillic А), read as the Latin letter
_LOOK_ALIKES = {
    "аеокорсухѕіјԁԛԝһӏ": "aeokopcyxsijdqwhl",
    "АВЕКМНОРСТХУЅІЈԚԜ": "ABEKMHOPCTXYSIJQW",
    "αονρικυχεγ": "aovpikuxey",
    "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ": "ABEZHIKMNOPTYX",
}
_ONE_FOR_ONE.update(
    (ord(ch), latin) for shapes, latins in _LOOK_ALIKES.items() for ch, latin in zip(shapes, latins)
)
_SPECIAL = re.compile("[" + "".join(sorted(map(chr, _ONE_FOR_ONE))) + "]")
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200d\u2060\ufeff]")


# Base64 image data in a transcript (``"media_type": "image/png", "data": "iVBOR…"``): decoded
# pixels, where no rule can find a secret, and often half the bytes of a transcript
_IMAGE = re.compile(r'"media_type": ?"image/[a-z0-9.+-]{1,20}", ?"data": ?"')
_BASE64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class Prepared(NamedTuple):
    """The text to scan, and how to map its offsets back: ``starts`` are the offsets of the
    prepared text where a kept piece begins, ``shifts`` how far that piece moved."""

    text: str
    starts: list[int]
    shifts: list[int]

    def original(self, pos: int) -> int:
        """The offset in the original text of offset ``pos`` of the prepared one."""
        if not self.starts:
            return pos
        return pos + self.shifts[bisect.bisect_right(self.starts, pos) - 1]


def _cut(text: str, regions: list[tuple[int, int]]) -> Prepared:
    """``text`` without the (sorted, disjoint) ``regions``."""
    pieces: list[str] = []
    starts = [0]
    shifts = [0]
    pos = removed = 0
    for start, end in regions:
        pieces.append(text[pos:start])
        removed += end - start
        pos = end
        starts.append(end - removed)
        shifts.append(removed)
    pieces.append(text[pos:])
    return Prepared("".join(pieces), starts, shifts)


def _images(text: str) -> list[tuple[int, int]]:
    regions: list[tuple[int, int]] = []
    for match in _IMAGE.finditer(text):
        end = text.find('"', match.end())
        if end > match.end() and _base64(text[match.end() : end]):
            regions.append((match.end(), end))
    return regions


def _base64(data: str) -> bool:
    """Base64 characters and at most two ``=`` at the end (deleting the alphabet from the
    bytes is three times faster than a pattern, on half the bytes of a transcript)."""
    body = data.rstrip("=")
    return len(data) - len(body) <= 2 and not body.encode().translate(None, _BASE64_CHARS)


def prepared(text: str) -> Prepared:
    """``text`` as the rules read it (see the module docstring)."""
    regions = _images(text) if '"image/' in text else []
    if not text.isascii():
        if _SPECIAL.search(text):
            text = text.translate(_ONE_FOR_ONE)
        if _INVISIBLE.search(text):
            regions += [(m.start(), m.end()) for m in _INVISIBLE.finditer(text)]
            regions.sort()
    if not regions:
        return Prepared(text, [], [])
    return _cut(text, regions)
