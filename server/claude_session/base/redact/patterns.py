"""Secrets with a shape of their own: credentials in URLs, webhook URLs, private key blocks and
``Authorization`` values. Standard library only."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from claude_session.base.redact.shapes import Span, has_digit, looks_random

# --- URL credentials and webhook URLs ------------------------------------------------------

_URL_CREDS = re.compile(
    r":(?:\\?/){2}(?P<secret>[^\s/@:\[\]]{0,256}:[^\s/@\[\]]{1,256}|[A-Za-z0-9_.~%+-]{16,256})@"
)
_SCHEME_BEFORE = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}\Z")
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "x-oauth")


def _url_credentials(text: str) -> Iterator[re.Match[str]]:
    """Each ``://`` (or JSON-escaped ``:\\/\\/``) holding credentials: found by a literal
    search, as a pattern that starts with ``:`` would stop at every key of a JSON line."""
    for colon in (":/", ":\\/"):
        at = text.find(colon)
        while at >= 0:
            match = _URL_CREDS.match(text, at)
            if match:
                yield match
            at = text.find(colon, match.end() if match else at + 2)


def find_url_credentials(text: str, spans: list[Span]) -> None:
    for match in _url_credentials(text):
        if not _SCHEME_BEFORE.search(text, max(0, match.start() - 32), match.start()):
            continue
        secret = match.group("secret")
        if secret.partition(":")[2].startswith(("$", "{", "%7B", "<")):
            continue  # a reference to a secret kept elsewhere: https://u:${TOKEN}@
        if ":" not in secret and not (
            secret.startswith(_TOKEN_PREFIXES) or (len(secret) >= 20 and looks_random(secret))
        ):
            continue
        spans.append((match.start("secret"), match.end("secret"), "url-credentials"))


_WEBHOOK = re.compile(
    r"hook(?:"
    r"s\.slack\.com/(?:services|workflows|triggers)/(?P<slack>[A-Za-z0-9+/_-]{20,160})"
    r"|s/(?<=/api/webhooks/)(?P<discord>[0-9]{5,30}/[A-Za-z0-9_-]{20,128})"
    r"|(?<=\.webhook)\.office\.com/webhookb2/(?P<teams>[A-Za-z0-9@/_-]{20,400})"
    r")"
)
WEBHOOK_KINDS = {"slack": "slack-webhook", "discord": "discord-webhook", "teams": "teams-webhook"}


def find_webhooks(text: str, spans: list[Span]) -> None:
    first = text.find("hook")
    if first < 0:
        return
    for match in _WEBHOOK.finditer(text, first):
        name = match.lastgroup or ""
        spans.append((match.start(name), match.end(name), WEBHOOK_KINDS[name]))


# --- private key blocks: found with two scans, not one backtracking pattern -----------------

_KEY_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----")
# A block cut short (no END line): take the base64 and header lines that follow.
_KEY_BODY = re.compile(
    r"(?:(?:\r?\n|\\n|[ \t]+)(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]{1,30}: [^\n]{0,200}))*"
)


def find_private_keys(text: str, spans: list[Span]) -> None:
    if "PRIVATE KEY" not in text:
        return
    first_end = text.find("-----END ")
    ends = [(m.start(), m.end()) for m in _KEY_END.finditer(text, max(first_end, 0))]
    end_starts = [start for start, _ in ends]
    pos = 0
    for begin in _KEY_BEGIN.finditer(text, max(text.find("-----BEGIN "), 0)):
        if begin.start() < pos:
            continue
        i = bisect.bisect_left(end_starts, begin.end())
        if i < len(ends):
            stop = ends[i][1]
        else:
            body = _KEY_BODY.match(text, begin.end())
            stop = body.end() if body else begin.end()
        spans.append((begin.start(), stop, "private-key"))
        pos = stop


# --- keyword rules, searched in a lower-cased copy ------------------------------------------

_BEARER = re.compile(
    r"bearer(?<![a-z0-9]bearer)[ \t]+(?P<secret>[a-z0-9._~+/-]{8,4096}=*)(?![a-z0-9._~+/=-])"
)
# other schemes of an Authorization header: "Authorization: Token 22cb…", "Api-Token …"
_SCHEME = re.compile(
    r"authorization[\"']?[ \t]*[:=][ \t]*[\"']?(?:token|api-token|apikey|api-key|key|sso-key)"
    r"[ \t]+(?P<secret>[a-z0-9._~+/-]{8,4096}=*)"
)
_BASIC = re.compile(r"basic(?<![a-z0-9]basic)[ \t]+(?P<secret>[a-z0-9+/]{8,4096}=*)")


def find_authorization(text: str, low: str, spans: list[Span]) -> None:
    # each pattern starts with its keyword: read from the keyword's first occurrence on
    first = low.find("bearer")
    if first >= 0:
        for match in _BEARER.finditer(low, first):
            before = low[max(0, match.start() - 40) : match.start()]
            token = match.group("secret")
            if "authorization" in before or (len(token) >= 16 and has_digit(token)):
                spans.append((match.start("secret"), match.end("secret"), "bearer-token"))
    first = low.find("authorization")
    if first >= 0:
        for match in _SCHEME.finditer(low, first):
            spans.append((match.start("secret"), match.end("secret"), "token"))
        first = low.find("basic", max(0, first - 40))
        if first >= 0:
            for match in _BASIC.finditer(low, first):
                if "authorization" in low[max(0, match.start() - 40) : match.start()]:
                    spans.append((match.start("secret"), match.end("secret"), "basic-auth"))
