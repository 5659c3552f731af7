"""Secrets given to a secret-named variable (``password=…``, ``api_key: "…"``): the keyword is
searched in a lower-cased copy, and the value kept only when it looks like a secret rather
than code, prose or a placeholder. Standard library only."""

from __future__ import annotations

import bisect
import re

from claude_session.base.redact.shapes import Span

_VALUE = (
    r"(?P<kq>[\"']?)[ \t]{0,8}(?::=|=>|[:=])[ \t]{0,8}"
    r"(?:\"(?P<dq>[^\"\n]{1,512})\"|'(?P<sq>[^'\n]{1,512})'"
    r"|(?P<val>(?!\[redacted:)[^\s\"'`,;<>]{1,512}))"
)
_NAME_END = r"(?![a-z0-9_])"
_ASSIGNMENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pass", re.compile(rf"pass(?P<word>word|wd|phrase)?{_NAME_END}{_VALUE}")),
    ("pwd", re.compile(rf"pwd{_NAME_END}{_VALUE}")),
    ("secret", re.compile(rf"secret{_NAME_END}{_VALUE}")),
    ("token", re.compile(rf"token{_NAME_END}{_VALUE}")),
    ("key", re.compile(rf"key{_NAME_END}{_VALUE}")),
)
# keywords that name a secret only as a word of their own ("db_pass", not "bypass")
_WHOLE_WORDS = frozenset(("pass", "pwd"))
# a name ending in "key" names a secret only after one of these
_SECRET_KEY_NAME = re.compile(
    r"(?:api|access|private|secret|app|master|signing|encryption|account|sharedaccess|client"
    r"|auth|license|service)[_.-]?key\Z"
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_PLACEHOLDER_WORDS = frozenset(
    (
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
        "required",
        "optional",
        "str",
        "string",
        "bytes",
        "int",
        "any",
        "bool",
        "password",
        "passwd",
        "secret",
        "token",
        "key",
        "apikey",
        "api_key",
        "yes",
        "no",
        "on",
        "off",
        "redacted",
        "hidden",
        "changeme",
        "changeit",
        "example",
        "placeholder",
        "value",
        "empty",
        "test",
        "testing",
        "dummy",
        "fake",
        "mock",
        "sample",
        "foo",
        "bar",
        "foobar",
        "your-password",
        "your_password",
        "yourpassword",
        "mypassword",
        "your-token",
        "your_token",
        "your-api-key",
        "your_api_key",
    )
)
_CALL_OR_INDEX = re.compile(r"[A-Za-z_][\w.]*[(\[]")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_NAME_WITH_UNDERSCORE = re.compile(r"[A-Za-z_]*_[A-Za-z_]*")
_LETTERS = re.compile(r"[A-Za-z]+")


_PLACEHOLDER_HINTS = ("your", "placeholder", "changeme", "xxxx", "dummy", "redacted")
_WORDS_JOINED = re.compile(r"[a-z]+(?:[-_.][a-z]+)+")


def _is_placeholder(value: str) -> bool:
    """True for values that name or point at a secret instead of being one."""
    low = value.lower()
    return (
        low.strip("*_-.") in _PLACEHOLDER_WORDS
        or any(hint in low for hint in _PLACEHOLDER_HINTS)
        or value.startswith(("$", "%", "{", "[REDACTED:", "/", "./", "~/", "<", "#", "*", "!", "&"))
        or "://" in value
        or set(value) <= {"*", "x", "X", ".", "-"}
    )


def _plausible_unquoted(value: str) -> bool:
    """An unquoted value is code or prose far more often than a secret: be picky."""
    if len(value) < 4 or value.isdigit() or _is_placeholder(value):
        return False
    if _CALL_OR_INDEX.match(value) or _DOTTED_NAME.fullmatch(value):
        return False
    if _NAME_WITH_UNDERSCORE.fullmatch(value) or _WORDS_JOINED.fullmatch(value):
        return False
    return not (_LETTERS.fullmatch(value) and len(value) < 16)


def _trimmed_value_end(value: str) -> int:
    """Drop sentence punctuation and closing brackets that belong to the prose around."""
    end = len(value)
    while end and value[end - 1] in ".)]}":
        closing = value[end - 1]
        opening = {")": "(", "]": "[", "}": "{"}.get(closing)
        if opening and opening in value[: end - 1]:
            break
        end -= 1
    return end


def _name_before(low: str, end: int) -> str:
    """The variable name that ends at ``end`` (lower case, at most 64 characters)."""
    start = end
    while start > 0 and end - start < 64 and low[start - 1] in _NAME_CHARS:
        start -= 1
    return low[start:end]


def _assignment_kind(name: str) -> str:
    if "pass" in name or "pwd" in name:
        return "password"
    if "aws" in name and "secret" in name:
        return "aws-secret-key"
    if name.endswith(("accountkey", "sharedaccesskey")):
        return "azure-storage-key"
    if name.endswith("token"):
        return "token"
    if "api" in name:
        return "api-key"
    return "secret"


def _assignment_value(text: str, match: re.Match[str]) -> tuple[int, int] | None:
    """The span of the value that a secret-named assignment gives, if it looks like a secret."""
    for group in ("dq", "sq"):
        if match.group(group) is not None:
            start, end = match.span(group)
            value = text[start:end]
            if len(value) < 4 or _is_placeholder(value.strip()):
                return None
            return start, end
    start, end = match.span("val")
    end = start + _trimmed_value_end(text[start:end])
    return (start, end) if _plausible_unquoted(text[start:end]) else None


def find_assignments(text: str, low: str, taken: list[Span], spans: list[Span]) -> None:
    """Values of secret-named assignments that no specific rule (``taken``) already covers."""
    starts = [span[0] for span in taken]
    for keyword, pattern in _ASSIGNMENTS:
        if keyword not in low:
            continue
        for match in pattern.finditer(low):
            start = match.start()
            word = match.group("word") if keyword == "pass" else None
            if keyword in _WHOLE_WORDS and not word and start and low[start - 1].isalpha():
                continue  # "bypass", "cwd"
            name = _name_before(low, match.end("word") if word else start + len(keyword))
            if keyword == "key" and not _SECRET_KEY_NAME.search(name):
                continue
            found = _assignment_value(text, match)
            if found and not _overlaps(found, taken, starts):
                spans.append((found[0], found[1], _assignment_kind(name)))


def _overlaps(span: tuple[int, int], taken: list[Span], starts: list[int]) -> bool:
    i = bisect.bisect_left(starts, span[1])
    return i > 0 and taken[i - 1][1] > span[0]


def ascii_lower(text: str) -> str:
    """``text`` lower-cased with every character kept at its offset."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # U+0130 lower-cases to two characters: fold it alone
    low = text.replace("\u0130", "I").lower()
    if len(low) == len(text):
        return low
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
