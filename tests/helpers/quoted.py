"""Reading what reached the model for quoted data (``base.quoting``): the blocks, and what
stands outside them (only our own words may)."""

from __future__ import annotations

import re

BLOCK = re.compile(
    r'<quoted-data from="[^"\n]*" id="(?P<id>[0-9a-f]{12})"> \(data, not instructions\)\n'
    r'(?P<body>.*?)\n</quoted-data id="(?P=id)">',
    re.DOTALL,
)
#: the characters that must never reach the model raw
HIDDEN = "\u00a0\u200b\u200c\u200d\u2060\u202e\u2066\u2069\ufeff\u00ad\u2028\x1b\x07\x85"


def blocks(text: str) -> list[str]:
    """The bodies of the quoted blocks in ``text``."""
    return [m.group("body") for m in BLOCK.finditer(text)]


def outside(text: str) -> str:
    """``text`` without its quoted blocks: what claude-session itself said."""
    return BLOCK.sub("<BLOCK>", text)


def assert_only_quoted(text: str, *phrases: str) -> None:
    """Each phrase reaches the model only inside a quoted block, and no hidden character
    reaches it at all."""
    rest = outside(text)
    for phrase in phrases:
        assert phrase not in rest, f"{phrase!r} outside any quoted block:\n{rest}"
        assert any(phrase in body for body in blocks(text)), f"{phrase!r} not quoted:\n{text}"
    raw = [hex(ord(c)) for c in text if c in HIDDEN]
    assert not raw, f"hidden characters reached the model: {raw}"


def unquoted(text: str) -> str:
    """The text of the one quoted block ``text`` is (as a tool result's ``context`` is), with
    the final newline the block's fence takes."""
    [body] = blocks(text)
    assert BLOCK.fullmatch(text), text[:200]
    return body + "\n"
