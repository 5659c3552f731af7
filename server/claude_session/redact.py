"""Redaction of text that looks like a secret, before anything leaves the machine.

Standard library only: hooks import it.

Every rule is a regular expression whose match can only start at the beginning of a run of the
characters its body consumes (a look-behind on the same class) and whose quantifiers are
bounded or unambiguous, so the scan stays linear on large inputs. A rule may refuse a match
(``accept`` returns None), which is how assignments such as ``token = get_token()`` survive.
Each secret becomes ``[REDACTED:<kind>]``; the marker never matches a rule, so redaction is
idempotent.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["contains_secret", "marker", "redact", "redact_data", "redacted_kinds"]

_MAX_PASSES = 8


def marker(kind: str) -> str:
    """The text that replaces a secret of this kind."""
    return f"[REDACTED:{kind}]"


@dataclass(frozen=True)
class _Rule:
    """A pattern with a group ``secret`` (replaced) inside a match whose rest is kept."""

    kind: str
    pattern: re.Pattern[str]
    accept: Callable[[re.Match[str]], str | None] | None = None

    def kind_of(self, match: re.Match[str]) -> str | None:
        return self.accept(match) if self.accept else self.kind


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _looks_random(text: str) -> bool:
    """Digits and letters mixed: what a token looks like and a word does not."""
    return _has_digit(text) and any(ch.isalpha() for ch in text)


# --- URL credentials -------------------------------------------------------------------------

_SCHEME = r"(?<![A-Za-z0-9+.-])(?P<pre>[A-Za-z][A-Za-z0-9+.-]{0,30}://)"
_URL_USER_PASS = re.compile(_SCHEME + r"(?P<secret>[^\s/@:\[\]]{0,256}:[^\s/@\[\]]{1,256})@")
_URL_TOKEN = re.compile(_SCHEME + r"(?P<secret>[A-Za-z0-9_.~%+-]{16,256})@")
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "x-oauth")


def _accept_url_token(match: re.Match[str]) -> str | None:
    token = match.group("secret")
    if token.startswith(_TOKEN_PREFIXES) or (len(token) >= 20 and _looks_random(token)):
        return "url-credentials"
    return None


# --- Authorization headers -------------------------------------------------------------------

_BEARER = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?P<pre>bearer[ \t]+)(?P<secret>[A-Za-z0-9._~+/-]{8,4096}=*)"
    r"(?![A-Za-z0-9._~+/=-])"
)
_BASIC = re.compile(
    r"(?i)(?P<pre>authorization[\"']?[ \t]{0,8}[:=][ \t]{0,8}[\"']?basic[ \t]+)"
    r"(?P<secret>[A-Za-z0-9+/]{8,4096}=*)"
)


def _accept_bearer(match: re.Match[str]) -> str | None:
    before = match.string[max(0, match.start() - 40) : match.start()].lower()
    token = match.group("secret")
    if "authorization" in before or (len(token) >= 16 and _has_digit(token)):
        return "bearer-token"
    return None


def _accept_openai(match: re.Match[str]) -> str | None:
    return "openai-key" if _looks_random(match.group("secret")[3:]) else None


# --- generic assignments: password=..., api_key: "...", token = ... ------------------------

_KEYWORDS = (
    r"password|passwd|passphrase|secret[_-]?key|client[_-]?secret|secret"
    r"|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?token|token"
)
_ASSIGNMENT = re.compile(
    rf"(?i)(?P<key>{_KEYWORDS})(?![A-Za-z0-9_])(?P<kq>[\"']?)"
    r"(?P<sep>[ \t]{0,8}(?::=|=>|[:=])[ \t]{0,8})"
    r"(?:\"(?P<dq>[^\"\n]{1,512})\"|'(?P<sq>[^'\n]{1,512})'"
    r"|(?P<val>(?!\[REDACTED:)[^\s\"'`,;<>]{1,512}))"
)
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
        "example",
        "placeholder",
        "value",
        "empty",
    )
)
_CALL_OR_INDEX = re.compile(r"[A-Za-z_][\w.]*[(\[]")
_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_NAME_WITH_UNDERSCORE = re.compile(r"[A-Za-z_]*_[A-Za-z_]*")
_LETTERS = re.compile(r"[A-Za-z]+")


def _assignment_kind(key: str) -> str:
    key = key.lower()
    if "pass" in key:
        return "password"
    if "token" in key:
        return "token"
    if "api" in key:
        return "api-key"
    return "secret"


def _is_placeholder(value: str) -> bool:
    """True for values that name or point at a secret instead of being one."""
    return (
        value.lower().strip("*_-.") in _PLACEHOLDER_WORDS
        or value.startswith(("$", "%", "{", "[REDACTED:", "/", "./", "~/", "<", "#", "*"))
        or "://" in value
        or set(value) <= {"*", "x", "X", ".", "-"}
    )


def _plausible_unquoted(value: str) -> bool:
    """An unquoted value is code or prose far more often than a secret: be picky."""
    if len(value) < 4 or value.isdigit() or _is_placeholder(value):
        return False
    if _CALL_OR_INDEX.match(value) or _DOTTED_NAME.fullmatch(value):
        return False
    if _NAME_WITH_UNDERSCORE.fullmatch(value):
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


def _replace_assignment(match: re.Match[str], kinds: set[str]) -> str:
    whole = match.group(0)
    group = "dq" if match.group("dq") is not None else "sq"
    if match.group(group) is not None:
        value = match.group(group)
        if len(value) < 4 or _is_placeholder(value.strip()):
            return whole
        start, end = match.start(group), match.end(group)
    else:
        value = match.group("val")
        end_in_value = _trimmed_value_end(value)
        value = value[:end_in_value]
        if not _plausible_unquoted(value):
            return whole
        start = match.start("val")
        end = start + end_in_value
    kind = _assignment_kind(match.group("key"))
    kinds.add(kind)
    offset = match.start()
    return whole[: start - offset] + marker(kind) + whole[end - offset :]


# --- the rules, most specific first ----------------------------------------------------------


def _token(kind: str, body: str, *, boundary: str = "A-Za-z0-9_") -> _Rule:
    """A bare token: starts where a run of token characters starts, ends where it ends."""
    pattern = rf"(?<![{boundary}])(?P<secret>{body})(?![A-Za-z0-9_-])"
    return _Rule(kind, re.compile(pattern))


_RULES: tuple[_Rule, ...] = (
    _Rule("url-credentials", _URL_USER_PASS),
    _Rule("url-credentials", _URL_TOKEN, _accept_url_token),
    _Rule(
        "aws-secret-key",
        re.compile(
            r"(?i)(?P<pre>aws_?secret_?(?:access_?)?key[\"']?[ \t]{0,8}(?::=|=>|[:=])[ \t]{0,8}"
            r"[\"']?)(?P<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
        ),
    ),
    _token("aws-access-key", r"(?:AKIA|ASIA)[A-Z0-9]{16}", boundary="A-Za-z0-9"),
    _token("github-token", r"gh[pousr]_[A-Za-z0-9]{36,}"),
    _token("github-token", r"github_pat_[A-Za-z0-9_]{22,}"),
    _token("gitlab-token", r"glpat-[A-Za-z0-9_-]{20,}", boundary="A-Za-z0-9_-"),
    _token("slack-token", r"xox[baprs]-[A-Za-z0-9-]{10,}", boundary="A-Za-z0-9_-"),
    _token("stripe-key", r"[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    _token("anthropic-key", r"sk-ant-[A-Za-z0-9_-]{20,}", boundary="A-Za-z0-9_-"),
    _Rule(
        "openai-key",
        re.compile(r"(?<![A-Za-z0-9_-])(?P<secret>sk-(?!ant-)[A-Za-z0-9_-]{20,})"),
        _accept_openai,
    ),
    _token("google-api-key", r"AIza[A-Za-z0-9_-]{35}", boundary="A-Za-z0-9_-"),
    _token("1password-token", r"ops_[A-Za-z0-9_+/=.-]{40,}"),
    _Rule(
        "jwt",
        re.compile(
            r"(?<![A-Za-z0-9_.-])(?P<secret>eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}"
            r"\.[A-Za-z0-9_-]*)"
        ),
    ),
    _token("npm-token", r"npm_[A-Za-z0-9]{36}"),
    _Rule("basic-auth", _BASIC),
    _Rule("bearer-token", _BEARER, _accept_bearer),
)

# --- private key blocks: found with two scans, not one backtracking pattern -----------------

_KEY_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----")
# A block cut short (no END line): take the base64 and header lines that follow.
_KEY_BODY = re.compile(
    r"(?:(?:\r?\n|\\n|[ \t]+)(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]{1,30}: [^\n]{0,200}))*"
)


def _redact_private_keys(text: str, kinds: set[str]) -> str:
    if "PRIVATE KEY" not in text:
        return text
    ends = [m.end() for m in _KEY_END.finditer(text)]
    end_starts = [m.start() for m in _KEY_END.finditer(text)]
    out: list[str] = []
    pos = 0
    for begin in _KEY_BEGIN.finditer(text):
        if begin.start() < pos:
            continue
        i = bisect.bisect_left(end_starts, begin.end())
        if i < len(ends):
            stop = ends[i]
        else:
            body = _KEY_BODY.match(text, begin.end())
            stop = body.end() if body else begin.end()
        out.append(text[pos : begin.start()])
        out.append(marker("private-key"))
        kinds.add("private-key")
        pos = stop
    out.append(text[pos:])
    return "".join(out)


def _apply(rule: _Rule, text: str, kinds: set[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        kind = rule.kind_of(match)
        if kind is None:
            return match.group(0)
        kinds.add(kind)
        offset = match.start()
        whole = match.group(0)
        return (
            whole[: match.start("secret") - offset]
            + marker(kind)
            + whole[match.end("secret") - offset :]
        )

    return rule.pattern.sub(replace, text)


def _one_pass(text: str, kinds: set[str]) -> str:
    text = _redact_private_keys(text, kinds)
    for rule in _RULES:
        text = _apply(rule, text, kinds)
    return _ASSIGNMENT.sub(lambda m: _replace_assignment(m, kinds), text)


def redact(text: str) -> tuple[str, list[str]]:
    """Replace what looks like a secret with ``[REDACTED:<kind>]``; return the text and the
    sorted kinds found."""
    kinds: set[str] = set()
    # One pass can expose a new match (a removed secret joins two runs): repeat until stable.
    for _ in range(_MAX_PASSES):
        redacted = _one_pass(text, kinds)
        if redacted == text:
            break
        text = redacted
    return text, sorted(kinds)


def contains_secret(text: str) -> bool:
    """True when :func:`redact` would change something."""
    return bool(redact(text)[1])


_MARKER = re.compile(r"\[REDACTED:([a-z0-9-]{1,40})\]")


def redacted_kinds(text: str) -> list[str]:
    """The kinds of the markers already in a redacted text, sorted (to tell the user)."""
    return sorted(set(_MARKER.findall(text)))


def redact_data(value: Any) -> Any:
    """``value`` with every string in it (dict keys kept) redacted: for JSON-shaped records."""
    if isinstance(value, str):
        return redact(value)[0]
    if isinstance(value, dict):
        return {key: redact_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(item) for item in value]
    return value
