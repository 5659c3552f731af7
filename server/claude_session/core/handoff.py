"""The transfer prompt: what the user pastes into claude.ai to continue a session there.

It tells claude.ai what the project is, where the work stands, the open questions and the next
steps (a digest read from the session context), gives the whole context after that, and ends
with the request for a return summary in the one shape ``parse_return_summary`` understands:
four ``##`` headings (``RETURN_SECTIONS``), each with a bullet list. The answer comes back into
the context's Insights (``render_insights``, ``merge_insights``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from claude_session.base import context as ctxmod
from claude_session.base.context.syntax import BULLET, clean_text, split_lines, utc
from claude_session.base.redact import redact

RETURN_SECTIONS = ("Decisions", "Changes to make", "Open questions", "Next steps")

DIGEST_ITEMS = 8  # per list in the digest; the full context follows anyway

_HINTS = {
    "Decisions": "what we settled, and why, in a line each",
    "Changes to make": "concrete edits for the code (file or component, and what to change)",
    "Open questions": "what is still undecided or needs checking in the code",
    "Next steps": "what Claude Code should do first when I return, in order",
}

RETURN_REQUEST = "\n".join(
    [
        "## When I ask for the summary to take back",
        "",
        'When I say "summary for Claude Code" (or similar), reply with only these four Markdown',
        "headings, in this order, each followed by a bullet list; write `- none` under a heading",
        "with nothing to say. No other headings, no preamble, and not inside a code block: I paste",
        "your reply back into Claude Code, which reads these headings.",
        "",
        *[f"## {name}\n- <{_HINTS[name]}>" for name in RETURN_SECTIONS],
    ]
)

_SUBSECTION = re.compile(r"^###[ \t]*(.+?)[ \t]*$", re.MULTILINE)


if TYPE_CHECKING:
    from claude_session.base.routines import Routine


def _bullets(items: Iterable[str], *, empty: str) -> str:
    items = [" ".join(i.split()) for i in items if i.strip()]
    if not items:
        return f"- {empty}"
    shown = [f"- {item}" for item in items[:DIGEST_ITEMS]]
    if len(items) > DIGEST_ITEMS:
        shown.append(f"- ... and {len(items) - DIGEST_ITEMS} more (see the context below)")
    return "\n".join(shown)


def _insight_items(insights: str, heading: str) -> list[str]:
    """The bullets under the last ``### heading`` of the merged claude.ai insights."""
    matches = [m for m in _SUBSECTION.finditer(insights) if m.group(1).lower() == heading.lower()]
    if not matches:
        return []
    body = insights[matches[-1].end() :]
    block = re.split(r"^#{1,3}[ \t]|^\*\*", body, maxsplit=1, flags=re.MULTILINE)[0]
    return [line.strip()[2:] for line in block.splitlines() if line.strip().startswith("- ")]


def open_questions_in(ctx: ctxmod.Context) -> list[str]:
    """Questions the context holds: the last claude.ai round trip's, then the notes' own."""
    from_notes = [
        line.strip().lstrip("-*+ ").strip()
        for line in ctx.notes.splitlines()
        if line.strip().endswith("?")
    ]
    return _insight_items(ctx.insights, "Open questions") + from_notes


def _where(ctx: ctxmod.Context, branch: str | None) -> str:
    summary = " ".join(ctx.summary.split()) or "No summary was written for this session."
    state = [f"branch `{branch}`" if branch else "not a git checkout"]
    if ctx.head:
        state.append(f"at commit `{ctx.head[:10]}`")
    dirty = len(ctx.dirty_files) + len(ctx.untracked_files)
    if dirty:
        state.append(f"{dirty} uncommitted file(s)")
    lines = [summary, "", "Working state: " + ", ".join(state) + "."]
    if ctx.accomplishments:
        lines += ["", "Done so far:", _bullets(ctx.accomplishments, empty="nothing recorded")]
    return "\n".join(lines)


def transfer_prompt(
    *,
    project: str,
    branch: str | None,
    repository: str | None,
    context_markdown: str,
    open_questions: list[str] | None = None,
    next_steps: list[str] | None = None,
    template: Routine | None = None,
) -> str:
    """The prompt for claude.ai. ``open_questions`` and ``next_steps`` add to (or, for next
    steps, replace) what the context itself says. Redacted like everything that leaves."""
    ctx = ctxmod.parse(context_markdown)
    questions = [*(open_questions or []), *open_questions_in(ctx)]
    steps = next_steps if next_steps is not None else ctx.next_steps
    repo = f" ({repository})" if repository else ""
    custom = (
        template.prompt(
            {
                "project": project,
                "repository": repository or "",
                "branch": branch or "",
                "where": _where(ctx, branch),
                "open_questions": _bullets(dict.fromkeys(questions), empty="none recorded"),
                "next_steps": _bullets(steps, empty="none recorded"),
                "context": f"<session-context>\n{context_markdown.strip()}\n</session-context>",
                "return_request": RETURN_REQUEST,
            }
        )
        if template is not None
        else None
    )
    if custom is not None:  # the user's template (~/.claude/routines/handoff.json)
        return redact(custom)[0]
    text = "\n".join(
        [
            f"I am moving a work session on the project **{project}**{repo} from Claude Code to "
            f"this conversation. Help me continue from where it stands; the full session "
            f"context is at the end.",
            "",
            "## Where the work stands",
            "",
            _where(ctx, branch),
            "",
            "## Open questions",
            "",
            _bullets(
                dict.fromkeys(questions), empty="none recorded: ask me if something is unclear"
            ),
            "",
            "## Next steps",
            "",
            _bullets(steps, empty="none recorded: propose some"),
            "",
            "## Session context",
            "",
            "<session-context>",
            context_markdown.strip(),
            "</session-context>",
            "",
            RETURN_REQUEST,
            "",
        ]
    )
    return redact(text)[0]


# --- the claude.ai return summary ------------------------------------------------------------

_RETURN_NAMES = "|".join(re.escape(name) for name in RETURN_SECTIONS)
_RETURN_HEADING = re.compile(
    rf"[ \t]{{0,3}}(?:#{{1,6}}[ \t]*)?(?:\*\*|__)?[ \t]*({_RETURN_NAMES})[ \t]*:?[ \t]*"
    rf"(?:\*\*|__)?[ \t]*:?[ \t]*",
    re.IGNORECASE,
)
_OTHER_HEADING = re.compile(r"[ \t]{0,3}(?:#{1,6}[ \t]|\*\*[^*]+\*\*[ \t]*:?[ \t]*$)")
_NOTHING = frozenset({"none", "n/a", "na", "nothing", "-", "—", "none."})
_FENCE = re.compile(r"[ \t]{0,3}(```|~~~)")


def _return_lines(text: str) -> Iterator[str]:
    """Lines outside code fences."""
    fenced = False
    for line in split_lines(text):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            yield line


def parse_return_summary(text: str) -> dict[str, list[str]] | None:
    """The four lists of a claude.ai return summary, or None when the answer lacks the shape
    (fewer than two of the headings)."""
    if "\n" not in text.strip() and len(_INLINE_HEADING.findall(text)) >= 2:
        text = _unflatten(text)
    canonical = {name.lower(): name for name in RETURN_SECTIONS}
    result: dict[str, list[str]] = {}
    current: str | None = None
    for line in _return_lines(text):
        heading = _RETURN_HEADING.fullmatch(line)
        if heading:
            current = canonical[heading.group(1).lower()]
            result.setdefault(current, [])
        elif _OTHER_HEADING.match(line):
            current = None
        elif current is not None and line.strip():
            _add_return_item(result[current], line)
    if len(result) < 2:
        return None
    return {name: [i for i in result.get(name, []) if _is_item(i)] for name in RETURN_SECTIONS}


# The 1Password app keeps fields made through the API on one line: a pasted answer arrives as
# "... ## Decisions - keep sqlite **Next steps** 1. x 2. y" (N8). Headings (``#``, bold, or
# "Name:"), bullets and numbered items are split again, also where the app dropped a line break
# without a space. A " - " inside an item ("SQLite - it is enough") is kept: a bullet starts
# with a capital, a digit, a mark or a quote (unless the list's items start in lower case).
_INLINE_HEADING = re.compile(
    rf"((?:#{{1,6}}[ \t]*|\*\*[ \t]*|__[ \t]*)(?:{_RETURN_NAMES})[ \t]*:?[ \t]*(?:\*\*|__)?:?"
    rf"|(?<![^\s])(?:{_RETURN_NAMES}):)[ \t]*",
    re.IGNORECASE,
)
# (a line break dropped without a space leaves "users- Keep": still a bullet, unlike "1-2")
_INLINE_BULLET = re.compile(
    r"(?:(?<=[.!?:;)])[ \t]*|[ \t]+|(?<=\w))([-*+])[ \t]+(?=[A-Z0-9`*\"'\[(_])"
)
# (a list whose first item starts in lower case is split at every " - ")
_INLINE_BULLET_ANY = re.compile(r"[ \t]+([-*+])[ \t]+(?=\S)")
_INLINE_NUMBER = re.compile(r"(?:[ \t]+|(?<=[a-z.!?)]))(\d{1,3}[.)])[ \t]+(?=\S)")
_FIRST_ITEM = re.compile(r"^([-*+]|\d{1,3}[.)])[ \t]+")


def _unflatten(text: str) -> str:
    parts = _INLINE_HEADING.split(text)  # [before, heading, body, heading, body, ...]
    out = [parts[0].strip()]
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        first = _FIRST_ITEM.match(body.strip())
        rest = body.strip()[first.end() :] if first else body.strip()
        bullet = _INLINE_BULLET_ANY if rest[:1].islower() else _INLINE_BULLET
        rest = _INLINE_NUMBER.sub(r"\n\1 ", bullet.sub(r"\n\1 ", rest))
        out += [_heading_line(heading), (f"{first.group(1)} " if first else "") + rest.strip()]
    return "\n".join(line for line in out if line)


def _heading_line(heading: str) -> str:
    """A flattened heading as a line of its own, in the one form ``_RETURN_HEADING`` reads."""
    name = re.sub(r"[#*_:]", "", heading).strip()
    return f"## {name}"


def _add_return_item(items: list[str], line: str) -> None:
    bullet = BULLET.match(line)
    if bullet:
        items.append(line[bullet.end() :].strip())
    elif line[:1] in " \t" and items:
        items[-1] = f"{items[-1]} {line.strip()}"
    else:
        items.append(line.strip())


def _is_item(item: str) -> bool:
    return bool(item) and item.strip("*_ ").lower() not in _NOTHING


def render_insights(answer: str) -> str:
    """Markdown for the Insights section: the return summary as ``###`` subsections, or the
    whole answer (redacted) when it has no such shape."""
    shaped = parse_return_summary(answer)
    if shaped is None:
        return redact(clean_text(answer))[0]
    blocks = [
        "\n".join([f"### {name}", "", *(f"- {' '.join(item.split())}" for item in items)])
        for name, items in shaped.items()
        if items
    ]
    if not blocks:
        return "No decisions, changes, open questions or next steps."
    return redact("\n\n".join(blocks))[0]


def merge_insights(
    ctx: ctxmod.Context, insights: str, *, source: str, at: datetime | None = None
) -> ctxmod.Context:
    """A copy of ``ctx`` with a dated block of insights (a claude.ai answer) appended."""
    body = render_insights(insights)
    if not body:
        return ctx
    when = utc(at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    block = f"**{when}, from {' '.join(source.split()) or 'claude.ai'}**\n\n{body}"
    merged = f"{ctx.insights}\n\n{block}" if ctx.insights else block
    return dataclasses.replace(ctx, insights=merged)
