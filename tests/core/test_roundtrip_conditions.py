"""The claude.ai round trip end to end through the SDK-level fake 1Password (issue 24): a
hand-off is created, the answer is pasted in each place people paste it (flattened as the app
does, every field re-saved on one line), and it is imported exactly once, on resume as on
start, while 1Password is slow, refusing writes, rate-limited or down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claude_session.config import Settings
from claude_session.core.facade import Core
from helpers.fake_onepassword import FakeOnePassword
from helpers.handoff_world import (
    ANSWER,
    core,
    fake,
    handoff,
    import_files,
    imported,
    repo,
    settings,
)
from helpers.onepassword_vault import pass_rate_limit_wait

__all__ = ["core", "fake", "repo", "settings"]  # the fixtures used here


def _field(fake: FakeOnePassword, title: str) -> None:
    fake.user_edits(title, resave=True, claude_ai_response=ANSWER)


def _field_no_spaces(fake: FakeOnePassword, title: str) -> None:
    fake.user_edits(title, resave=True, flatten="strip", claude_ai_response=ANSWER)


def _added_field(fake: FakeOnePassword, title: str) -> None:
    fake.add_field(title, "claude_ai_response", ANSWER)
    fake.user_edits(title, resave=True)


def _notes(fake: FakeOnePassword, title: str) -> None:
    fake.edit_notes(title, fake.item(title).notes + "\n\n" + ANSWER)
    fake.user_edits(title, resave=True)


PLACES = {
    "field": _field,
    "field, breaks dropped": _field_no_spaces,
    "added field": _added_field,
    "notes": _notes,
}


def _slow(fake: FakeOnePassword) -> None:
    fake.stall("*", seconds=0.6)  # every call, sign-in included: 5 s go in about 8 calls


def _refusing(fake: FakeOnePassword) -> None:
    fake.read_only.add(fake.vault_id())


CONDITIONS: dict[str, Callable[[FakeOnePassword], None]] = {
    "slow": _slow,
    "refusing writes": _refusing,
    "rate-limited": lambda f: f.rate_limited(),
    "down": lambda f: f.network_down(),
}


@pytest.mark.parametrize("entry", ["start", "resume"])
@pytest.mark.parametrize("condition", list(CONDITIONS))
@pytest.mark.parametrize("place", list(PLACES))
def test_the_answer_comes_home_once_whatever_1password_does(
    repo: Path,
    fake: FakeOnePassword,
    core: Callable[..., Core],
    settings: Settings,
    place: str,
    condition: str,
    entry: str,
) -> None:
    with core() as c:
        title = handoff(c, repo, summary="Parser done.").handoff_item
    PLACES[place](fake, title)
    with core() as c:
        assert c.status(repo).handoff_waiting is True  # the hook's cache: an answer waits
    CONDITIONS[condition](fake)
    with core(deadline=5.0) as c:
        enter = c.start if entry == "start" else c.resume
        first = enter(repo, session_id="s2")
    assert first.status == "ready" and "Parser done." in first.context  # nothing of it lost
    took = "Keep SQLite for the local tracker" in first.context
    if took:
        assert first.context.count("Keep SQLite for the local tracker") == 1
    else:  # it waits, and the person is told why and what to run
        assert any("import" in w or "sync" in w for w in first.warnings), first.warnings
    if condition == "slow":
        assert took, first.warnings  # slow is not down: the answer is looked for first
    fake.heal()
    if condition == "rate-limited":  # remembered (L4): commands wait until the wait passed
        pass_rate_limit_wait(settings)
    with core() as c:
        second = c.start(repo, session_id="s3")
        c.sync(repo)
    assert (second.imported_item == title) is not took
    assert len(import_files(settings)) == 1  # merged exactly once, on whichever command
    assert imported(fake, title)
    with core() as c:
        assert c.status(repo).handoff_waiting is False
        assert c.start(repo, session_id="s4").imported_item is None
