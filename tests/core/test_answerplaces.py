"""``core/answerplaces.py``: claude.ai's answer is found where people put it in the 1Password
app (our field, a field of the same name they added, the notes), flattened as the app stores it,
or they are told where it is expected (findings/onepassword-2.md N6, N8, N12, L1-new)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claude_session.core.answerplaces import answer_in_notes
from claude_session.core.facade import Core
from helpers.fake_onepassword import FakeOnePassword
from helpers.handoff_world import (
    ANSWER,
    answer_field,
    core,
    fake,
    handoff,
    imported,
    repo,
    settings,
)
from helpers.handoff_world import warned as warned_in

__all__ = ["core", "fake", "repo", "settings"]  # the fixtures used here


def _field(fake: FakeOnePassword, title: str) -> None:
    fake.user_edits(title, claude_ai_response=ANSWER)


def _added_field(fake: FakeOnePassword, title: str) -> None:
    fake.add_field(title, "claude_ai_response", ANSWER)


def _notes(fake: FakeOnePassword, title: str) -> None:
    fake.edit_notes(title, fake.item(title).notes + "\n\n" + ANSWER)


def _notes_replaced(fake: FakeOnePassword, title: str) -> None:
    fake.edit_notes(title, ANSWER)


PLACES = [
    ("our field, flattened by the app", _field),
    ("a field of our name the user added (N6)", _added_field),
    ("the notes, after the prompt (N12)", _notes),
    ("the notes, instead of the prompt (N12)", _notes_replaced),
]


@pytest.mark.parametrize(("place", "paste"), PLACES, ids=[p[0] for p in PLACES])
def test_an_answer_pasted_anywhere_people_paste_it_is_imported_once(
    repo: Path,
    fake: FakeOnePassword,
    core: Callable[..., Core],
    place: str,
    paste: Callable[[FakeOnePassword, str], None],
) -> None:
    with core() as c:
        title = handoff(c, repo).handoff_item
    paste(fake, title)
    with core() as c:
        assert c.status(repo).handoff_waiting is True
        started = c.start(repo, session_id="s2")
    assert started.imported_item == title
    assert "Keep SQLite for the local tracker" in started.context
    assert "### Next steps" in started.context and "- Run the benchmark" in started.context
    assert imported(fake, title) and answer_field(fake, title)
    with core() as c:
        assert c.start(repo, session_id="s3").imported_item is None
        assert c.status(repo).handoff_waiting is False


def test_text_in_the_notes_that_is_no_answer_is_told_with_where_the_answer_goes(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.edit_notes(title, fake.item(title).notes + "\n\nlooks good, will continue tomorrow")
    with core() as c:
        started = c.start(repo, session_id="s2")
    assert started.imported_item is None
    warned_in(started, f"The notes of {title}", "claude_ai_response", "click Edit")


def test_the_prompt_alone_in_the_notes_is_no_answer() -> None:
    from claude_session.core.handoff import transfer_prompt

    prompt = transfer_prompt(
        project="shop", branch="main", repository=None, context_markdown="# ctx\n"
    )
    assert answer_in_notes(prompt) is None
    assert answer_in_notes(prompt + "\n" + ANSWER) == ANSWER.strip()


def test_end_handoff_then_the_app_flattens_every_field_and_start_keeps_the_context(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    """L1-new: after `end --mode handoff` nothing is paused here, so start builds on the
    item's context; the app's save flattened it, and the notes' copy is used: the context keeps
    its project and repository, and `handoff prompt` finds it again."""
    with core() as c:
        c.start(repo, session_id="s1")
        ended = c.end(repo, session_id="s1", summary="Parser done.", push=False, mode="handoff")
    fake.user_edits(ended.handoff_item, resave=True, claude_ai_response=ANSWER)
    with core() as c:
        started = c.start(repo, session_id="s2")
        prompt = c.handoff_prompt(repo)
    assert started.imported_item == ended.handoff_item
    assert "Parser done." in started.context and "project: unknown" not in started.context
    assert prompt.context_file.endswith(".md") and "Keep SQLite" in prompt.prompt
