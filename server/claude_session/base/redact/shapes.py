"""What a secret looks like, where one was found (a span of the text) and what replaces it (its
marker). Standard library only."""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter

#: (start, end, kind) of a secret in a text
Span = tuple[int, int, str]
#: a marker as ``marker`` writes it
MARKER = re.compile(r"\[REDACTED:([a-z0-9-]{1,40})\]")


def marker(kind: str) -> str:
    """The text that replaces a secret of this kind."""
    return f"[REDACTED:{kind}]"


def count_markers(text: str) -> Counter[str]:
    """How many secrets of each kind were removed from ``text`` (its markers, counted)."""
    return Counter(MARKER.findall(text))


def has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def looks_random(text: str) -> bool:
    """Digits and letters mixed: what a token looks like and a word does not."""
    return has_digit(text) and any(ch.isalpha() for ch in text)


def mixed_case(text: str) -> bool:
    """Upper and lower case and a digit: a base62/base64 token, not an identifier."""
    return has_digit(text) and any(ch.isupper() for ch in text) and any(ch.islower() for ch in text)


_OPENAI_KINDS = ("proj-", "svcacct-", "admin-")


def openai_like(secret: str) -> bool:
    body = secret[3:]
    if mixed_case(body) or (body.startswith(_OPENAI_KINDS) and looks_random(body)):
        return True
    # DeepSeek and some proxies use 32 lower-case hex digits
    tail = body.rsplit("-", 1)[-1]
    return len(tail) >= 32 and looks_random(tail) and all(c in "0123456789abcdef" for c in tail)


def base64_jwt(token: str) -> bool:
    """A JSON Web Token encoded once more in base64 (``ZXlK…`` is ``eyJ…``)."""
    head = token[:400].replace("-", "+").replace("_", "/")
    head = head[: len(head) // 4 * 4]
    try:
        raw = base64.b64decode(head)
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(b"eyJ") and b"." in raw
