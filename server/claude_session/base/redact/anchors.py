"""Finding provider tokens fast: the table's rules grouped by anchor, one compiled pattern
per group that the regex engine reaches with a literal search (see the package docstring), and
the bare AWS secret key found next to its key id or right after the word "secret". Standard
library only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from claude_session.base.redact.providers import TOKENS, Token
from claude_session.base.redact.shapes import Span, looks_random, mixed_case

# A look-ahead every tail of an anchor group satisfies: rejects most anchors in prose at once.
# For "A": the first two letters of the tails of every "A" rule in providers.TOKENS (a new "A"
# rule must add its own; each kind's sample in tests/helpers/redact_samples.py checks it).
# a line break (raw or JSON-escaped) between a token's prefix and the rest of it (N22)
_BREAK = r"(?:\r?\n|\\r\\n|\\n)?"
_BREAKS = re.compile(r"\r?\n|\\r\\n|\\n")
# a tail that is a literal and one run of a character class (``[A-Za-z0-9]{36,255}``): a token
# with such a tail may be broken by one line break anywhere in the run ("ghp_Zf3D…" + "\n" + "pUN…")
_SIMPLE_TAIL = re.compile(
    r"(?P<lead>[A-Za-z0-9_-]*)\[(?P<cls>[^\]\\]+)\]\{(?P<lo>[0-9]+)(?:,(?P<hi>[0-9]+))?\}"
)
_AHEAD = {".": r"(?=[A-Za-z0-9_-]{6})", "A": r"(?=[KSBCI3T][ICTzAB])"}


@dataclass(frozen=True)
class _AnchorGroup:
    anchor: str
    pattern: re.Pattern[str]
    rules: dict[int, _Owner]  # group index -> the rule that alternative stands for


class _Owner(NamedTuple):
    rule: Token
    head: str | None  # the name of its head's group
    split: tuple[int, int] | None = None  # a tail broken by a line break: its length bounds
    # (of what follows the anchor, the break left out)


def _heads_by_width(rule: Token) -> list[tuple[str | None, str]]:
    """One fixed-width head pattern per width (a look-behind needs a fixed width), and the last
    letters of its heads ("" for a head pattern)."""
    if rule.head_re:
        return [(rule.head_re, "")]
    if not rule.heads:
        return [(None, "")]
    widths: dict[int, list[str]] = {}
    for head in rule.heads:
        widths.setdefault(len(head), []).append(head)
    return [
        ("(?:" + "|".join(map(re.escape, heads)) + ")", "".join(sorted({h[-1] for h in heads})))
        for heads in widths.values()
    ]


def _not_after(before: str, lit: str) -> str:
    """``lit`` not preceded by a ``before`` character, unless that character is the letter of a
    JSON escape (``\\n``, ``\\t``, ``\\r``): in raw JSON text a token often follows one."""
    return rf"(?:(?<![{before}]{lit})|(?<=\\[ntr]{lit}))"


def _guard(anchor: str, rules: list[Token]) -> str:
    """A cheap test every token of the group passes, checked before any alternative."""
    lit = re.escape(anchor)
    guard = _AHEAD.get(anchor, "")
    befores = {rule.before for rule in rules}
    if all(not rule.heads and not rule.head_re for rule in rules) and len(befores) == 1:
        return _not_after(befores.pop(), lit) + guard
    if all(rule.heads and not rule.head_re for rule in rules):
        pairs = sorted({head[-2:] for rule in rules for head in rule.heads})
        # two character classes first: one cheap test that most anchors in text fail
        firsts = "".join(sorted({pair[0] for pair in pairs if len(pair) == 2}))
        seconds = "".join(sorted({pair[-1] for pair in pairs}))
        classes = (
            f"(?<=[{re.escape(firsts)}][{re.escape(seconds)}]{lit})"
            if all(len(pair) == 2 for pair in pairs)
            else ""
        )
        # then the pairs, branched on their first letter (a branch that starts with a letter is
        # skipped at once by the engine; forty-four whole pairs were tried one by one)
        seconds_of: dict[str, str] = {}
        for pair in pairs:
            seconds_of[pair[:-1]] = seconds_of.get(pair[:-1], "") + pair[-1]
        branches = "|".join(
            f"{re.escape(first)}[{re.escape(second)}]" for first, second in seconds_of.items()
        )
        return classes + f"(?<=(?:{branches}){lit})" + guard
    return guard


def _compile_group(anchor: str, rules: list[Token]) -> _AnchorGroup:
    lit = re.escape(anchor)
    guard = _guard(anchor, rules)
    hoisted = guard.startswith("(?<!")
    owners: list[_Owner] = []
    # where an anchor passes the guard, only the rules whose heads end in the letter before it
    # are tried (``dckr_pat_…`` cost each ``_`` all forty of them): rules whose heads all end in
    # one letter are branched on it; the others test their last letters first
    by_letter: dict[str, list[str]] = {}
    others: list[str] = []
    for rule in rules:
        end = rf"(?![{rule.end}])" if rule.end else ""
        for head, lasts in _heads_by_width(rule):
            n = len(owners)
            if head is None:
                look = "" if hoisted else _not_after(rule.before, lit)
                others.append(rf"(?P<t{n}>{look}{rule.tail}{end})")
                owners.append(_Owner(rule, None))
                continue
            # a line break may follow the prefix: "ghp_" + "\n" + the rest (N22)
            look = rf"(?<={_not_after(rule.before, '')}(?P<h{n}>{head}){lit}){_BREAK}"
            tail, bounds = _breakable(rule.tail)
            owners.append(_Owner(rule, f"h{n}", bounds))
            alternative = rf"(?P<t{n}>{look}{tail}{end})"
            if len(lasts) == 1:
                by_letter.setdefault(lasts, []).append(alternative)
            else:
                first = f"(?<=[{re.escape(lasts)}]{lit})" if lasts else ""
                others.append(first + alternative)
    branches = [
        f"(?<={re.escape(last)}{lit})(?:" + "|".join(alts) + ")" for last, alts in by_letter.items()
    ]
    pattern = re.compile(lit + guard + "(?:" + "|".join(branches + others) + ")")
    by_index = {pattern.groupindex[f"t{n}"]: owner for n, owner in enumerate(owners)}
    return _AnchorGroup(anchor, pattern, by_index)


def _breakable(tail: str) -> tuple[str, tuple[int, int] | None]:
    """``tail``, or when it is one run of a class, ``tail`` or that run cut once by a line break
    (the run before the break ends at it, so nothing backtracks), with the run's length bounds."""
    simple = _SIMPLE_TAIL.fullmatch(tail)
    if not simple:
        return tail, None
    lead, cls, lo = simple["lead"], simple["cls"], simple["lo"]
    hi = simple["hi"] or lo
    split = rf"{lead}[{cls}]{{1,{hi}}}{_BREAK[:-1]}[{cls}]{{1,{hi}}}"
    return f"(?:{tail}|{split})", (len(lead) + int(lo), len(lead) + int(hi))


def _rules_by_anchor() -> dict[str, list[Token]]:
    grouped: dict[str, list[Token]] = {}
    for rule in TOKENS:
        grouped.setdefault(rule.anchor, []).append(rule)
    return grouped


_RULES = _rules_by_anchor()
# Each group's pattern is compiled the first time a text holds its anchor: a hook is a new
# process each time, and compiling every group up front cost PreCompact and SessionEnd about a
# third of their run (bench/bench_claude_code.py: 30-40 ms of a 100-130 ms hook, goal 3x a bare
# start); most texts hold few anchors.
_COMPILED: dict[str, _AnchorGroup] = {}


def _group(anchor: str) -> _AnchorGroup:
    group = _COMPILED.get(anchor)
    if group is None:  # two threads may both compile it: the same pattern either way
        group = _COMPILED[anchor] = _compile_group(anchor, _RULES[anchor])
    return group


def find_tokens(text: str, spans: list[Span]) -> None:
    for anchor in _RULES:
        first = text.find(anchor)
        if first < 0:
            continue
        group = _group(anchor)
        # from the first anchor on: the text before it was read once already (look-behinds
        # still see the characters before ``first``)
        for match in group.pattern.finditer(text, first):
            rule, head, split = group.rules[match.lastindex or 0]
            start = match.start(head) if head else match.start()
            token = text[start : match.end()]
            if split and head and token != (joined := _BREAKS.sub("", token)):
                # cut by a line break: both parts together as long as the rule wants
                token = joined
                if not split[0] <= len(token) - (match.end(head) - start) - len(anchor) <= split[1]:
                    continue
            if rule.accept is None or rule.accept(token):
                spans.append((start, match.end(), rule.kind))


# --- a bare AWS secret access key next to its key id (X5) ------------------------------------

_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_AWS_NEAR = 400  # characters either side of a key id


def find_aws_secrets(text: str, spans: list[Span]) -> None:
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
            if mixed_case(secret) or (looks_random(secret) and ("/" in secret or "+" in secret)):
                spans.append((match.start(), match.end(), "aws-secret-key"))


# "secret", then (within 8 characters) a bare 40-character key: one pass over the lower-cased
# text, not a search after each of the many "secret"s of a text about secrets
_AFTER_WORD = re.compile(
    r"secret[\s\S]{0,8}?(?<![a-z0-9/+=])(?P<key>[a-z0-9/+]{40})(?![a-z0-9/+=])"
)


def find_aws_secrets_after_word(text: str, low: str, spans: list[Span]) -> None:
    """X5: a bare 40-character key that follows the word "secret" within a few words ("the new
    secret is …", "secret key …"), with upper and lower case and a digit: what AWS secret keys
    look like and a commit hash, a path or a word does not."""
    first = low.find("secret")
    if first < 0:
        return
    for match in _AFTER_WORD.finditer(low, first):
        start, end = match.span("key")
        if mixed_case(text[start:end]):
            spans.append((start, end, "aws-secret-key"))
