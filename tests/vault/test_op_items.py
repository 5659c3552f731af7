"""``vault/op_items.py``: the hand-off item as 1Password holds it (a Secure Note with our fields
at the top and in a section, the transfer prompt as its text, tags), what the user does to it in
the 1Password app (answers pasted and flattened, fields and tags added), and which items of a
listing may be a project's."""

from __future__ import annotations

import pytest
from onepassword import ItemCategory

from claude_session.base import flow
from claude_session.core.handoff import parse_return_summary
from claude_session.errors import ItemNotFound
from claude_session.vault.base import Vault, identity_tag
from helpers.fake_onepassword import FakeOnePassword
from helpers.onepassword_vault import crowd
from helpers.vault_contract import REPO, make


def test_item_is_a_secure_note_with_the_spec_fields(vault: Vault, fake: FakeOnePassword) -> None:
    item = make(vault, transfer_prompt="Paste this into claude.ai")
    raw = fake.item(item.title)
    assert raw.category == ItemCategory.SECURENOTE and raw.title == "session-widgets-2025-03-14"
    assert raw.tags == ["claudesync", "widgets", identity_tag(REPO)]
    assert raw.notes == "Paste this into claude.ai"
    fields = {f.title: f.value for f in raw.fields}
    assert fields["context"] == "# ctx" and fields["claude_ai_response"] == ""
    assert (fields["project"], fields["branch"], fields["session_id"], fields["machine"]) == (
        "widgets",
        "main",
        "s-1",
        "laptop",
    )
    assert fields["timestamp"] == "2025-03-14T09:30:00+00:00" and fields["repository"] == REPO
    # The SDK moves fields sent without a section into an untitled one: the top of the item.
    untitled = {s.id for s in raw.sections if not s.title}
    top = [f.title for f in raw.fields if f.section_id in untitled]
    assert top == ["context", "claude_ai_response"]
    assert {f.title for f in raw.fields if f.section_id == "claudesync"} >= {
        "project",
        "branch",
        "timestamp",
        "session_id",
        "machine",
        "creation_id",
    }


def test_answer_pasted_in_the_app_is_pending(vault: Vault, fake: FakeOnePassword) -> None:
    item = make(vault)
    fake.user_edits(item.title, claude_ai_response="## Decisions\n- keep sqlite")
    pending = vault.pending_response(project="widgets", repository=REPO)
    assert pending is not None and pending.id == item.id


def test_answer_replaced_in_the_app_after_import_is_pending_again(
    vault: Vault, fake: FakeOnePassword
) -> None:
    item = make(vault)
    fake.user_edits(item.title, claude_ai_response="first")
    vault.mark_imported(item.id)
    assert vault.pending_response() is None
    fake.user_edits(item.title, claude_ai_response="second")
    pending = vault.pending_response()
    assert pending is not None and pending.claude_ai_response == "second"
    assert pending.imported is False and pending.imported_at is None


def test_fields_and_tags_the_user_added_survive_updates(
    vault: Vault, fake: FakeOnePassword
) -> None:
    item = make(vault)
    fake.user_edits(item.title, my_note="keep me")
    vault.set_response(item.id, "answer")
    vault.mark_imported(item.id)
    fields = {f.title: f.value for f in fake.item(item.id).fields}
    assert fields["my_note"] == "keep me" and fields["claude_ai_response"] == "answer"


def test_items_that_are_not_ours_are_ignored_and_their_titles_avoided(
    vault: Vault, fake: FakeOnePassword
) -> None:
    fake.add_foreign_item("session-widgets-2025-03-14")
    item = make(vault)
    assert item.title == "session-widgets-2025-03-14-2"
    assert [i.id for i in vault.list_items()] == [item.id]
    with pytest.raises(ItemNotFound):
        vault.get_item(fake.item("session-widgets-2025-03-14").id)


def _drop_identity_tag(fake: FakeOnePassword, item_id: str) -> None:
    """The item as a version before the identity tag made it."""
    data = fake.items[item_id]
    data["tags"] = [t for t in data["tags"] if not t.startswith("claudesync-repo-")]


def test_items_made_before_the_identity_tag_are_found_and_tagged_when_written(
    vault: Vault, fake: FakeOnePassword
) -> None:
    others = crowd(vault, 24)
    old = make(vault)
    _drop_identity_tag(fake, old.id)
    stranger = make(vault, "gadgets", repository="github.com/else/gadgets")
    _drop_identity_tag(fake, stranger.id)  # an older item of another project: not read
    vault.set_response(old.id, "## Decisions\n- from an older version")
    fake.read_ids.clear()
    with flow.begin():
        pending = vault.pending_response(project="widgets", repository=REPO)
    assert pending is not None and pending.id == old.id
    assert set(fake.read_ids) == {old.id}
    same_name = {i for i in others if fake.item(i).tags[1] == "widgets"}
    assert same_name and not same_name & set(fake.read_ids)  # tagged: told apart unread
    vault.mark_imported(old.id)
    assert identity_tag(REPO) in fake.item(old.id).tags


def test_answer_flattened_by_the_app_still_gives_every_section(
    vault: Vault, fake: FakeOnePassword
) -> None:
    item = make(vault)
    fake.user_edits(
        item.title,
        claude_ai_response="Summary.\n\n## Decisions\n- keep sqlite\n"
        "## Changes to make\n- add an index\n## Open questions\n- none\n"
        "## Next steps\n- write the migration\n- run the benchmark\n",
    )
    pending = vault.pending_response(project="widgets")
    assert pending is not None and "\n" not in pending.claude_ai_response
    shaped = parse_return_summary(pending.claude_ai_response)
    assert shaped == {
        "Decisions": ["keep sqlite"],
        "Changes to make": ["add an index"],
        "Open questions": [],
        "Next steps": ["write the migration", "run the benchmark"],
    }


def test_imported_answer_resaved_on_one_line_by_the_app_is_not_new(
    vault: Vault, fake: FakeOnePassword
) -> None:
    item = make(vault)
    vault.set_response(item.id, "## Decisions\n- keep sqlite\n## Next steps\n- ship")
    vault.mark_imported(item.id)
    raw = fake.item(item.id)
    answer = next(f.value for f in raw.fields if f.title == "claude_ai_response")
    fake.user_edits(item.id, claude_ai_response=answer)  # the user edits, the app flattens
    assert vault.pending_response(project="widgets") is None
