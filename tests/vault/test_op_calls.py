"""``vault/op_calls.py``: few calls. The vault is found once per process; a command lists it
once and reads only the items that may be its project's, 50 to a call, each once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.errors import ItemNotFound, VaultUnavailable
from claude_session.vault.base import Vault
from helpers.fake_onepassword import VALID_TOKEN, FakeOnePassword
from helpers.onepassword_vault import crowd, op_vault
from helpers.vault_contract import DAY, REPO, ask, make


def test_listing_reads_items_fifty_to_a_call(vault: Vault, fake: FakeOnePassword) -> None:
    for n in range(60):
        make(vault, f"p{n}", repository=None)
    before = fake.calls.count("items.get_all")
    assert len(vault.list_items()) == 60
    assert fake.calls.count("items.get_all") - before == 2


def test_signs_in_once_per_process_and_finds_the_vault_once(
    vault_factory: Callable[[], Vault], fake: FakeOnePassword
) -> None:
    for _ in range(3):
        with vault_factory() as opened:
            make(opened)
            opened.list_items()
    assert fake.authentications == 1 and fake.calls.count("vaults.list") == 1


def test_missing_vault_names_it_and_says_what_to_do(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    settings = Settings(home=isolated_home, op_token=VALID_TOKEN, vault_name="Nope")
    with pytest.raises(VaultUnavailable) as info:
        make(op_vault(settings, fake))
    message = str(info.value)
    assert "'Nope'" in message and "CLAUDE_SESSION_VAULT" in message
    assert "'ClaudeSync'" in message  # what it can see


def test_a_command_reads_the_listing_and_each_item_once(
    vault: Vault, fake: FakeOnePassword
) -> None:
    for _ in range(3):
        make(vault)
    fake.calls.clear()
    with flow.begin():
        vault.list_items(project="widgets")
        vault.pending_response(project="widgets")
        newest = vault.list_items(repository=REPO)[0]
        vault.mark_imported(newest.id)
        vault.pending_response(project="widgets")
    assert fake.count("items.list") == 1  # the put replaced what the command had read
    assert fake.count("items.get_all") == 1 and fake.count("items.get") == 0


def test_only_the_projects_items_are_read(vault: Vault, fake: FakeOnePassword) -> None:
    others = crowd(vault)
    mine = make(vault)
    vault.set_response(mine.id, "## Decisions\n- ours")
    fake.calls.clear()
    fake.read_ids.clear()
    with flow.begin():
        assert [i.id for i in vault.list_items(project="widgets", repository=REPO)] == [mine.id]
        pending = vault.pending_response(project="widgets", repository=REPO)
        assert pending is not None and pending.id == mine.id
        vault.mark_imported(mine.id)
    assert fake.read_ids == [mine.id] and not others & set(fake.read_ids)
    assert fake.count() == 3, fake.calls  # one listing, one read, one put


def test_a_retried_create_reads_only_that_days_items_of_the_project(
    vault: Vault, fake: FakeOnePassword
) -> None:
    crowd(vault, 12)
    earlier = make(vault, now=DAY - timedelta(days=1))
    request = ask(id="c-1", title="widgets-on-2025-03-14")  # a routine's title
    mine = vault.create_item(request)
    fake.read_ids.clear()
    found = vault.find_created(request)
    assert found is not None and found.id == mine.id
    assert mine.id in fake.read_ids and earlier.id not in fake.read_ids
    assert len(fake.read_ids) == 1


def test_an_unknown_title_is_told_from_the_listing_without_reading_items(
    vault: Vault, fake: FakeOnePassword
) -> None:
    crowd(vault, 6)
    fake.read_ids.clear()
    with pytest.raises(ItemNotFound, match="session-"):
        vault.get_item("no-such-title")
    assert fake.read_ids == []


def test_doctor_counts_items_from_the_listing(vault: Vault, fake: FakeOnePassword) -> None:
    crowd(vault, 6)
    fake.add_foreign_item("not ours")
    fake.calls.clear()
    assert vault.count_items() == 6 and fake.calls == ["items.list"]
