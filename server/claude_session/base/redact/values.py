"""Whether the value a secret-named name is given looks like a secret, or like code, prose, a
placeholder or a reference to a secret kept elsewhere. Standard library only."""

from __future__ import annotations

from claude_session.base.redact.lazy import Lazy
from claude_session.base.redact.shapes import looks_random

_PLACEHOLDER_WORDS = frozenset(
    [
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
        "read",
        "write",
        "read-all",
        "write-all",
        "admin",
        "default",
        "pass",
        "basic",
        "bearer",
        "digest",
        "include",
        "omit",
        "same-origin",
    ]
)
_PLACEHOLDER_HINTS = ("your", "placeholder", "changeme", "xxxx", "dummy", "redacted", "${", "{{")
_PLACEHOLDER_STARTS = ("$", "%", "{", "[REDACTED:", "/", "./", "~/", "<", "#", "*", "!", "&", ".")
_CALL_OR_INDEX = Lazy(r"[A-Za-z_][\w.]*[(\[]")
_DOTTED_NAME = Lazy(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_NAME_WITH_UNDERSCORE = Lazy(r"[A-Za-z_]*_[A-Za-z_]*")
_LETTERS = Lazy(r"[A-Za-z]+")
_WORDS_JOINED = Lazy(r"[a-z]+(?:[-_.][a-z]+)+")
_VERSION = Lazy(r".*[0-9]+\.[0-9]+(?:\.[0-9]+)*(?:[-+][0-9A-Za-z.]*)?")
_TOKEN_CHARS = Lazy(r"[A-Za-z0-9_.~+/=:-]+")
_TEMPLATE = Lazy(r"\{[^{}]{0,80}\}|%\([a-z_]+\)s|%s")
_SCHEMES = ("bearer ", "basic ", "token ", "digest ")


def is_placeholder(value: str) -> bool:
    """True for values that name or point at a secret instead of being one."""
    low = value.lower()
    return (
        low.strip("*_-.") in _PLACEHOLDER_WORDS
        or any(hint in low for hint in _PLACEHOLDER_HINTS)
        or value.startswith(_PLACEHOLDER_STARTS)
        or "://" in value
        or low.startswith(_SCHEMES)  # the scheme's own rule reads the credential after it
        or bool(_TEMPLATE.search(value))
        or set(value) <= {"*", "x", "X", ".", "-", "•"}
    )


def quoted_ok(value: str) -> bool:
    """A quoted value: anything but a placeholder, prose or a name made of words."""
    if len(value) < 4 or is_placeholder(value):
        return False
    if not value.strip("0123456789.") and not (value.isdigit() and len(value) >= 16):
        return False  # a number, a version or an OID; long digit strings are ids and keys
    if value.count(" ") >= 2 or "\t" in value:
        return False
    return not _WORDS_JOINED.fullmatch(value)


def unquoted_ok(value: str) -> bool:
    """An unquoted value is code or prose far more often than a secret: be picky."""
    if len(value) < 4 or (value.isdigit() and len(value) < 16) or is_placeholder(value):
        return False
    if _CALL_OR_INDEX.match(value) or _VERSION.fullmatch(value) or identifier(value):
        return False
    if len(value) < 12 and value.upper() == value:
        return False  # AUTH=CRAM-MD5, MODE=RW: a constant
    if _code_name(value):
        return False
    if _NAME_WITH_UNDERSCORE.fullmatch(value) or _WORDS_JOINED.fullmatch(value.lower()):
        return False
    return not (_LETTERS.fullmatch(value) and len(value) < 16)


def _code_name(value: str) -> bool:
    """``module.Name``, ``self.attr``: a dotted name none of whose parts looks generated."""
    return bool(_DOTTED_NAME.fullmatch(value)) and not any(
        len(part) >= 12 and looks_random(part) for part in value.split(".")
    )


_HOST_OR_FILE = Lazy(
    r"(?:[a-z0-9-]+\.)+[a-z]{2,}(?::[0-9]{1,5})?|[\w:.-]*\.(?:pem|key|crt|json|txt|yaml|yml|cfg|ini|conf)"
)
_SNAKE = Lazy(r"_*[A-Za-z0-9]+(?:_+[A-Za-z0-9]+)+_*")


def identifier(value: str) -> bool:
    """``PKCS7_ISSUER_AND_SERIAL``, ``__darwin_ucontext64_t``: words joined in one case."""
    return (
        bool(_SNAKE.fullmatch(value))
        and (value.upper() == value or value.lower() == value)
        and not any(len(part) >= 12 and looks_random(part) for part in value.split("_"))
    )


def strong(value: str) -> bool:
    """A value that looks like a generated token whatever its name: long, letters and digits."""
    return (
        len(value) >= 16
        and not _code_name(value)
        and not identifier(value)
        and not _HOST_OR_FILE.fullmatch(value)
        and bool(_TOKEN_CHARS.fullmatch(value))
        and looks_random(value)
        and not _VERSION.fullmatch(value)
        and not is_placeholder(value)
    )


def trimmed_end(value: str) -> int:
    """Drop sentence punctuation and closing brackets that belong to the prose around."""
    end = len(value)
    while end and value[end - 1] in ".)]}:,":
        closing = value[end - 1]
        opening = {")": "(", "]": "[", "}": "{"}.get(closing)
        if opening and opening in value[: end - 1]:
            break
        end -= 1
    return end
