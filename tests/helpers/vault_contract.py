"""What every ClaudeSync vault backend must do, whatever stores the items.

A backend's test module provides (or gets from its conftest) two fixtures and star-imports this
module:

    @pytest.fixture
    def vault_factory(...) -> Callable[[], Vault]:   # a new Vault on the same store each call
    @pytest.fixture
    def vault(vault_factory) -> Iterator[Vault]:     # one of them, closed after the test

    from helpers.vault_contract import *  # noqa: F403

Backend-specific behaviour (file modes, corrupt files, processes) is tested beside the backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from claude_session.errors import ItemNotFound
from claude_session.models import PendingHandoff
from claude_session.vault.base import HandoffItem, Vault, identity_tag

DAY = datetime(2025, 3, 14, 9, 30, tzinfo=timezone.utc)
REPO = "github.com/acme/widgets"


def ask(
    project: str = "widgets",
    *,
    now: datetime = DAY,
    repository: str | None = REPO,
    context: str = "# ctx",
    **kw: Any,
) -> PendingHandoff:
    """A hand-off request as the flows make one (``id`` is the item's ``creation_id``)."""
    values: dict[str, Any] = {"branch": "main", "session_id": "s-1", "machine": "laptop", **kw}
    return PendingHandoff(
        project=project, now=now, repository=repository, context=context, **values
    )


def make(vault: Vault, project: str = "widgets", **kw: Any) -> HandoffItem:
    return vault.create_item(ask(project, **kw))


# --- titles ---------------------------------------------------------------------------------------


def test_title_is_session_project_date(vault: Vault) -> None:
    assert make(vault).title == "session-widgets-2025-03-14"


def test_title_date_is_taken_in_utc(vault: Vault) -> None:
    late_evening_in_new_york = datetime(2025, 3, 14, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert make(vault, now=late_evening_in_new_york).title == "session-widgets-2025-03-15"


def test_same_day_items_get_numbered_titles_and_none_is_overwritten(vault: Vault) -> None:
    items = [make(vault, context=f"ctx {n}") for n in range(3)]
    assert [i.title for i in items] == [
        "session-widgets-2025-03-14",
        "session-widgets-2025-03-14-2",
        "session-widgets-2025-03-14-3",
    ]
    assert [vault.get_item(i.id).context for i in items] == ["ctx 0", "ctx 1", "ctx 2"]


def test_another_day_or_project_starts_a_fresh_title(vault: Vault) -> None:
    make(vault)
    assert make(vault, now=DAY + timedelta(days=1)).title == "session-widgets-2025-03-15"
    assert make(vault, "gears").title == "session-gears-2025-03-14"


def test_unsafe_project_name_gives_a_safe_title(vault: Vault) -> None:
    title = make(vault, "../my project/x").title
    assert "/" not in title and " " not in title and title.startswith("session-")


def test_concurrent_creators_get_distinct_titles(vault_factory: Callable[[], Vault]) -> None:
    created: list[HandoffItem] = []
    errors: list[BaseException] = []

    def worker() -> None:
        own = vault_factory()
        try:
            for _ in range(3):
                created.append(make(own))
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    titles = [i.title for i in created]
    assert len(titles) == 12 and len(set(titles)) == 12
    assert len(vault_factory().list_items(project="widgets")) == 12


# --- fields ---------------------------------------------------------------------------------------


def test_item_keeps_every_field_across_instances(vault_factory: Callable[[], Vault]) -> None:
    item = vault_factory().create_item(
        PendingHandoff(
            project="widgets",
            branch="feature/x",
            session_id="abc",
            machine="desk",
            repository=REPO,
            context="# Context\n\nünïcode ✓",
            transfer_prompt="Paste me",
            kind="sync",
            now=DAY,
        )
    )
    got = vault_factory().get_item(item.id)
    assert got == item
    assert (got.project, got.branch, got.session_id, got.machine, got.repository, got.kind) == (
        "widgets",
        "feature/x",
        "abc",
        "desk",
        REPO,
        "sync",
    )
    assert got.context == "# Context\n\nünïcode ✓" and got.transfer_prompt == "Paste me"
    assert got.claude_ai_response == "" and got.imported is False and got.imported_at is None
    assert got.tags == ["claudesync", "claudesync/widgets", identity_tag(REPO)]
    assert got.timestamp == DAY and got.created_at == DAY and got.timestamp.tzinfo is not None


# --- listing --------------------------------------------------------------------------------------


def test_list_is_newest_first(vault: Vault) -> None:
    middle = make(vault, now=DAY)
    oldest = make(vault, now=DAY - timedelta(hours=5))
    newest = make(vault, now=DAY + timedelta(minutes=1))
    assert [i.id for i in vault.list_items()] == [newest.id, middle.id, oldest.id]


def test_same_instant_items_list_the_later_title_first(vault: Vault) -> None:
    items = [make(vault) for _ in range(3)]
    assert [i.id for i in vault.list_items()] == [i.id for i in reversed(items)]


def test_list_filters_by_project(vault: Vault) -> None:
    mine = make(vault, "widgets", repository=None)
    make(vault, "gears", repository=None)
    assert [i.id for i in vault.list_items(project="widgets")] == [mine.id]
    assert len(vault.list_items()) == 2


def test_list_finds_the_repository_whatever_the_folder_is_called(vault: Vault) -> None:
    there = make(vault, "widgets", repository=REPO)
    make(vault, "gears", repository="github.com/acme/gears")
    found = vault.list_items(project="widgets-checkout", repository=REPO)
    assert [i.id for i in found] == [there.id]
    assert [i.id for i in vault.list_items(repository=REPO)] == [there.id]


def test_same_name_in_another_repository_does_not_match(vault: Vault) -> None:
    make(vault, "app", repository="github.com/someone/app")
    assert vault.list_items(project="app", repository="github.com/acme/app") == []


def test_items_without_repository_match_by_project_name(vault: Vault) -> None:
    local_only = make(vault, "widgets", repository=None)
    assert [i.id for i in vault.list_items(project="widgets", repository=REPO)] == [local_only.id]


# --- get ------------------------------------------------------------------------------------------


def test_get_by_id_and_by_exact_title(vault: Vault) -> None:
    first = make(vault)
    second = make(vault)
    assert vault.get_item(first.id).id == first.id
    assert vault.get_item("session-widgets-2025-03-14-2").id == second.id
    assert vault.get_item("session-widgets-2025-03-14").id == first.id


def test_missing_item_error_names_the_items_there(vault: Vault) -> None:
    item = make(vault)
    with pytest.raises(ItemNotFound) as info:
        vault.get_item("session-nope-2020-01-01")
    message = str(info.value)
    assert "session-nope-2020-01-01" in message and item.title in message and item.id in message
    assert vault.description in message


def test_missing_item_in_empty_vault_says_how_to_create_one(vault: Vault) -> None:
    with pytest.raises(ItemNotFound, match="handoff"):
        vault.get_item("anything")


def test_changing_a_missing_item_raises_item_not_found(vault: Vault) -> None:
    with pytest.raises(ItemNotFound):
        vault.set_response("no-such-item", "hello")
    with pytest.raises(ItemNotFound):
        vault.mark_imported("no-such-item")


# --- responses and import -------------------------------------------------------------------------


def test_nothing_pending_until_a_response_is_filled(vault: Vault) -> None:
    item = make(vault)
    assert vault.pending_response(project="widgets") is None
    vault.set_response(item.id, "  \n ")
    assert vault.pending_response(project="widgets") is None
    vault.set_response(item.title, "## Summary\nDone.")
    pending = vault.pending_response(project="widgets", repository=REPO)
    assert pending is not None and pending.id == item.id
    assert pending.claude_ai_response == "## Summary\nDone."


def test_mark_imported_makes_the_item_not_pending(vault: Vault) -> None:
    item = make(vault)
    vault.set_response(item.id, "answer")
    when = DAY + timedelta(hours=2)
    done = vault.mark_imported(item.id, now=when)
    assert done.imported and done.imported_at == when
    assert vault.get_item(item.id).imported_at == when
    assert vault.pending_response(project="widgets") is None


def test_mark_imported_twice_keeps_the_first_time(vault: Vault) -> None:
    item = make(vault)
    vault.set_response(item.id, "answer")
    vault.mark_imported(item.id, now=DAY + timedelta(hours=1))
    again = vault.mark_imported(item.id, now=DAY + timedelta(hours=9))
    assert again.imported_at == DAY + timedelta(hours=1)


def test_a_new_response_after_import_is_pending_again(vault: Vault) -> None:
    item = make(vault)
    vault.set_response(item.id, "first answer")
    vault.mark_imported(item.id)
    vault.set_response(item.id, "first answer")
    assert vault.pending_response() is None
    vault.set_response(item.id, "second answer")
    pending = vault.pending_response()
    assert pending is not None and pending.claude_ai_response == "second answer"


def test_pending_is_the_newest_answered_item_of_the_project(vault: Vault) -> None:
    old = make(vault, now=DAY - timedelta(days=1))
    unanswered = make(vault, now=DAY + timedelta(hours=1))
    answered = make(vault, now=DAY)
    other = make(vault, "gears", repository="github.com/acme/gears", now=DAY + timedelta(hours=3))
    for item in (old, answered, other):
        vault.set_response(item.id, f"answer for {item.title}")
    pending = vault.pending_response(project="widgets", repository=REPO)
    assert pending is not None and pending.id == answered.id
    assert unanswered.id != pending.id
    vault.mark_imported(answered.id)
    pending = vault.pending_response(project="widgets", repository=REPO)
    assert pending is not None and pending.id == old.id


def test_set_response_updates_updated_at_only(vault: Vault) -> None:
    item = make(vault)
    changed = vault.set_response(item.id, "answer")
    assert changed.created_at == item.created_at and changed.timestamp == item.timestamp
    assert changed.updated_at > item.updated_at
    assert changed.context == item.context and changed.title == item.title


__all__ = [name for name in dir() if name.startswith("test_")]


# --- a create that timed out is found by its creation id -------------------------------------


def test_item_made_with_a_creation_id_is_found_by_it(vault_factory: Callable[[], Vault]) -> None:
    request = ask(id="c-1")
    with vault_factory() as first:
        made = first.create_item(request)
        make(first)
    with vault_factory() as second:
        assert second.find_created(request) == made
        assert second.find_created(ask(id="c-2")) is None
        assert second.get_item(made.id).creation_id == "c-1"


def test_check_names_the_vault(vault: Vault) -> None:
    assert vault.description in vault.check()
