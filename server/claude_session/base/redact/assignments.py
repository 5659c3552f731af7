"""Secrets given to a secret-named name, in the syntaxes people write: ``password=…``,
``"api_key": "…"``, ``var xToken string = "…"``, ``X_TOKEN ::= "…"``, ``$x .= "…"``,
``setProperty("X_TOKEN", "…")``, ``<password>…</password>``, ``key="Password" value="…"``, YAML
block scalars (``password: |``). The name may carry words around its keyword
(``DB_PASSWORD_PROD``, ``password1``, ``SECRET_KEY_BASE``). The keyword is searched in a
lower-cased copy; the value is kept only when it looks like a secret (``values``). Standard
library only."""

from __future__ import annotations

import bisect
import re

from claude_session.base.redact.lazy import Lazy
from claude_session.base.redact.shapes import Span
from claude_session.base.redact.values import quoted_ok, strong, trimmed_end, unquoted_ok

# What may follow the name: a key's closing quote, a type (Go, Kotlin), the operator.
_AFTER = (
    # a keyword in prose ("the token expired"), rejected before anything else is tried
    r"(?![ \t](?!str|bytes|value|content|securestring)[a-z]{2,12}[ \t.,])"
    # a count in JSON ("output_tokens": 12, in every message of a transcript), likewise
    r"(?!s\\?\"[ \t]?:[ \t]?[0-9]{1,12}[,}])"
    r"(?=(?P<rest>[a-z0-9_.-]{0,40}))(?P=rest)"  # all of it, never given back: no backtracking
    # what can follow at all (a keyword in prose fails here, at once)
    r"(?=[ \t]*[\"'`\]\\:=.?+,>\-svbc&\[])"
    r"[ \t]?(?P<kq>\\?[\"'`]\]?|\])?[ \t]{0,8}"
    r"(?:(?::[ \t]{0,4}|[ \t]{0,4})(?:string|str|bytes|\[\]byte|&str|securestring)[ \t]{0,4}(?==))?"
    r"(?P<op>:::=|::=|:=|\?=|\.=|\+=|=>|=(?!=)|:(?![:/])|(?<=[\"'`]),|>"
    r"|[ \t]{1,4}(?:value|content)[ \t]*=|[ \t]+-(?=[ \t]+['\"]))"
    r"[ \t\u00a0]{0,8}"
    # numbers and constants are no secrets: rejected here, at once
    r"(?![ \t\u00a0]*(?:[0-9]{1,12}(?:[,;}\])\s]|\Z)|(?:true|false|null|none)\b"
    r"|[a-z_][a-z0-9_.]{0,80}\())"  # ... and calls: os.environ.get(
    r"(?P<block>[|>][+-]?[0-9]?[ \t]*\r?\n)?"
)
_KEYWORDS: tuple[tuple[str, Lazy], ...] = tuple(
    (keyword, Lazy(pattern + _AFTER))
    for keyword, pattern in (
        ("pass", r"pass(?!ed[^a-z0-9_])(?P<word>word|wd|phrase)?"),  # test output: PASSED
        ("pwd", r"pwd"),
        ("secret", r"secret"),
        ("token", r"token"),
        ("key", r"key"),
        ("auth", r"auth(?:orization)?"),
        ("cred", r"cred(?:ential)?s?"),
    )
)
_VALUE = Lazy(
    r"(?:[@bruf]{1,2}(?=[\"'`]))?"
    r"(?:\"(?P<dq>[^\"\n]{1,4096})\"|'(?P<sq>[^'\n]{1,4096})'|`(?P<bq>[^`\n]{1,4096})`"
    r"|\\\"(?P<eq>[^\"\\\n]{1,512})\\\""
    r"|(?P<val>[^\s\"'`,;<>(){}\[\]\\]{1,4096}))"
)
# <password>v</password>, and Jenkins' <secret>{AQAAABAAA v}</secret> (the last word in braces)
_XML_VALUE = Lazy(
    r"\s{0,64}(?:\{(?:[^{}\s<]{1,64}[ \t]+){0,3})?(?P<xv>[^<\s{}]{1,512})\}?\s{0,64}</"
)
_BLOCK_LINE = Lazy(r"(?P<ind>[ \t]+)(?P<bv>[^\s][^\n]{0,1023})")
_WRAPPED = Lazy(r"\r?\n(?P<more>[A-Za-z0-9+/_-]{8,512}={0,2})(?=\r?\n|\Z)")
# "pass" glued after a word names a password only after these ("PGPASS", not "bypass")
_PASS_GLUE = ("pg", "db", "my", "sql", "redis", "smtp", "ftp", "ldap", "root", "admin", "user")
# words that may follow the keyword in a name that still holds the secret itself
_SUFFIX_WORDS = frozenset(
    [
        "s",
        "prod",
        "production",
        "dev",
        "development",
        "staging",
        "stage",
        "test",
        "qa",
        "uat",
        "live",
        "sandbox",
        "local",
        "base",
        "value",
        "val",
        "str",
        "string",
        "data",
        "b64",
        "base64",
        "enc",
        "encoded",
        "raw",
        "plain",
        "plaintext",
        "cleartext",
        "old",
        "new",
        "current",
        "primary",
        "secondary",
        "main",
        "backup",
        "default",
        "admin",
        "user",
        "root",
        "ci",
        "master",
        "global",
        "private",
        "secret",
        "key",
        "token",
        "pass",
        "password",
        "pwd",
        "access",
        "auth",
        "api",
        "app",
        "v",
    ]
)
_SPLIT_WORDS = Lazy(r"[_.-]+|(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
# a name ending in "key" names a secret after one of these; other "…key" names need a value
# that looks generated (``values.strong``)
_SECRET_KEY_NAME = Lazy(
    r"(?:api|access|private|secret|app|master|signing|encryption|account|sharedaccess|client"
    r"|auth|license|service|consumer|webhook|server|admin|root|session|bot|jwt|hmac|ssh"
    r"|subscription|deploy|integration|merchant|write|read|crypt|cipher)[_.-]?key\Z"
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-$")


def _name_before(low: str, end: int) -> str:
    """The name that ends at ``end`` (lower case, at most 64 characters)."""
    start = end
    while start > 0 and end - start < 64 and low[start - 1] in _NAME_CHARS:
        start -= 1
    return low[start:end]


def _suffix_ok(rest: str) -> bool:
    return all(
        word in _SUFFIX_WORDS or word.isdigit() or (word[0] == "v" and word[1:].isdigit())
        for word in _SPLIT_WORDS.split(rest)
        if word
    )


def _assignment_kind(name: str) -> str:
    if "pass" in name or "pwd" in name:
        return "password"
    if "aws" in name and "secret" in name:
        return "aws-secret-key"
    if name.endswith(("accountkey", "sharedaccesskey")):
        return "azure-storage-key"
    if "token" in name or "auth" in name:
        return "token"
    if "api" in name:
        return "api-key"
    return "secret"


def _word(match: re.Match[str]) -> str | None:
    return match.group("word") if "word" in match.re.groupindex else None


def _name_ok(keyword: str, low: str, match: re.Match[str]) -> tuple[bool, bool]:
    """Whether the name names a secret, and whether its value must look generated."""
    start = match.start()
    prefix = _name_before(low, start)
    glued = keyword in ("pass", "pwd") and not _word(match) and prefix[-1:].isalpha()
    if glued and (keyword == "pwd" or not prefix.endswith(_PASS_GLUE)):
        return False, False  # "bypass", "cwd"
    if not _suffix_ok(match.group("rest")):
        return False, False
    op = match.group("op")
    kq = match.group("kq") or ""
    if op == ">" and (start - len(prefix) < 1 or low[start - len(prefix) - 1] != "<"):
        return False, False
    if (op == "," or op[-1] == "=" and op.lstrip()[:1] in "vc") and not kq.strip("\\]"):
        return False, False  # setProperty("X", …) and key="X" value=…: the name is quoted
    if op == ",":
        return True, True  # a call's next argument: only a value that looks generated
    if keyword == "key":
        head = prefix + low[start : match.end("rest") - len(match.group("rest"))]
        return True, not _SECRET_KEY_NAME.search(head)
    if op == ":" and not match.group("block") and not low.startswith((" ", "\t"), match.end("op")):
        return True, True  # "group:artifact" and "host:port" are no assignments
    return True, False


def _value_span(
    text: str, low: str, match: re.Match[str], need_strong: bool
) -> tuple[int, int] | None:
    """The span of the value the name is given, if it looks like a secret."""
    pos = match.end()
    op = match.group("op")
    if match.group("block"):
        return _block_value(text, low, match)
    if op == ">":
        found = _XML_VALUE.match(text, pos)
        if not found:
            return None
        start, end = found.span("xv")
        value = text[start:end]
        return (start, end) if (strong(value) if need_strong else quoted_ok(value)) else None
    found = _VALUE.match(text, pos)
    if not found:
        return None
    for group in ("dq", "sq", "bq", "eq"):
        if found.group(group) is not None:
            start, end = found.span(group)
            value = text[start:end]
            stripped = value.strip()
            start += len(value) - len(value.lstrip())
            end = start + len(stripped)
            ok = strong(stripped) if need_strong else quoted_ok(stripped)
            return (start, end) if ok else None
    if op == ",":
        return None  # an unquoted argument is code
    start, end = found.span("val")
    end = start + trimmed_end(text[start:end])
    if end < len(text) and text[end] in "([" or (end < found.end() and text[end] == "."):
        return None  # a call or an index
    value = text[start:end]
    if not (strong(value) if need_strong else unquoted_ok(value)):
        return None
    wrapped = _WRAPPED.match(text, end)
    if wrapped and _continues(wrapped.group("more")) and found.end() == end:
        end = wrapped.end()  # a secret wrapped onto the next line by a terminal
    return start, end


def _continues(line: str) -> bool:
    """A line that looks like the rest of a token a terminal wrapped: not a word, a name or a
    number, but mixed-case letters (and digits)."""
    return (
        any(c.isupper() for c in line)
        and any(c.islower() for c in line)
        and (any(c.isdigit() for c in line) or len(line) >= 12)
        and "_" not in line
    )


def _block_value(text: str, low: str, match: re.Match[str]) -> tuple[int, int] | None:
    """A YAML block scalar (``password: |``): the lines indented under the name."""
    line_start = low.rfind("\n", 0, match.start()) + 1
    key_indent = len(text[line_start : match.start()]) - len(
        text[line_start : match.start()].lstrip()
    )
    pos = match.end()
    start = end = -1
    for _ in range(64):
        line = _BLOCK_LINE.match(text, pos)
        if not line or len(line.group("ind").expandtabs()) <= key_indent:
            break
        value = line.group("bv").rstrip()
        if " " in value or "\t" in value:
            return None  # prose
        if start < 0:
            start = line.start("bv")
        end = line.start("bv") + len(value)
        pos = line.end()
        if not text.startswith("\n", pos):
            break
        pos += 1
    if start < 0 or not quoted_ok(text[start:end].replace("\n", "")):
        return None
    return start, end


def find_assignments(text: str, low: str, taken: list[Span], spans: list[Span]) -> None:
    """Values of secret-named assignments that no specific rule (``taken``) already covers."""
    starts = [span[0] for span in taken]
    for keyword, pattern in _KEYWORDS:
        first = low.find(keyword)
        if first < 0:
            continue
        for match in pattern.finditer(low, first):
            ok, need_strong = _name_ok(keyword, low, match)
            if not ok:
                continue
            found = _value_span(text, low, match, need_strong)
            if found and not _overlaps(found, taken, starts):
                name = _name_before(low, match.start()) + low[match.start() : match.end("rest")]
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
