"""A write to 1Password is checked against what 1Password says it stored, never trusted
(findings/onepassword-2.md F10: "put stores what was sent" was the fake's assumption, and
nobody knows whether the real core's conversion keeps every value). The fake's
``put_changes`` plays a service that alters what is put; the SDK's own code runs above it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.errors import ItemRefused
from claude_session.models import PendingHandoff
from helpers.fake_onepassword import FakeOnePassword
from helpers.handoff_world import (
    ANSWER,
    answer_field,
    core,
    fake,
    handoff,
    import_files,
    imported,
    kept_answers,
    repo,
    settings,
    warned,
)
from helpers.onepassword_vault import op_vault

__all__ = ["core", "fake", "repo", "settings"]  # the fixtures used here


def _field(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in data["fields"] if f["title"] == name)


def _truncate_answer(data: dict[str, Any]) -> None:
    answer = _field(data, "claude_ai_response")
    answer["value"] = answer["value"][:40]


def _drop_imported_mark(data: dict[str, Any]) -> None:
    _field(data, "imported_sha256")["value"] = ""


def test_an_answer_stored_cut_short_is_kept_locally_not_reported_stored(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """F10: ``handoff receive`` whose put comes back with less of the answer than was sent
    keeps the whole answer on disk and says why; once 1Password stores it whole, the next sync
    delivers it, and start imports the whole answer."""
    with core() as c:
        title = handoff(c, repo).handoff_item
    fake.put_changes = _truncate_answer
    with core() as c:
        received = c.handoff_receive(repo, ANSWER)
    assert received.item is None and received.kept
    warned(received, "different claude_ai_response than was sent", "Nothing is lost")
    [kept] = kept_answers(settings)
    assert json.loads(kept.read_text())["answer"] == ANSWER

    fake.put_changes = None
    with core() as c:
        synced = c.sync(repo)
        started = c.start(repo, session_id="s2")
    warned(synced, "Delivered the kept claude.ai answer to " + str(title))
    assert answer_field(fake, str(title)) == ANSWER and kept_answers(settings) == []
    assert started.imported_item == title and "Keep SQLite" in started.context


def test_an_imported_mark_that_was_not_stored_is_not_taken_for_done(
    fake: FakeOnePassword, settings: Settings
) -> None:
    """F10: ``mark_imported`` whose put comes back without the mark says so (``ItemRefused``)
    instead of returning an item the caller would take for marked."""
    with op_vault(settings, fake) as vault:
        item = vault.create_item(PendingHandoff(project="shop", context="# Context\n\nx\n"))
        vault.set_response(item.id, ANSWER)
        fake.put_changes = _drop_imported_mark
        with pytest.raises(ItemRefused, match="different imported mark"):
            vault.mark_imported(item.id, answer=ANSWER)
    assert not imported(fake, item.title)


def test_a_mark_not_stored_leaves_the_answer_merged_once(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """F10 with N1: start merges the answer; the mark comes back unstored, which start says;
    the next start does not merge the same answer again, and marks it once 1Password keeps it."""
    with core() as c:
        title = str(handoff(c, repo).handoff_item)
    fake.user_edits(title, claude_ai_response=ANSWER)
    fake.put_changes = _drop_imported_mark
    with core() as c:
        first = c.start(repo, session_id="s2")
    assert "Keep SQLite" in first.context
    warned(first, "could not mark it imported", "different imported mark")
    fake.put_changes = None
    with core() as c:
        second = c.start(repo, session_id="s3")
    assert imported(fake, title) and len(import_files(settings)) == 1
    assert second.context.count("Keep SQLite for the local tracker") == 1
