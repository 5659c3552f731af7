"""The transfer prompt: what the user pastes into claude.ai to continue a session there.

It tells claude.ai what the project is, where the work stands, the open questions and the next
steps (a digest read from the session context), gives the whole context after that, and ends
with the request for a return summary in the one shape ``context.parse_return_summary``
understands: four ``##`` headings (``context.RETURN_SECTIONS``), each with a bullet list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from claude_session.base import context as ctxmod
from claude_session.base.context import RETURN_SECTIONS
from claude_session.base.redact import redact

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
