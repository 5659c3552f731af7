"""Redaction of text that looks like a secret, before anything leaves the machine.

Standard library only: hooks import it. One detector serves every exit (context files, records,
ClaudeSync items, the transfer prompt, logs, hook messages, commit-message checks).

How it stays fast on transcript-sized text: no pattern is tried at every position. Provider
tokens are grouped by an *anchor*, a literal every token of the group contains (``_`` for
``ghp_…``, ``-`` for ``glpat-…``, ``A`` for ``AKIA…``); each group is one compiled pattern that
starts with its anchor, so the regex engine skips to the next occurrence of the anchor with a
fast literal search and only then checks, through look-behinds, which prefix stands before it.
Keyword rules (``password=…``, ``Bearer …``) search a lower-cased copy for their keyword the
same way. Every repetition is bounded, and a token can only start where a run of its characters
starts, so no input makes a pattern backtrack badly (``bench/bench_redact.py`` measures it).

All rules report spans of the original text; overlapping spans merge and the text is rebuilt
once. Each secret becomes ``[REDACTED:<kind>]``; the marker never matches a rule, so redaction
is idempotent.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "DataRedaction",
    "Redaction",
    "contains_secret",
    "describe",
    "find_secrets",
    "marker",
    "redact",
    "redact_data",
    "redact_data_report",
    "redact_report",
    "redacted_kinds",
    "rule_kinds",
    "scrub",
]

_Span = tuple[int, int, str]


def marker(kind: str) -> str:
    """The text that replaces a secret of this kind."""
    return f"[REDACTED:{kind}]"


class Redaction(NamedTuple):
    """A redacted text and how many secrets of each kind were removed from it."""

    text: str
    kinds: Counter[str]


class DataRedaction(NamedTuple):
    """A redacted JSON-shaped value and how many secrets of each kind were removed from it."""

    value: Any
    kinds: Counter[str]


# --- what a secret looks like -----------------------------------------------------------------


def _has_digit(text: str) -> bool:
    return any(ch.isdigit() for ch in text)


def _looks_random(text: str) -> bool:
    """Digits and letters mixed: what a token looks like and a word does not."""
    return _has_digit(text) and any(ch.isalpha() for ch in text)


def _mixed_case(text: str) -> bool:
    """Upper and lower case and a digit: a base62/base64 token, not an identifier."""
    return (
        _has_digit(text) and any(ch.isupper() for ch in text) and any(ch.islower() for ch in text)
    )


_OPENAI_KINDS = ("proj-", "svcacct-", "admin-")


def _openai_like(secret: str) -> bool:
    body = secret[3:]
    if _mixed_case(body) or (body.startswith(_OPENAI_KINDS) and _looks_random(body)):
        return True
    # DeepSeek and some proxies use 32 lower-case hex digits
    tail = body.rsplit("-", 1)[-1]
    return len(tail) >= 32 and _looks_random(tail) and all(c in "0123456789abcdef" for c in tail)


# --- provider tokens, grouped by anchor -----------------------------------------------------


_ALNUM = "A-Za-z0-9"
_WORD_DASH = "A-Za-z0-9_-"
_B64 = "A-Za-z0-9+/="


@dataclass(frozen=True)
class _Token:
    """A token: one of ``heads`` (literal texts, or the fixed-width regex ``head_re``), then
    ``anchor``, then ``tail``. No ``before`` character precedes it, no ``end`` character
    follows it, and ``accept`` (when given) approves the whole token."""

    kind: str
    anchor: str
    heads: tuple[str, ...]
    tail: str
    before: str = _ALNUM
    end: str = _ALNUM
    accept: Callable[[str], bool] | None = None
    head_re: str = ""


def _tok(
    kind: str,
    heads: str,
    anchor: str,
    tail: str,
    *,
    before: str | None = None,
    end: str = _ALNUM,
    accept: Callable[[str], bool] | None = None,
    head_re: str = "",
) -> _Token:
    """``heads`` is a space-separated list of literal prefixes ("" for none). By default a
    token may not start inside a run of the characters that may not follow it: a run of
    glued tokens is then tried once, not once per token in it."""
    if before is None:  # "=" ends base64 but also starts a value: TOKEN=ops_...
        before = (end or _ALNUM).replace("=", "")
    return _Token(kind, anchor, tuple(heads.split()), tail, before, end, accept, head_re)


_TOKENS: tuple[_Token, ...] = (
    # ---- anchored on "_"
    _tok("github-token", "ghp gho ghu ghs ghr", "_", r"[A-Za-z0-9]{36,255}"),
    _tok("github-token", "github", "_", r"pat_[A-Za-z0-9_]{22,255}", end="A-Za-z0-9_"),
    _tok("npm-token", "npm", "_", r"[A-Za-z0-9]{36}"),
    _tok("1password-token", "ops", "_", r"eyJ[A-Za-z0-9+/]{40,8192}={0,3}", end=_B64),
    _tok("stripe-key", "sk rk", "_", r"(?:live|test|prod)_[A-Za-z0-9]{10,255}"),
    _tok("stripe-key", "whsec", "_", r"[A-Za-z0-9+/]{24,255}={0,2}", end=_B64),
    _tok("huggingface-token", "hf", "_", r"[A-Za-z]{34}"),
    _tok("huggingface-token", "api", "_", r"org_[A-Za-z]{34}"),
    _tok("digitalocean-token", "dop doo dor", "_", r"v1_[a-f0-9]{64}"),
    _tok("shopify-token", "shpat shpca shppa shpss", "_", r"[a-fA-F0-9]{32}"),
    _tok("linear-key", "lin", "_", r"(?:api|oauth)_[A-Za-z0-9]{40}"),
    _tok("rubygems-token", "rubygems", "_", r"[a-f0-9]{48}"),
    _tok("docker-token", "dckr", "_", r"(?:pat|oat)_[A-Za-z0-9_-]{27,255}", end=_WORD_DASH),
    _tok("grafana-token", "glc", "_", r"[A-Za-z0-9+/]{32,400}={0,3}", end=_B64),
    _tok("grafana-token", "glsa", "_", r"[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
    _tok(
        "sentry-token",
        "sntrys sntryu",
        "_",
        r"(?:[a-f0-9]{64}|eyJ[A-Za-z0-9+/=_]{40,1024})",
        end="A-Za-z0-9+/=_",
    ),
    _tok("groq-key", "gsk", "_", r"[A-Za-z0-9]{52}"),
    _tok("replicate-token", "r8", "_", r"[A-Za-z0-9]{37}"),
    _tok("supabase-token", "sbp", "_", r"(?:oauth_)?[a-f0-9]{40}"),
    _tok("netlify-token", "nfp", "_", r"[A-Za-z0-9]{36,40}"),
    _tok("notion-token", "ntn", "_", r"[0-9]{11}[A-Za-z0-9]{35}"),
    _tok("notion-token", "secret", "_", r"[A-Za-z0-9]{43}", accept=_mixed_case),
    _tok("vercel-token", "vcp vci vck vcr vca", "_", r"[A-Za-z0-9]{24,64}", accept=_mixed_case),
    _tok(
        "planetscale-token",
        "pscale",
        "_",
        r"(?:tkn|pw|oauth)_[A-Za-z0-9=._-]{32,64}",
        end="A-Za-z0-9=._-",
    ),
    _tok("fly-token", "fo1", "_", r"[A-Za-z0-9_-]{43}", end=_WORD_DASH),
    _tok(
        "braintree-token",
        "access",
        "_",
        r"token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}",
    ),
    # ---- anchored on "-"
    _tok(
        "gitlab-token",
        "glpat glcbt glimt gloas gldt glrt glft glsoat glffct",
        "-",
        r"[A-Za-z0-9_-]{20,300}(?:\.[0-9a-z]{9})?",
        before=_WORD_DASH,
        end=_WORD_DASH,
    ),
    _tok(
        "gitlab-token", "glagent", "-", r"[A-Za-z0-9_-]{50,300}", before=_WORD_DASH, end=_WORD_DASH
    ),
    _tok("gitlab-token", "glptt", "-", r"[0-9a-f]{40}"),
    _tok(
        "slack-token",
        "xoxa xoxb xoxp xoxo xoxs xoxe xoxr",
        "-",
        r"[A-Za-z0-9-]{10,255}",
        before=_WORD_DASH,
        end="A-Za-z0-9-",
        accept=_looks_random,
    ),
    _tok("slack-token", "xapp", "-", r"[0-9]-[A-Za-z0-9-]{10,255}", end="A-Za-z0-9-"),
    _tok(
        "anthropic-key", "sk", "-", r"ant-[A-Za-z0-9_-]{20,300}", before=_WORD_DASH, end=_WORD_DASH
    ),
    _tok("openrouter-key", "sk", "-", r"or-v1-[a-f0-9]{64}", before=_WORD_DASH),
    _tok(
        "openai-key",
        "sk",
        "-",
        r"[A-Za-z0-9_-]{20,300}",
        before=_WORD_DASH,
        end=_WORD_DASH,
        accept=_openai_like,
    ),
    _tok("pypi-token", "pypi", "-", r"AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,1000}", end=_WORD_DASH),
    _tok("mailgun-key", "key pubkey", "-", r"[a-f0-9]{32}"),
    _tok("newrelic-key", "NRAK NRJS NRII", "-", r"[A-Za-z0-9-]{19,64}", end="A-Za-z0-9-"),
    _tok("heroku-key", "HRKU", "-", r"AA[A-Za-z0-9_-]{58}", end=_WORD_DASH),
    _tok("postman-key", "PMAK", "-", r"[a-f0-9]{24}-[a-f0-9]{34}"),
    _tok("pulumi-token", "pul", "-", r"[a-f0-9]{40}"),
    _tok("perplexity-key", "pplx", "-", r"[A-Za-z0-9]{48}"),
    _tok("xai-key", "xai", "-", r"[A-Za-z0-9]{80}"),
    _tok("age-secret-key", "AGE", "-", r"SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
    _tok(
        "1password-secret-key",
        "A3",
        "-",
        r"[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
    ),
    _tok("square-token", "sq0atp sq0csp", "-", r"[A-Za-z0-9_-]{22,60}", end=_WORD_DASH),
    # ---- anchored on "." (every tail starts with six token characters: see _AHEAD)
    _tok("sendgrid-key", "SG", ".", r"[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", end=_WORD_DASH),
    _tok("hashicorp-token", "hvs hvb", ".", r"[A-Za-z0-9_-]{90,300}", end=_WORD_DASH),
    _tok(
        "hashicorp-token",
        "",
        ".",
        r"atlasv1\.[A-Za-z0-9_=-]{60,70}",
        end="A-Za-z0-9_=-",
        head_re=r"[A-Za-z0-9]{14}",
    ),
    _tok("dynatrace-token", "dt0c01", ".", r"[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}"),
    _tok("airtable-token", "", ".", r"[a-f0-9]{64}", head_re=r"pat[A-Za-z0-9]{14}"),
    _tok(
        "discord-bot-token",
        "",
        ".",
        r"[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}",
        end=_WORD_DASH,
        accept=_mixed_case,
        head_re=r"[MN][A-Za-z0-9]{23}",
    ),
    # ---- anchored on a literal of their own
    _tok("mailchimp-key", "", "-us", r"[0-9]{1,2}", head_re=r"[0-9a-f]{32}"),
    _tok("doppler-token", "", "dp.", r"(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44}"),
    _tok("aws-access-key", "", "A", r"(?:KIA|SIA|BIA|CCA|3T[A-Z0-9])[A-Z0-9]{16}"),
    _tok("google-api-key", "", "A", r"Iza[A-Za-z0-9_-]{35}", end=_WORD_DASH),
    _tok("atlassian-token", "", "A", r"T(?:ATT|CTT)3[A-Za-z0-9_=-]{100,300}", end="A-Za-z0-9_=-"),
    _tok("bitbucket-token", "", "A", r"TBB[A-Za-z0-9]{32}"),
    _tok("artifactory-key", "", "A", r"KCp[A-Za-z0-9]{69}"),
    _tok(
        "jwt",
        "",
        "eyJ",
        r"[A-Za-z0-9_-]{4,4096}\.eyJ[A-Za-z0-9_-]{4,16384}\.[A-Za-z0-9_-]{0,8192}",
        before="A-Za-z0-9_.-",
        end="",
    ),
    _tok(
        "grafana-token",
        "",
        "eyJ",
        r"rIjoi[A-Za-z0-9]{70,400}={0,3}",
        before="A-Za-z0-9_.-",
        end=_B64,
    ),
    _tok("twilio-key", "", "SK", r"[0-9a-fA-F]{32}", accept=_looks_random),
    _tok("databricks-token", "", "dapi", r"[a-f0-9]{32}(?:-[0-9])?"),
    _tok("square-token", "", "EAAA", r"[A-Za-z0-9_-]{60}", end=_WORD_DASH, accept=_mixed_case),
    _tok(
        "azure-client-secret",
        "",
        "Q~",
        r"[A-Za-z0-9_~.-]{31,34}",
        before="A-Za-z0-9_~.",
        end="A-Za-z0-9_~.-",
        head_re=r"[A-Za-z0-9_~.]{3}[0-9]",
    ),
)

# A look-ahead every tail of an anchor group satisfies: rejects most anchors in prose at once.
_AHEAD = {".": r"(?=[A-Za-z0-9_-]{6})"}


@dataclass(frozen=True)
class _AnchorGroup:
    anchor: str
    pattern: re.Pattern[str]
    rules: dict[int, tuple[_Token, str | None]]  # group index -> rule, name of its head group


def _heads_by_width(rule: _Token) -> list[str | None]:
    """One fixed-width head pattern per width (a look-behind needs a fixed width)."""
    if rule.head_re:
        return [rule.head_re]
    if not rule.heads:
        return [None]
    widths: dict[int, list[str]] = {}
    for head in rule.heads:
        widths.setdefault(len(head), []).append(re.escape(head))
    return ["(?:" + "|".join(heads) + ")" for heads in widths.values()]


def _guard(anchor: str, rules: list[_Token]) -> str:
    """A cheap test every token of the group passes, checked before any alternative."""
    lit = re.escape(anchor)
    guard = _AHEAD.get(anchor, "")
    befores = {rule.before for rule in rules}
    if all(not rule.heads and not rule.head_re for rule in rules) and len(befores) == 1:
        return rf"(?<![{befores.pop()}]{lit})" + guard
    if all(rule.heads and not rule.head_re for rule in rules):
        pairs = sorted({head[-2:] for rule in rules for head in rule.heads})
        return "(?<=(?:" + "|".join(map(re.escape, pairs)) + f"){lit})" + guard
    return guard


def _compile_group(anchor: str, rules: list[_Token]) -> _AnchorGroup:
    lit = re.escape(anchor)
    guard = _guard(anchor, rules)
    hoisted = guard.startswith("(?<!")
    alternatives: list[str] = []
    owners: list[tuple[_Token, str | None]] = []
    for rule in rules:
        end = rf"(?![{rule.end}])" if rule.end else ""
        for head in _heads_by_width(rule):
            n = len(owners)
            if head is not None:
                look = rf"(?<=(?<![{rule.before}])(?P<h{n}>{head}){lit})"
            else:
                look = "" if hoisted else rf"(?<![{rule.before}]{lit})"
            alternatives.append(rf"(?P<t{n}>{look}{rule.tail}{end})")
            owners.append((rule, f"h{n}" if head is not None else None))
    pattern = re.compile(lit + guard + "(?:" + "|".join(alternatives) + ")")
    by_index = {pattern.groupindex[f"t{n}"]: owner for n, owner in enumerate(owners)}
    return _AnchorGroup(anchor, pattern, by_index)


def _token_groups() -> tuple[_AnchorGroup, ...]:
    grouped: dict[str, list[_Token]] = {}
    for rule in _TOKENS:
        grouped.setdefault(rule.anchor, []).append(rule)
    return tuple(_compile_group(anchor, rules) for anchor, rules in grouped.items())


_GROUPS = _token_groups()


def _find_tokens(text: str, spans: list[_Span]) -> None:
    for group in _GROUPS:
        if group.anchor not in text:
            continue
        for match in group.pattern.finditer(text):
            rule, head = group.rules[match.lastindex or 0]
            start = match.start(head) if head else match.start()
            if rule.accept is None or rule.accept(text[start : match.end()]):
                spans.append((start, match.end(), rule.kind))


# --- a bare AWS secret access key next to its key id (X5) ------------------------------------

_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_NEAR = 400  # characters either side of a key id


def _find_aws_secrets(text: str, spans: list[_Span]) -> None:
    windows: list[tuple[int, int]] = []  # merged, so dense key ids cost one scan
    for start, end, kind in sorted(spans):
        if kind != "aws-access-key":
            continue
        lo, hi = max(0, start - _AWS_NEAR), min(len(text), end + _AWS_NEAR)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], hi)
        else:
            windows.append((lo, hi))
    for lo, hi in windows:
        for match in _AWS_SECRET.finditer(text, lo, hi):
            secret = match.group()
            if _mixed_case(secret) or (_looks_random(secret) and ("/" in secret or "+" in secret)):
                spans.append((match.start(), match.end(), "aws-secret-key"))


# --- URL credentials and webhook URLs ------------------------------------------------------

_URL_CREDS = re.compile(
    r"://(?P<secret>[^\s/@:\[\]]{0,256}:[^\s/@\[\]]{1,256}|[A-Za-z0-9_.~%+-]{16,256})@"
)
_SCHEME_BEFORE = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}\Z")
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "x-oauth")


def _find_url_credentials(text: str, spans: list[_Span]) -> None:
    if "://" not in text:
        return
    for match in _URL_CREDS.finditer(text):
        if not _SCHEME_BEFORE.search(text, max(0, match.start() - 32), match.start()):
            continue
        secret = match.group("secret")
        if ":" not in secret and not (
            secret.startswith(_TOKEN_PREFIXES) or (len(secret) >= 20 and _looks_random(secret))
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
_WEBHOOK_KINDS = {"slack": "slack-webhook", "discord": "discord-webhook", "teams": "teams-webhook"}


def _find_webhooks(text: str, spans: list[_Span]) -> None:
    if "hook" not in text:
        return
    for match in _WEBHOOK.finditer(text):
        name = match.lastgroup or ""
        spans.append((match.start(name), match.end(name), _WEBHOOK_KINDS[name]))


# --- private key blocks: found with two scans, not one backtracking pattern -----------------

_KEY_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ ){0,4}PRIVATE KEY(?: BLOCK)?-----")
# A block cut short (no END line): take the base64 and header lines that follow.
_KEY_BODY = re.compile(
    r"(?:(?:\r?\n|\\n|[ \t]+)(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]{1,30}: [^\n]{0,200}))*"
)


def _find_private_keys(text: str, spans: list[_Span]) -> None:
    if "PRIVATE KEY" not in text:
        return
    ends = [(m.start(), m.end()) for m in _KEY_END.finditer(text)]
    end_starts = [start for start, _ in ends]
    pos = 0
    for begin in _KEY_BEGIN.finditer(text):
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
_BASIC = re.compile(r"basic(?<![a-z0-9]basic)[ \t]+(?P<secret>[a-z0-9+/]{8,4096}=*)")


def _find_authorization(text: str, low: str, spans: list[_Span]) -> None:
    if "bearer" in low:
        for match in _BEARER.finditer(low):
            before = low[max(0, match.start() - 40) : match.start()]
            token = match.group("secret")
            if "authorization" in before or (len(token) >= 16 and _has_digit(token)):
                spans.append((match.start("secret"), match.end("secret"), "bearer-token"))
    if "basic" in low:
        for match in _BASIC.finditer(low):
            if "authorization" in low[max(0, match.start() - 40) : match.start()]:
                spans.append((match.start("secret"), match.end("secret"), "basic-auth"))


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


def _find_assignments(text: str, low: str, taken: list[_Span], spans: list[_Span]) -> None:
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


def _overlaps(span: tuple[int, int], taken: list[_Span], starts: list[int]) -> bool:
    i = bisect.bisect_left(starts, span[1])
    return i > 0 and taken[i - 1][1] > span[0]


def _ascii_lower(text: str) -> str:
    """``text`` lower-cased with every character kept at its offset."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # U+0130 lower-cases to two characters: fold it alone
    low = text.replace("\u0130", "I").lower()
    if len(low) == len(text):
        return low
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


# --- one scan -------------------------------------------------------------------------------

_MIN_SECRET_TEXT = 8  # "pwd=abcd": nothing shorter can hold a secret any rule finds


def _find(text: str) -> list[_Span]:
    spans: list[_Span] = []
    if len(text) < _MIN_SECRET_TEXT:
        return spans
    _find_private_keys(text, spans)
    _find_tokens(text, spans)
    if any(kind == "aws-access-key" for _, _, kind in spans):
        _find_aws_secrets(text, spans)
    _find_url_credentials(text, spans)
    _find_webhooks(text, spans)
    low = _ascii_lower(text)
    _find_authorization(text, low, spans)
    taken = _merged(spans)
    generic: list[_Span] = []
    _find_assignments(text, low, taken, generic)
    return _merged(taken + generic) if generic else taken


def _merged(spans: list[_Span]) -> list[_Span]:
    """Overlapping spans become one, named by the span that starts first (the longer on a tie)."""
    spans.sort(key=lambda span: (span[0], -span[1]))
    merged: list[_Span] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            first_start, first_end, first_kind = merged[-1]
            merged[-1] = (first_start, max(first_end, end), first_kind)
        else:
            merged.append((start, end, kind))
    return merged


def _apply(text: str, spans: Iterable[_Span]) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with each span replaced by its marker, and where the markers that touch other
    token characters now stand (see :func:`_glued`)."""
    out: list[str] = []
    glued: list[tuple[int, int]] = []
    pos = 0
    size = 0
    for start, end, kind in spans:
        out.append(text[pos:start])
        size += start - pos
        mark = marker(kind)
        if _glued(text, start, end):
            glued.append((size, size + len(mark)))
        out.append(mark)
        size += len(mark)
        pos = end
    out.append(text[pos:])
    return "".join(out), glued


def _glued(text: str, start: int, end: int) -> bool:
    """True when a secret touches more token characters: its marker opens a boundary there,
    so another scan may find a secret that was glued to this one."""
    return (start > 0 and text[start - 1] in _TOKEN_CHARS) or (
        end < len(text) and text[end] in _TOKEN_CHARS
    )


def _rescan(text: str, regions: list[tuple[int, int]]) -> list[_Span]:
    """Scan again only around ``regions`` (merged windows), not the whole text."""
    windows: list[tuple[int, int]] = []
    for start, end in regions:
        lo, hi = max(0, start - _RESCAN), min(len(text), end + _RESCAN)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], hi))
        else:
            windows.append((lo, hi))
    spans: list[_Span] = []
    for lo, hi in windows:
        spans += [(start + lo, end + lo, kind) for start, end, kind in _find(text[lo:hi])]
    return _merged(spans)


_MAX_PASSES = 8
_RESCAN = 2048  # characters either side of a glued marker that are scanned again
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.+/=~$")


# --- the public API -------------------------------------------------------------------------


def redact_report(text: str) -> Redaction:
    """Replace what looks like a secret with ``[REDACTED:<kind>]``; count what was removed."""
    counts: Counter[str] = Counter()
    spans = _find(text)
    for _ in range(_MAX_PASSES):
        if not spans:
            break
        counts.update(kind for _, _, kind in spans)
        text, glued = _apply(text, spans)
        spans = _rescan(text, glued) if glued else []
    return Redaction(text, counts)


def redact(text: str) -> tuple[str, list[str]]:
    """Replace what looks like a secret with ``[REDACTED:<kind>]``; return the text and the
    sorted kinds found."""
    result = redact_report(text)
    return result.text, sorted(result.kinds)


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given known secrets (each becomes ``[REDACTED:secret]``; ones under
    4 characters are left, they would cut up words) or anything else that looks like one: for
    what another program says back after it was handed a secret."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, marker("secret"))
    return redact(text)[0]


def find_secrets(text: str) -> list[str]:
    """The sorted kinds of the secrets in ``text`` (empty when there is none): for refusing a
    commit message instead of rewriting it."""
    return sorted({kind for _, _, kind in _find(text)})


def contains_secret(text: str) -> bool:
    """True when :func:`redact` would change something."""
    return bool(_find(text))


_MARKER = re.compile(r"\[REDACTED:([a-z0-9-]{1,40})\]")


def redacted_kinds(text: str) -> list[str]:
    """The kinds of the markers already in a redacted text, sorted (to tell the user)."""
    return sorted(set(_MARKER.findall(text)))


def _redact_value(value: Any, counts: Counter[str]) -> Any:
    if isinstance(value, str):
        result = redact_report(value)
        counts.update(result.kinds)
        return result.text
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = _redact_value(key, counts) if isinstance(key, str) else key
            if new_key in out:  # two keys redacted alike: keep both entries
                n = 2
                while f"{new_key} ({n})" in out:
                    n += 1
                new_key = f"{new_key} ({n})"
            out[new_key] = _redact_value(item, counts)
        return out
    if isinstance(value, (list, tuple)):
        return [_redact_value(item, counts) for item in value]
    return value


def redact_data_report(value: Any) -> DataRedaction:
    """``value`` with every string in it redacted, dict keys included (JSON-shaped records),
    and the count of secrets removed by kind."""
    counts: Counter[str] = Counter()
    return DataRedaction(_redact_value(value, counts), counts)


def redact_data(value: Any) -> Any:
    """``value`` with every string in it redacted, dict keys included: for JSON-shaped records."""
    return redact_data_report(value).value


_MARKER = re.compile(r"\[REDACTED:([a-z0-9-]+)\]")


def count_markers(text: str) -> Counter[str]:
    """How many secrets of each kind were removed from ``text`` (its markers, counted)."""
    return Counter(_MARKER.findall(text))


def describe(kinds: Mapping[str, int]) -> str:
    """``"3 secrets removed (2 github-token, 1 password)"``, or ``""`` when none was."""
    total = sum(kinds.values())
    if not total:
        return ""
    parts = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()) if count)
    noun = "secret" if total == 1 else "secrets"
    return f"{total} {noun} removed ({parts})"


def rule_kinds() -> list[str]:
    """Every kind a rule can report, sorted."""
    kinds = {rule.kind for rule in _TOKENS}
    kinds |= set(_WEBHOOK_KINDS.values())
    kinds |= {"aws-secret-key", "url-credentials", "private-key", "bearer-token", "basic-auth"}
    kinds |= {"password", "token", "api-key", "secret", "azure-storage-key"}
    return sorted(kinds)
