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

    __init__      the one API every exit uses (``redact``, ``redact_data``, ``scrub``...)
    scan          one scan: every rule's spans, merged, markers put in, glued ones scanned again
    providers     the provider token table (new kinds of token go here)
    anchors       the table compiled into one pattern per anchor; AWS secret keys by their id
    patterns      URL credentials, webhook URLs, private key blocks, Authorization values
    assignments   values of secret-named names in every common syntax (``password=…``,
                  ``var xToken string = "…"``, ``<password>…</password>``, YAML blocks)
    values        whether such a value looks like a secret or like code, prose, a placeholder
    commands      command lines (``curl -u``, ``mysql -p``), Cookie headers, SAS query values
    manifests     every value of a Kubernetes Secret
    normalize     full-width and invisible characters undone, image data left out
    encoded       percent-encoded text decoded and scanned
    lazy          patterns compiled at their first use
    shapes        what a secret looks like; spans; the marker

A value found by its context (a password, an assignment) is removed wherever else it stands in
the same text; ``redact_data`` does the same across every string of one record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from claude_session.base.redact.patterns import WEBHOOK_KINDS
from claude_session.base.redact.providers import TOKENS
from claude_session.base.redact.scan import CONTEXT_KINDS, MAX_PASSES, find, put_markers, rescan
from claude_session.base.redact.shapes import MARKER, count_markers, marker

__all__ = [
    "DataRedaction",
    "Redaction",
    "contains_secret",
    "count_markers",
    "describe",
    "find_secrets",
    "found_values",
    "marker",
    "redact",
    "redact_data",
    "redact_data_report",
    "redact_report",
    "redacted_kinds",
    "rule_kinds",
    "scrub",
]


class Redaction(NamedTuple):
    """A redacted text and how many secrets of each kind were removed from it."""

    text: str
    kinds: Counter[str]


class DataRedaction(NamedTuple):
    """A redacted JSON-shaped value and how many secrets of each kind were removed from it."""

    value: Any
    kinds: Counter[str]


def redact_report(text: str, known: Iterable[str] = ()) -> Redaction:
    """Replace what looks like a secret with ``[REDACTED:<kind>]``; count what was removed.
    Every occurrence of a value found is removed, and of each ``known`` value (secrets found
    elsewhere in the same record or prompt)."""
    counts: Counter[str] = Counter()
    spans = find(text, known)
    for _ in range(MAX_PASSES):
        if not spans:
            break
        counts.update(kind for _, _, kind in spans)
        text, glued = put_markers(text, spans)
        spans = rescan(text, glued) if glued else []
    return Redaction(text, counts)


def redact(text: str) -> tuple[str, list[str]]:
    """Replace what looks like a secret with ``[REDACTED:<kind>]``; return the text and the
    sorted kinds found."""
    result = redact_report(text)
    return result.text, sorted(result.kinds)


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given ``secrets`` (a token this process holds, replaced wherever it
    stands) and without anything else that looks like a secret: for error texts that came from
    elsewhere (a server echoing a header, an SDK quoting its input) before anyone sees them."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, marker("secret"))
    return redact_report(text).text


def find_secrets(text: str) -> list[str]:
    """The sorted kinds of the secrets in ``text`` (empty when there is none): for refusing a
    commit message instead of rewriting it."""
    return sorted({kind for _, _, kind in find(text)})


def contains_secret(text: str) -> bool:
    """True when :func:`redact` would change something."""
    return bool(find(text))


def redacted_kinds(text: str) -> list[str]:
    """The kinds of the markers already in a redacted text, sorted (to tell the user)."""
    return sorted(set(MARKER.findall(text)))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def found_values(value: Any) -> set[str]:
    """The secret values found by their context anywhere in ``value`` (a text or a JSON-shaped
    record): to remove them wherever else they stand in the same record."""
    values: set[str] = set()
    for text in _strings(value):
        values.update(text[s:e] for s, e, kind in find(text) if kind in CONTEXT_KINDS)
    return values


def _redact_value(value: Any, counts: Counter[str], known: frozenset[str] = frozenset()) -> Any:
    if isinstance(value, str):
        result = redact_report(value, known)
        counts.update(result.kinds)
        return result.text
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = _redact_value(key, counts, known) if isinstance(key, str) else key
            if new_key in out:  # two keys redacted alike: keep both entries
                n = 2
                while f"{new_key} ({n})" in out:
                    n += 1
                new_key = f"{new_key} ({n})"
            out[new_key] = _redact_value(item, counts, known)
        return out
    if isinstance(value, (list, tuple)):
        return [_redact_value(item, counts, known) for item in value]
    return value


def redact_data_report(value: Any) -> DataRedaction:
    """``value`` with every string in it redacted, dict keys included (JSON-shaped records),
    and the count of secrets removed by kind. A secret found in one string is removed from
    every other string of ``value`` too."""
    counts: Counter[str] = Counter()
    known = frozenset(found_values(value)) if not isinstance(value, str) else frozenset()
    return DataRedaction(_redact_value(value, counts, known), counts)


def redact_data(value: Any) -> Any:
    """``value`` with every string in it redacted, dict keys included: for JSON-shaped records."""
    return redact_data_report(value).value


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
    kinds = {rule.kind for rule in TOKENS}
    kinds |= set(WEBHOOK_KINDS.values())
    kinds |= {"aws-secret-key", "url-credentials", "private-key", "bearer-token", "basic-auth"}
    kinds |= {"password", "token", "api-key", "secret", "azure-storage-key"}
    return sorted(kinds)
