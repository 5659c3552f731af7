"""Odd text made safe where it enters: lone surrogates and absurdly deep nesting.

A lone surrogate (U+D800..U+DFFF) is a valid ``\\ud800`` escape in JSON and what Python makes of
undecodable bytes in ``sys.argv``, but no UTF-8 file, database or HTTP body can hold it: stored
once, it would make every later write of the same data fail. So text from the command line and
from MCP requests passes through :func:`clean_data` first, which puts U+FFFD (the replacement
character) in its place, and :func:`too_deep` refuses data nested deeper than any real result.

Standard library only: hooks and the state-file writer import it.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing

REPLACEMENT = "\ufffd"
MAX_DEPTH = 128
"""Deepest nesting accepted in one JSON value (a whole MCP request or a ``--results`` value).
The MCP SDK's own JSON parser gives up near 200 levels; real results nest a handful."""

# patterns, compiled on first use (by ``re``'s cache): a hook compiles only the one it needs
_SURROGATE = "[\ud800-\udfff]"
_ESCAPE = r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}"  # \uD800..\uDFFF in JSON text
_PAIR = r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"  # high + low: fine
_BYTES = (_ESCAPE.encode(), _PAIR.encode())


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD; the same object if it has none."""
    return re.sub(_SURROGATE, REPLACEMENT, text) if re.search(_SURROGATE, text) else text


def may_hold_lone_surrogate(raw: str | bytes) -> bool:
    """Whether JSON text ``raw`` has a ``\\uD800``-style escape that is not half of a pair
    (cheap; a false alarm, such as an escaped backslash before it, costs a :func:`clean_data`)."""
    if isinstance(raw, bytes):
        escape, pair = _BYTES
        return (
            re.search(escape, raw) is not None
            and re.search(escape, re.sub(pair, b"", raw)) is not None
        )
    return (
        re.search(_ESCAPE, raw) is not None
        and re.search(_ESCAPE, re.sub(_PAIR, "", raw)) is not None
    )


def to_utf8(text: str) -> bytes:
    """``text`` as UTF-8, lone surrogates written as U+FFFD (no cost when there are none)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return clean_text(text).encode("utf-8")


def clean_data(value: Any) -> Any:
    """``value`` with every string in it cleaned, dict keys included (JSON-like data: dicts,
    lists, tuples, scalars). Call :func:`too_deep` first on untrusted data: this recurses."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_data(k): clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_data(v) for v in value]
    return value


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists/dicts more than ``limit`` levels (without recursing)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
