"""Secrets in command lines and headers: ``curl -u user:pass``, ``mysql -p…``, ``sshpass -p``,
``docker login -p``, ``--password …``/``--api-token=…``, ``Cookie: session=…``, and URL query
parameters that carry a signature or a credential (``sig=`` of an Azure SAS, ``auth=``).
Keywords are searched in a lower-cased copy. Standard library only."""

from __future__ import annotations

import re

from claude_session.base.redact.lazy import Lazy
from claude_session.base.redact.shapes import Span, looks_random
from claude_session.base.redact.values import identifier, is_placeholder, unquoted_ok

_CURL_USER = Lazy(
    r"-(?:(?<![\w-]-)u|(?<![\w-]-)-user)(?:[ \t]+|=)"
    r"(?P<q>['\"]?)(?P<secret>[^\s'\":]{1,128}:[^\s'\"]{1,256})(?P=q)"
)
_MYSQL = Lazy(
    r"m(?:ysql(?:dump|admin)?|ariadb)(?<![\w-]mysql)(?<![\w-]mysqldump)(?<![\w-]mysqladmin)"
    r"(?<![\w-]mariadb)\b[^\n|;&]{0,300}?[ \t]-p"
    r"(?P<q>['\"]?)(?P<secret>[^\s'\"]{3,256})(?P=q)"
)
_SSHPASS = Lazy(r"sshpass[ \t]+-p[ \t]*(?P<q>['\"]?)(?P<secret>[^\s'\"]{1,256})(?P=q)")
_DOCKER = Lazy(
    r"login\b[^\n|;&]{0,300}?[ \t](?:-p|--password)(?:[ \t]+|=)"
    r"(?P<q>['\"]?)(?P<secret>[^\s'\"]{1,256})(?P=q)"
)
_LONG_OPTION = Lazy(
    r"--(?<![\w-]--)[a-z0-9-]{0,30}(?:password|passwd|token|secret|api-key|apikey|access-key|auth)"
    r"(?:[ \t]+|=)(?P<q>['\"]?)(?P<secret>[^\s'\"]{1,512})(?P=q)"
)
_COOKIE = Lazy(r"cookie:[ \t]*(?P<pairs>[^\n\r'\"]{1,4096})")
_COOKIE_PAIR = Lazy(r"(?P<name>[^=;\s]{1,64})=(?P<value>[^;\s\\]{12,2048})")
_QUERY = Lazy(
    r"=(?:(?<=[?&;]sig=)|(?<=[?&;]auth=)|(?<=[?&;]sas=)|(?<=[?&;]signature=)|(?<=-signature=))"
    r"(?P<secret>[^&\s#\"'<>]{8,2048})"
)


def _add(match: re.Match[str], spans: list[Span], kind: str, *, strict: bool = False) -> None:
    value = match.group("secret")
    if value.startswith("-") or is_placeholder(value) or (strict and not unquoted_ok(value)):
        return
    spans.append((match.start("secret"), match.end("secret"), kind))


def find_commands(text: str, low: str, spans: list[Span]) -> None:
    # each rule read from its keyword's first occurrence on (the rest was read once already)
    first = low.find("curl")
    if first >= 0:
        for match in _CURL_USER.finditer(low, first):
            if "curl" in low[max(0, match.start() - 1000) : match.start()]:
                user, _, password = match.group("secret").partition(":")
                if len(password) >= 3 and not password.isdigit():
                    _add(match, spans, "password")
    if " -p" in low:
        first = low.find("mysql")
        maria = low.find("mariadb", 0, first if first >= 0 else len(low))
        first = maria if maria >= 0 else first
        if first >= 0:
            for match in _MYSQL.finditer(low, first):
                _add(match, spans, "password")
        first = low.find("login")
        if first >= 0:
            for match in _DOCKER.finditer(low, first):
                _add(match, spans, "password")
    for keyword, pattern in (("sshpass", _SSHPASS), ("--", _LONG_OPTION)):
        first = low.find(keyword)
        if first >= 0:
            for match in pattern.finditer(low, first):
                kind = "password" if pattern is _SSHPASS or "pass" in match.group() else "token"
                _add(match, spans, kind, strict=pattern is _LONG_OPTION)
    first = low.find("cookie:")
    if first >= 0:
        for match in _COOKIE.finditer(low, first):
            base = match.start("pairs")
            for pair in _COOKIE_PAIR.finditer(match.group("pairs")):
                value = text[base + pair.start("value") : base + pair.end("value")]
                if looks_random(value) and not is_placeholder(value) and not identifier(value):
                    spans.append((base + pair.start("value"), base + pair.end("value"), "token"))
    first = low.find("=")
    if first >= 0:
        for match in _QUERY.finditer(low, first):
            _add(match, spans, "token")
