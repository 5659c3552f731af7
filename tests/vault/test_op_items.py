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
    assert raw.tags == ["claudesync", "claudesync/widgets", identity_tag(REPO)]
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
    """The item as a version before the identity tag made it (with the bare name tag)."""
    data = fake.items[item_id]
    data["tags"] = [t.replace("claudesync/", "") for t in data["tags"] if "repo-" not in t]


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
    same_name = {i for i in others if fake.item(i).tags[1] == "claudesync/widgets"}
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


def test_an_answer_in_a_field_the_user_added_with_our_name_is_read(
    vault: Vault, fake: FakeOnePassword
) -> None:
    """findings/onepassword-2.md N6: the app shows our empty claude_ai_response only while
    editing, so the user adds a field of that name and pastes there: that answer is the one
    read, it stays imported once marked, and a later answer goes to every field of the name."""
    item = make(vault)
    fake.add_field(
        item.title, "claude_ai_response", "## Decisions\n- keep sqlite\n## Next steps\n- go"
    )
    waiting = vault.pending_response(project="widgets", repository=REPO)
    assert waiting is not None and "keep sqlite" in waiting.claude_ai_response
    vault.mark_imported(item.id, answer=waiting.claude_ai_response)
    assert vault.pending_response(project="widgets", repository=REPO) is None
    vault.set_response(item.id, "## Decisions\n- use postgres")
    values = [f.value for f in fake.item(item.title).fields if f.title == "claude_ai_response"]
    assert values == ["## Decisions\n- use postgres"] * 2


def test_a_context_the_app_flattened_on_save_is_read_from_the_notes(
    vault: Vault, fake: FakeOnePassword
) -> None:
    """L1-new (likely, not checkable without the app): saving the item in the app flattens
    every field made through the API, the context too; its copy in the transfer prompt (the
    notes keep their lines) is used instead."""
    context = "# Session context\n\nrepository: github.com/acme/widgets\n\n## Notes\n- a\n- b"
    prompt = f"Continue here.\n\n<session-context>\n{context}\n</session-context>\n\nthanks"
    item = make(vault, context=context, transfer_prompt=prompt)
    fake.user_edits(item.title, resave=True, claude_ai_response="## Decisions\n- x")
    assert "\n" not in {f.title: f.value for f in fake.item(item.title).fields}["context"]
    assert vault.get_item(item.id).context == context


def test_imported_stays_imported_when_the_app_drops_line_breaks_without_a_space(
    vault: Vault, fake: FakeOnePassword
) -> None:
    """N8 (hash): an answer imported, then re-saved by the app with its line breaks dropped
    (no space) is the same answer, not a new one."""
    item = make(vault)
    answer = "## Decisions\n- keep sqlite\n## Next steps\n- go"
    vault.set_response(item.id, answer)
    vault.mark_imported(item.id, answer=answer)
    fake.user_edits(item.title, flatten="strip", claude_ai_response=answer)
    assert vault.pending_response(project="widgets", repository=REPO) is None


def test_our_tags_nest_under_claudesync_and_older_tags_still_work(
    vault: Vault, fake: FakeOnePassword
) -> None:
    """findings/onepassword-2.md L6: 1Password's tags are account-wide: the project's name and
    identity nest under ``claudesync`` instead of mixing with the user's own ``widgets`` tag;
    an item tagged the older way (bare name, ``claudesync-repo-``) is still the project's, and
    a ``ClaudeSync`` tag renamed in the app still marks ours."""
    item = make(vault)
    assert all(t == "claudesync" or t.startswith("claudesync/") for t in fake.item(item.id).tags)
    data = fake.items[item.id]
    data["tags"] = ["ClaudeSync", "widgets", "claudesync-repo-" + identity_tag(REPO).split("-")[-1]]
    with flow.begin():  # a new command: listed and read afresh
        vault.set_response(item.id, "## Decisions\n- a\n## Next steps\n- b")
    with flow.begin():
        found = vault.pending_response(project="widgets", repository=REPO)
    assert found is not None and found.id == item.id
