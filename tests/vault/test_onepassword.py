"""``vault/onepassword.py``: the 1Password vault keeps the vault contract on the fake 1Password,
and handles the races 1Password leaves to its clients (stale versions, one title taken twice),
archived items, damaged items, and creates whose answer was lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from onepassword import ItemCategory

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.errors import ItemRefused, VaultUnavailable
from claude_session.vault.base import Vault
from helpers.fake_onepassword import VALID_TOKEN, FakeOnePassword
from helpers.onepassword_vault import op_vault
from helpers.vault_contract import *  # noqa: F403
from helpers.vault_contract import DAY, ask, make


def test_stale_version_is_reread_and_both_changes_kept(vault: Vault, fake: FakeOnePassword) -> None:
    item = make(vault)
    # Between our get and our put, the user edits the item in the app.
    fake.before("items.put", lambda: fake.user_edits(item.title, my_note="typed meanwhile"))
    vault.set_response(item.id, "answer")
    fields = {f.title: f.value for f in fake.item(item.id).fields}
    assert fields["my_note"] == "typed meanwhile" and fields["claude_ai_response"] == "answer"
    assert fake.calls.count("items.put") == 2


def test_same_title_taken_by_another_machine_meanwhile_is_renamed(
    vault: Vault, fake: FakeOnePassword, settings: Settings
) -> None:
    other_machine = op_vault(settings, fake)
    rival: list[Any] = []

    def race() -> None:  # the other machine creates the same title after our listing
        fake.calls.append("(rival)")
        rival.append(fake._store(_params_like(fake, "session-widgets-2025-03-14")))

    fake.before("items.create", race)
    ours = make(vault)
    assert rival and ours.title == "session-widgets-2025-03-14-2"
    titles = sorted(i.title for i in other_machine.list_items())
    assert titles == ["session-widgets-2025-03-14", "session-widgets-2025-03-14-2"]
    assert fake.item(rival[0].id).title == "session-widgets-2025-03-14"


def _params_like(fake: FakeOnePassword, title: str) -> Any:
    from onepassword import ItemCreateParams, ItemField, ItemFieldType

    return ItemCreateParams(
        category=ItemCategory.SECURENOTE,
        vault_id=fake.vault_id(),
        title=title,
        tags=["claudesync", "widgets"],
        fields=[
            ItemField(id="context", title="context", value="theirs", field_type=ItemFieldType.TEXT)
        ],
    )


def test_damaged_claudesync_item_is_skipped_with_a_warning(
    vault: Vault, fake: FakeOnePassword
) -> None:
    good = make(vault)
    broken = fake.add_foreign_item("hand-made", tags=["claudesync"])
    with flow.begin() as first:
        assert [i.id for i in vault.list_items()] == [good.id]
    assert len(first.warnings) == 1 and broken.id in first.warnings[0]
    with flow.begin() as later:
        vault.list_items()
    assert later.warnings == []  # said once


def test_vault_name_comes_from_settings(isolated_home: Path, fake: FakeOnePassword) -> None:
    fake.add_vault("Team Sync")
    settings = Settings(home=isolated_home, op_token=VALID_TOKEN, vault_name="Team Sync")
    item = make(op_vault(settings, fake))
    assert fake.items[item.id]["vaultId"] == fake.vault_id("Team Sync")


def test_archived_items_are_not_listed_but_keep_their_titles(
    vault: Vault, fake: FakeOnePassword
) -> None:
    first = make(vault)
    fake.archive(first.title)
    assert vault.list_items() == []
    assert make(vault).title == "session-widgets-2025-03-14-2"


def test_archived_item_is_never_updated(vault: Vault, fake: FakeOnePassword) -> None:
    item = make(vault)
    fake.archive(item.id)
    with pytest.raises(ItemRefused, match="archived"):
        vault.set_response(item.id, "answer")
    assert fake.count("items.put") == 0
    assert fake.item(item.id).version == 1


def test_archived_item_changed_meanwhile_is_refused_by_the_service(
    vault: Vault, fake: FakeOnePassword
) -> None:
    item = make(vault)
    fake.before("items.put", lambda: fake.archive(item.id))
    with pytest.raises(ItemRefused, match="archived"):
        vault.set_response(item.id, "answer")


def test_created_item_is_found_by_its_creation_id(vault: Vault, fake: FakeOnePassword) -> None:
    request = ask(id="c-1")
    made = vault.create_item(request)
    make(vault)
    assert vault.find_created(request) == made
    assert vault.find_created(ask(id="c-2")) is None
    fake.archive(made.id)
    assert vault.find_created(request) is not None


def test_create_whose_answer_was_lost_is_found_afterwards(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake, deadline=0.3)
    fake.answer_lost("items.create")
    request = ask(id="c-9", branch=None, session_id=None, machine=None)
    with flow.begin(), pytest.raises(VaultUnavailable, match="did not answer"):
        vault.create_item(request)
    assert len(fake.items) == 1  # 1Password stored it all the same
    found = vault.find_created(request)
    assert found is not None and found.id in fake.items


def test_contract_day_is_what_the_item_keeps(vault: Vault) -> None:
    assert make(vault, now=DAY).timestamp == DAY


def test_check_signs_in_and_finds_the_vault(settings: Settings, fake: FakeOnePassword) -> None:
    assert "signed in, vault found" in op_vault(settings, fake).check()
    assert fake.count("authenticate", "vaults.list") == 2
    fake.network_down()
    with pytest.raises(VaultUnavailable, match="cannot be reached"):
        op_vault(settings.replace(vault_name="Other"), fake).check()
