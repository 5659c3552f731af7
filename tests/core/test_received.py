"""``core/received.py``: ``handoff receive`` never loses an answer and a kept answer goes to the
hand-off it answers, or waits where the person sees it (findings/onepassword-2.md N3, N4, N5),
through ``Core`` on a real repository and the SDK-level fake 1Password."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.edges import textout
from helpers.fake_onepassword import TOO_BIG, FakeOnePassword
from helpers.handoff_world import (
    ANSWER,
    answer_field,
    core,
    fake,
    handoff,
    kept_answers,
    repo,
    settings,
    warned,
)

__all__ = ["core", "fake", "repo", "settings"]  # the fixtures used here


def _item_made_by(fake: FakeOnePassword, request_id: str) -> str:
    for data in fake.items.values():
        if any(f["title"] == "creation_id" and f["value"] == request_id for f in data["fields"]):
            return str(data["title"])
    raise AssertionError(f"no item made by {request_id}")


def test_a_kept_answer_goes_to_the_handoff_it_answers_not_the_newest(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """N4: offline, hand-off A, its answer (kept), then hand-off B; once 1Password is back, the
    answer lands on A, and B waits for its own."""
    fake.network_down()
    with core() as c:
        handoff(c, repo, "s1", "first hand-off")
        [request_a] = [json.loads(p.read_text())["id"] for p in _requests(settings)]
        assert c.handoff_receive(repo, ANSWER).kept
        handoff(c, repo, "s2", "second hand-off")
    fake.heal()
    with core() as c:
        synced = c.sync(repo)
    title_a = _item_made_by(fake, request_a)
    warned(synced, "Delivered the kept claude.ai answer to " + title_a)
    assert answer_field(fake, title_a) == ANSWER
    [title_b] = [d["title"] for d in fake.items.values() if d["title"] != title_a]
    assert answer_field(fake, title_b) == "" and kept_answers(settings) == []


def test_receive_with_a_reachable_vault_creates_the_queued_handoff_first(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """N4 (related): an older hand-off is open, the newer one still queued: the answer goes to
    the newer one, created first."""
    with core() as c:
        older = handoff(c, repo, "s1", "older").handoff_item
    fake.network_down()
    with core() as c:
        handoff(c, repo, "s2", "newer")
    fake.heal()
    with core() as c:
        received = c.handoff_receive(repo, ANSWER)
    assert received.item is not None and received.item != older
    assert answer_field(fake, received.item) == ANSWER and answer_field(fake, older) == ""


def test_a_kept_answer_without_any_handoff_is_told_by_sync_start_and_status(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """N3: received while 1Password was down, in a project with no hand-off at all: once it is
    back, sync and start say where the answer waits and what to do; status lists it."""
    fake.network_down()
    with core() as c:
        assert c.handoff_receive(repo, ANSWER).kept
    [kept] = kept_answers(settings)
    fake.heal()
    with core() as c:
        synced = c.sync(repo)
        started = c.start(repo, session_id="s1")
        status = c.status(repo)
    for result in (synced, started):
        warned(result, str(kept), "no hand-off item", "pause --handoff")
    [listed] = [p for p in status.pending_handoffs if p.kind == "answer"]
    assert listed.file == str(kept)
    text = textout.render_text("status", status.model_dump(mode="json"))
    assert str(kept) in text and "claude.ai answer" in text
    assert kept_answers(settings) == [kept]


def test_an_answer_1password_refuses_is_kept_not_lost(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """N5: the item is too big with the answer in it: the answer is kept on disk and the
    message no longer claims that "the context stays in its local file"."""
    with core() as c:
        handoff(c, repo)
    fake.item_limit = len(json.dumps(next(iter(fake.items.values())), default=str)) + 2000
    big = ANSWER + "\n".join(f"- detail {n} " + "x" * 80 for n in range(100))
    with core() as c:
        received = c.handoff_receive(repo, big)
    assert received.kept and kept_answers(settings)
    assert json.loads(Path(received.kept).read_text())["answer"] == big
    warning = warned(received, "item is too big", "Nothing is lost")
    assert "context stays" not in warning


def _requests(settings: Settings) -> list[Path]:
    from helpers.handoff_world import pending_requests

    return pending_requests(settings)


def test_an_answer_kept_for_a_handoff_the_vault_refused_goes_to_the_open_one(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """N4's record must not strand an answer: its hand-off was refused for good (too big), so
    it goes to the newest open hand-off, and says so."""
    with core() as c:
        open_one = handoff(c, repo, "s1", "open one").handoff_item
    fake.network_down()
    with core() as c:
        handoff(c, repo, "s2", "refused later")
        assert c.handoff_receive(repo, ANSWER).kept
    fake.heal()
    fake.fail("items.create", Exception(TOO_BIG), times=1)
    with core() as c:
        synced = c.sync(repo)
    warned(synced, "was refused by the vault", "newest open hand-off")
    assert answer_field(fake, open_one) == ANSWER and kept_answers(settings) == []
