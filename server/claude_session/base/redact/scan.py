"""One scan of a text: every rule's spans, merged, and the text rebuilt once with markers; a
marker glued to more token characters opens a boundary, so the text around it is scanned
again (a few passes at most). Standard library only."""

from __future__ import annotations

from collections.abc import Iterable

from claude_session.base.redact.anchors import (
    find_aws_secrets,
    find_aws_secrets_after_word,
    find_tokens,
)
from claude_session.base.redact.assignments import ascii_lower, find_assignments
from claude_session.base.redact.commands import find_commands
from claude_session.base.redact.encoded import find_percent_encoded
from claude_session.base.redact.manifests import find_kubernetes_secrets
from claude_session.base.redact.normalize import prepared
from claude_session.base.redact.patterns import (
    find_authorization,
    find_private_keys,
    find_url_credentials,
    find_webhooks,
)
from claude_session.base.redact.shapes import MARKER, Span, marker

# the kinds the rules find by what stands around a value, not by its own shape
CONTEXT_KINDS = frozenset(
    ("password", "token", "api-key", "secret", "aws-secret-key", "azure-storage-key")
    + ("url-credentials", "bearer-token", "basic-auth")
)
_MIN_SECRET_TEXT = 8  # "pwd=abcd": nothing shorter can hold a secret any rule finds
_MIN_REPEAT = 8  # shorter values found once are not looked for elsewhere (too many hits)


def find(text: str, known: Iterable[str] = ()) -> list[Span]:
    """Every secret in ``text``: the specific rules first, then the assignments none of them
    already covers, then every other place where a value found (or ``known``) stands; merged."""
    if len(text) < _MIN_SECRET_TEXT:
        return []
    ready = prepared(text)
    spans = _find(ready.text)
    # a provider token is found wherever it stands; a value found by its context is not
    values = {ready.text[s:e]: kind for s, e, kind in spans if kind in CONTEXT_KINDS}
    for value in known:
        values.setdefault(value if value.isascii() else prepared(value).text, "secret")
    if values:  # looked for in the prepared text: without image data it is about half as long
        spans = with_repeats(ready.text, spans, values)
    if ready.starts:
        spans = [(ready.original(s), ready.original(e - 1) + 1, k) for s, e, k in spans]
    if "%" in text:
        encoded = find_percent_encoded(text, _find)
        values = {text[s:e]: kind for s, e, kind in encoded if kind in CONTEXT_KINDS}
        spans = merged(spans + encoded)
        spans = with_repeats(text, spans, values) if values else spans
    return spans


def _find(text: str) -> list[Span]:
    spans: list[Span] = []
    find_private_keys(text, spans)
    find_tokens(text, spans)
    if any(kind == "aws-access-key" for _, _, kind in spans):
        find_aws_secrets(text, spans)
    find_url_credentials(text, spans)
    low = ascii_lower(text)
    find_aws_secrets_after_word(text, low, spans)
    find_commands(text, low, spans)
    find_kubernetes_secrets(text, low, spans)
    find_webhooks(text, spans)
    find_authorization(text, low, spans)
    taken = merged(spans)
    generic: list[Span] = []
    find_assignments(text, low, taken, generic)
    return merged(taken + generic) if generic else taken


def with_repeats(text: str, spans: list[Span], values: dict[str, str]) -> list[Span]:
    """``spans`` and every other occurrence of the values found (8 characters at least)."""
    extra: list[Span] = []
    for value, kind in sorted(values.items(), key=lambda item: -len(item[0])):
        if len(value) < _MIN_REPEAT or MARKER.fullmatch(value):
            continue
        at = text.find(value)
        while at >= 0:
            extra.append((at, at + len(value), kind))
            at = text.find(value, at + len(value))
    return merged(spans + extra) if extra else spans


def merged(spans: list[Span]) -> list[Span]:
    """Overlapping spans become one, named by the span that starts first (the longer on a tie)."""
    spans.sort(key=lambda span: (span[0], -span[1]))
    merged: list[Span] = []
    for start, end, kind in spans:
        if merged and start < merged[-1][1]:
            first_start, first_end, first_kind = merged[-1]
            merged[-1] = (first_start, max(first_end, end), first_kind)
        else:
            merged.append((start, end, kind))
    return merged


def put_markers(text: str, spans: Iterable[Span]) -> tuple[str, list[tuple[int, int]]]:
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


def rescan(text: str, regions: list[tuple[int, int]]) -> list[Span]:
    """Scan again only around ``regions`` (merged windows), not the whole text."""
    windows: list[tuple[int, int]] = []
    for start, end in regions:
        lo, hi = max(0, start - _RESCAN), min(len(text), end + _RESCAN)
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], hi))
        else:
            windows.append((lo, hi))
    spans: list[Span] = []
    for lo, hi in windows:
        spans += [(start + lo, end + lo, kind) for start, end, kind in find(text[lo:hi])]
    return merged(spans)


MAX_PASSES = 8
_RESCAN = 2048  # characters either side of a glued marker that are scanned again
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.+/=~$")
