"""The transfer prompt: what the user pastes into claude.ai to continue there, ending with the
request for a return summary in the shape that import understands."""

from __future__ import annotations

from claude_session.context import RETURN_SECTIONS

RETURN_REQUEST = "\n".join(
    [
        "When I ask you for the summary to take back to Claude Code, answer with exactly these",
        "four headings, each followed by a bullet list (write '- none' for an empty one):",
        "",
        *[f"## {name}\n- ..." for name in RETURN_SECTIONS],
    ]
)


def transfer_prompt(*, project: str, branch: str | None, repository: str | None,
                    context_markdown: str) -> str:
    where = f"branch `{branch}`" if branch else "no branch (not a git checkout)"
    repo = f" ({repository})" if repository else ""
    return (
        f"I am moving a work session on the project **{project}**{repo}, {where}, from Claude "
        f"Code to this conversation. The session context below says where the work stands, "
        f"what was done, the open questions and the next steps. Read it, then help me continue "
        f"from there.\n\n"
        f"<session-context>\n{context_markdown.strip()}\n</session-context>\n\n"
        f"{RETURN_REQUEST}\n"
    )
