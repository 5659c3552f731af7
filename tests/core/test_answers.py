"""``core/answers.py``: claude.ai's answer merged once and never lost, whatever 1Password does
while its item is marked imported (findings/onepassword-2.md N1, N7, N13, N14), through ``Core``
on a real repository and the SDK-level fake 1Password."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from claude_session.config import Settings
from claude_session.core.facade import Core
from helpers.fake_onepassword import FakeOnePassword
from helpers.handoff_world import (
    ANSWER,
    OTHER_ANSWER,
    core,
    creation_ids,
    fake,
    handoff,
    import_files,
    imported,
    pending_requests,
    queue_requests,
    repo,
    settings,
    warned,
)

__all__ = ["core", "fake", "repo", "settings"]  # the fixtures used here


def test_a_mark_whose_reply_was_lost_keeps_the_merged_answer(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """N1: the put that marks the item imported reached 1Password, its reply did not: the
    session still gets the answer, and nothing is merged twice afterwards."""
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.user_edits(title, claude_ai_response=ANSWER)
    fake.answer_lost("items.put")
    with core() as c:
        started = c.start(repo, session_id="s2")
    assert started.imported_item == title and "Keep SQLite" in started.context
    warned(started, "is merged", "could not mark it imported", "not merged again")
    assert imported(fake, title)  # the lost reply's put was applied
    with core() as c:
        assert c.import_handoff(repo).status == "nothing_to_import"
        again = c.start(repo, session_id="s3")
    assert again.imported_item is None and len(import_files(settings)) == 1


def test_a_read_only_vault_merges_the_answer_once_not_at_every_start(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """N1 (read-only vault): the first start merges the answer and keeps it although the mark
    is refused; later starts neither merge it again nor throw it away; once the vault takes
    writes again, the item is marked and the answer no longer waits."""
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.user_edits(title, claude_ai_response=ANSWER)
    fake.read_only.add(fake.vault_id())
    with core() as c:
        first = c.start(repo, session_id="s2")
        assert "Keep SQLite" in first.context
        warned(first, "could not mark it imported", "may not write")
    with core() as c:
        second = c.start(repo, session_id="s3")
    assert second.imported_item is None and len(import_files(settings)) == 1
    fake.heal()
    with core() as c:
        assert c.status(repo).handoff_waiting is False  # merged here before: it does not wait
        assert not imported(fake, title)  # status only looks
        third = c.start(repo, session_id="s4")
    assert third.imported_item is None and len(import_files(settings)) == 1
    assert imported(fake, title)


def test_an_import_that_cannot_mark_its_item_is_not_merged_again_by_start(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """N14: ``import`` merged the answer into the paused context, then the mark was refused;
    the next start picks up that context and does not merge the same answer a second time."""
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.user_edits(title, claude_ai_response=ANSWER)
    fake.read_only.add(fake.vault_id())
    with core() as c:
        result = c.import_handoff(repo)
    assert result.status == "imported"
    warned(result, "could not mark it imported")
    fake.heal()
    with core() as c:
        started = c.start(repo, session_id="s1")
    assert started.context.count("Keep SQLite") == 1
    assert imported(fake, title)


def test_an_answer_replaced_during_the_import_waits_instead_of_being_marked(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    """N7: the answer changes between start's read and its mark: the first answer is merged,
    the new one is not marked imported unmerged: the next start merges it."""
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.user_edits(title, claude_ai_response=ANSWER)
    fake.before("items.put", lambda: fake.user_edits(title, claude_ai_response=OTHER_ANSWER))
    with core() as c:
        first = c.start(repo, session_id="s2")
    assert "Keep SQLite" in first.context and "PostgreSQL" not in first.context
    warned(first, "changed while it was imported", "new one waits")
    assert not imported(fake, title)
    with core() as c:
        second = c.start(repo, session_id="s3")
    assert second.imported_item == title and "Move to PostgreSQL" in second.context
    assert imported(fake, title)


def test_queued_handoffs_after_an_outage_do_not_crowd_out_the_waiting_answer(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """N13: six hand-offs queued by an outage and 1Password slow (1 s a create, 5 s per
    command): start imports the waiting answer first, says the time ran out (not that the
    network is down), and the queue is worked off by later commands without duplicates."""
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.user_edits(title, claude_ai_response=ANSWER)
    queued = queue_requests(settings, repo, 6)
    fake.stall("items.create", seconds=1.0)
    with core(deadline=5.0) as c:
        started = c.start(repo, session_id="s2")
    assert started.imported_item == title and "Keep SQLite" in started.context
    warning = warned(started, "ran out after", "slow, not down")
    assert "network" not in warning
    for sid in ("s3", "s4", "s5"):
        with core(deadline=5.0) as c:
            c.start(repo, session_id=sid)
    assert pending_requests(settings) == []
    assert sorted(i for i in creation_ids(fake) if i in queued) == sorted(queued)


# --- the seam with resume, and insights kept (issue 24 item 3) ---------------------------------


def test_resume_brings_in_a_waiting_answer_as_start_does(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """newcomer-2.md 4.6: paused with a hand-off and the answer pasted: /session:resume asks
    the vault (the pause names its item), restores the pause with the answer merged, marks it."""
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.user_edits(title, claude_ai_response=ANSWER)
    with core() as c:
        assert c.status(repo).handoff_waiting is True
        resumed = c.resume(repo, session_id="s2")
    assert resumed.status == "ready" and resumed.imported_item == title
    assert "Parser done." in resumed.context and "Keep SQLite" in resumed.context
    assert imported(fake, title)
    with core() as c:
        assert c.start(repo, session_id="s3").imported_item is None


def test_resume_says_the_answer_waits_and_how_to_take_it_when_1password_is_down(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.user_edits(title, claude_ai_response=ANSWER)
    with core() as c:
        assert c.status(repo).handoff_waiting is True
    fake.network_down()
    with core() as c:
        resumed = c.resume(repo, session_id="s2")
    assert resumed.status == "ready" and "Parser done." in resumed.context
    warned(resumed, "ClaudeSync check skipped", "cannot be reached", "claude-session import")


def test_imported_insights_stay_in_every_later_context_and_handoff(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    """newcomer-2.md 2.13: the answer imported by start is in the next pause's context, the
    resumed one, the end's context (the record names it) and the next hand-off's item."""
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.user_edits(title, claude_ai_response=ANSWER)
    with core() as c:
        assert c.start(repo, session_id="s2").imported_item == title
        paused = c.pause(repo, session_id="s2", summary="Second round.", handoff=True)
        resumed = c.resume(repo, session_id="s3")
        ended = c.end(repo, session_id="s3", summary="Done.", push=False, mode="handoff")
    for text in (
        Path(paused.context_file).read_text(),
        resumed.context,
        Path(ended.context_file).read_text(),
        {f.title: f.value for f in fake.item(ended.handoff_item).fields}["context"],
    ):
        assert "Insights from claude.ai" in text and "Keep SQLite" in text
    assert ended.record.context_id == Path(ended.context_file).stem
