"""Where people put claude.ai's answer, and where we look for it.

The ``claude_ai_response`` field is the place (a field of that name the user added counts too:
the vault reads it, N6). The 1Password app shows the notes as the one multi-line field, holding
the transfer prompt, so people also paste the answer there, after the prompt (N12): an answer
found in a hand-off's notes is moved into its field (one write), then imported like any other.
When the notes changed but hold no answer we can tell apart, the person is told where the answer
is expected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from claude_session.base import flow
from claude_session.core import handoff
from claude_session.core.project import Project
from claude_session.core.services import Services

if TYPE_CHECKING:
    from claude_session.vault.base import HandoffItem

#: the last line of the return request that ends every built-in prompt (and a template's
#: ``{return_request}``); what follows it in the notes was added by the person
_PROMPT_END = handoff.RETURN_REQUEST.splitlines()[-1]
_CONTEXT_END = "</session-context>"


def added_to_notes(notes: str) -> str:
    """What follows the transfer prompt in the notes ("" when no end of a prompt is there)."""
    ends = [
        notes.rfind(marker) + len(marker)
        for marker in (_PROMPT_END, _CONTEXT_END)
        if marker in notes
    ]
    return notes[max(ends) :].strip() if ends else ""


def answer_in_notes(notes: str) -> str | None:
    """An answer pasted into the notes: what follows the transfer prompt, or the whole notes
    when the answer replaced the prompt; in the return summary's shape either way (a
    template's own closing words are not an answer)."""
    prompt_there = _PROMPT_END in notes or _CONTEXT_END in notes
    added = added_to_notes(notes) if prompt_there else notes.strip()
    return added if added and handoff.parse_return_summary(added) is not None else None


def waiting_answer(
    services: Services, project: Project, *, quiet: bool = False
) -> HandoffItem | None:
    """The newest hand-off whose answer waits: in its field, else pasted into its notes (moved
    into the field now, unless ``quiet``: then only reported)."""
    vault = services.vault
    item = vault.pending_response(project=project.name, repository=project.identity)
    if item is not None:
        return item
    for candidate in vault.list_items(project=project.name, repository=project.identity):
        if candidate.kind != "handoff" or candidate.imported or candidate.has_response:
            continue
        answer = answer_in_notes(candidate.transfer_prompt)
        if answer is None:
            if not quiet and added_to_notes(candidate.transfer_prompt):
                _unshaped(candidate)
            continue
        if quiet:
            return candidate.model_copy(update={"claude_ai_response": answer})
        flow.warn(
            f"claude.ai's answer was found in the notes of {candidate.title}; it is moved into "
            f"its claude_ai_response field (where it is expected) and imported."
        )
        return vault.set_response(candidate.id, answer)
    return None


def with_answer(services: Services, item: HandoffItem) -> HandoffItem:
    """``item`` with its answer in the field: moved there from the notes when pasted there."""
    if item.has_response:
        return item
    answer = answer_in_notes(item.transfer_prompt)
    return item if answer is None else services.vault.set_response(item.id, answer)


def _unshaped(item: HandoffItem) -> None:
    flow.warn(
        f"The notes of {item.title} hold text after the transfer prompt that is not a return "
        f"summary (it lacks the ## Decisions / ## Next steps headings), so it was not imported. "
        f"If it is claude.ai's answer, paste it into the item's claude_ai_response field "
        f"(click Edit to see it) or pipe it into `claude-session handoff receive`."
    )
