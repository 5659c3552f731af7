"""The 1Password vault on a fake of the SDK's client: the vault contract, the item format, the
races 1Password leaves to its clients, and every failure mapped to a message that says what to
do and never shows the token."""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from onepassword import ItemCategory

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.core.handoff import parse_return_summary
from claude_session.errors import (
    ConfigError,
    ItemNotFound,
    VaultAuthError,
    VaultError,
    VaultUnavailable,
)
from claude_session.paths import Paths
from claude_session.vault import LocalVault, op_sdk, open_vault
from claude_session.vault.base import ItemRefused, Vault, identity_tag
from claude_session.vault.onepassword import OnePasswordVault, translate
from claude_session.vault.secretref import forget_secrets, resolve_secret
from helpers.fake_onepassword import (
    CALL_UNAUTHENTICATED,
    DESKTOP_ERRORS,
    INTERNAL,
    INVALID_INPUT,
    NO_TOKEN,
    OTHER_TOKEN,
    VALID_TOKEN,
    FakeOnePassword,
)
from vault_contract import *  # noqa: F403
from vault_contract import DAY, REPO, make


@pytest.fixture
def fake() -> FakeOnePassword:
    return FakeOnePassword()


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    return Settings(home=isolated_home, op_token=VALID_TOKEN)


@pytest.fixture
def vault_factory(settings: Settings, fake: FakeOnePassword) -> Callable[[], Vault]:
    return lambda: OnePasswordVault(settings, authenticate=fake.authenticate)


@pytest.fixture
def vault(vault_factory: Callable[[], Vault]) -> Iterator[Vault]:
    with vault_factory() as opened:
        yield opened


def op_vault(settings: Settings, fake: FakeOnePassword, **kw: Any) -> OnePasswordVault:
    return OnePasswordVault(settings, authenticate=fake.authenticate, **kw)


def chain(exc: BaseException) -> str:
    """Every message in an exception chain: what a traceback in a log would show."""
    return "".join(traceback.format_exception(exc))


# --- the item as 1Password holds it ----------------------------------------------------------


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


def test_items_that_are_not_ours_are_ignored_and_their_titles_avoided(
    vault: Vault, fake: FakeOnePassword
) -> None:
    fake.add_foreign_item("session-widgets-2025-03-14")
    item = make(vault)
    assert item.title == "session-widgets-2025-03-14-2"
    assert [i.id for i in vault.list_items()] == [item.id]
    with pytest.raises(ItemNotFound):
        vault.get_item(fake.item("session-widgets-2025-03-14").id)


def test_damaged_claudesync_item_is_skipped_with_a_warning(
    vault: Vault, fake: FakeOnePassword
) -> None:
    good = make(vault)
    broken = fake.add_foreign_item("hand-made", tags=["claudesync"])
    assert [i.id for i in vault.list_items()] == [good.id]
    assert len(vault.warnings) == 1 and broken.id in vault.warnings[0]
    vault.list_items()
    assert len(vault.warnings) == 1  # said once


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


def test_usable_from_inside_a_running_event_loop(vault: Vault) -> None:
    async def main() -> str:  # as in the MCP server, which runs its own loop
        return make(vault).title

    assert asyncio.run(main()) == "session-widgets-2025-03-14"


def test_vault_name_comes_from_settings(isolated_home: Path, fake: FakeOnePassword) -> None:
    fake.add_vault("Team Sync")
    settings = Settings(home=isolated_home, op_token=VALID_TOKEN, vault_name="Team Sync")
    item = make(op_vault(settings, fake))
    assert fake.items[item.id]["vaultId"] == fake.vault_id("Team Sync")


# --- failures: each one's message, no token in it, nothing lost --------------------------------


def test_missing_vault_names_it_and_says_what_to_do(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    settings = Settings(home=isolated_home, op_token=VALID_TOKEN, vault_name="Nope")
    with pytest.raises(VaultUnavailable) as info:
        make(op_vault(settings, fake))
    message = str(info.value)
    assert "'Nope'" in message and "CLAUDE_SESSION_VAULT" in message
    assert "'ClaudeSync'" in message  # what it can see


FAILURES: list[tuple[str, Callable[[FakeOnePassword], None], type[VaultError], str]] = [
    ("network down", lambda f: f.network_down(), VaultUnavailable, "cannot be reached"),
    ("rate limited", lambda f: f.rate_limited(), VaultUnavailable, "rate limit"),
    ("token revoked", lambda f: f.revoke(VALID_TOKEN), VaultAuthError, "expired or was revoked"),
    (
        "vault read-only",
        lambda f: f.read_only.add(f.vault_id()),
        VaultUnavailable,
        "may not write to the vault 'ClaudeSync'",
    ),
]


@pytest.mark.parametrize(
    ("case", "arrange", "error", "phrase"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_failure_before_sign_in_has_a_message_that_says_what_to_do(
    settings: Settings,
    fake: FakeOnePassword,
    case: str,
    arrange: Callable[[FakeOnePassword], None],
    error: type[VaultError],
    phrase: str,
) -> None:
    arrange(fake)
    with pytest.raises(error) as info:
        make(op_vault(settings, fake))
    assert phrase in str(info.value)
    assert VALID_TOKEN not in chain(info.value)
    fake.heal()
    assert make(op_vault(settings, fake)).title == "session-widgets-2025-03-14"


@pytest.mark.parametrize(
    ("case", "arrange", "error", "phrase"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_failure_after_sign_in_has_a_message_and_loses_no_item(
    settings: Settings,
    fake: FakeOnePassword,
    case: str,
    arrange: Callable[[FakeOnePassword], None],
    error: type[VaultError],
    phrase: str,
) -> None:
    vault = op_vault(settings, fake)
    kept = make(vault)
    arrange(fake)
    with pytest.raises(error) as info:
        make(vault)
        vault.set_response(kept.id, "answer")
    assert phrase in str(info.value) and VALID_TOKEN not in chain(info.value)
    fake.heal()
    assert [i.id for i in op_vault(settings, fake).list_items()][-1] == kept.id


def test_malformed_token(isolated_home: Path, fake: FakeOnePassword) -> None:
    bad = "eyJ-not-a-service-account-token"
    settings = Settings(home=isolated_home, op_token=bad)
    with pytest.raises(VaultAuthError) as info:
        make(op_vault(settings, fake))
    assert "malformed" in str(info.value) and "ops_" in str(info.value)
    assert bad not in chain(info.value)


def test_token_of_another_account_is_rejected(isolated_home: Path, fake: FakeOnePassword) -> None:
    settings = Settings(home=isolated_home, op_token=OTHER_TOKEN)
    with pytest.raises(VaultAuthError, match="OP_SERVICE_ACCOUNT_TOKEN") as info:
        make(op_vault(settings, fake))
    assert OTHER_TOKEN not in chain(info.value)


def test_empty_token_message(settings: Settings) -> None:
    error = translate(Exception(NO_TOKEN), action="signing in", settings=settings)
    assert isinstance(error, VaultAuthError) and "empty" in str(error)


def test_token_echoed_by_an_error_is_scrubbed(settings: Settings) -> None:
    error = translate(Exception(f"weird failure for {VALID_TOKEN}"), action="x", settings=settings)
    assert VALID_TOKEN not in str(error) and "[REDACTED]" in str(error)


def test_token_echoed_by_the_sdk_stays_out_of_the_traceback(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake)
    make(vault)
    fake.fail("items.list", Exception(f"invalid user input: bad header {VALID_TOKEN}"), times=1)
    with pytest.raises(VaultError) as info:
        vault.list_items()
    assert VALID_TOKEN not in chain(info.value) and "[REDACTED]" in str(info.value)


def test_revoked_mid_process_then_new_token_works(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    settings = Settings(home=isolated_home, op_token=VALID_TOKEN)
    vault = op_vault(settings, fake)
    item = make(vault)
    fake.revoke(VALID_TOKEN)
    with pytest.raises(VaultAuthError, match="Create a new token"):
        vault.list_items()
    fake.tokens.add(OTHER_TOKEN)
    fresh = Settings(home=isolated_home, op_token=OTHER_TOKEN)
    assert [i.id for i in op_vault(fresh, fake).list_items()] == [item.id]


def test_desktop_app_missing(isolated_home: Path, fake: FakeOnePassword) -> None:
    settings = Settings(home=isolated_home, op_account="Acme")
    vault = op_vault(settings, fake)
    assert "desktop app" in vault.description
    with pytest.raises(VaultUnavailable, match="desktop app was not found"):
        vault.list_items()


def test_desktop_app_with_unknown_account(isolated_home: Path, fake: FakeOnePassword) -> None:
    fake.desktop_app = True
    fake.desktop_accounts.add("Acme")
    with pytest.raises(VaultAuthError, match="no account named 'Nope'"):
        op_vault(Settings(home=isolated_home, op_account="Nope"), fake).list_items()
    vault = op_vault(Settings(home=isolated_home, op_account="Acme"), fake)
    assert make(vault).title == "session-widgets-2025-03-14"


# --- bounded time: one deadline per command ---------------------------------------------------


def test_1password_that_never_answers_costs_one_wait_per_command(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake, deadline=0.3)
    fake.stall("*")  # sign-in included: the network drops every packet
    with flow.begin():
        with pytest.raises(VaultUnavailable, match="did not answer") as first:
            vault.list_items()
        tried = fake.count()
        with pytest.raises(VaultUnavailable, match="not tried again in this command"):
            make(vault)
        with pytest.raises(VaultUnavailable, match="not tried again"):
            vault.pending_response(project="widgets")
    assert tried == 1 and fake.count() == 1  # later calls never reached 1Password
    assert "run `claude-session sync`" in str(first.value)
    fake.heal()
    with flow.begin():  # the next command tries again
        assert make(vault).title == "session-widgets-2025-03-14"


def test_a_command_that_spent_its_deadline_stops_calling(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake, deadline=0.3)
    make(vault)
    fake.stall("items.list", seconds=3600)
    with flow.begin():
        with pytest.raises(VaultUnavailable, match="did not answer"):
            vault.list_items()
        calls = fake.count()
        with pytest.raises(VaultUnavailable):
            vault.list_items()
    assert fake.count() == calls


def test_desktop_app_waiting_for_approval_is_told_as_such(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    fake.desktop_app = True
    fake.desktop_accounts.add("Acme")
    fake.stall("authenticate", seconds=0.5, blocking=True, times=1)  # ctypes holds the loop
    vault = op_vault(Settings(home=isolated_home, op_account="Acme"), fake, deadline=0.2)
    with flow.begin(), pytest.raises(VaultUnavailable) as info:
        vault.list_items()
    assert "desktop app did not answer" in str(info.value) and "approve" in str(info.value)
    assert "network" not in str(info.value)
    time.sleep(0.4)  # the blocked loop frees itself before the next test


def _desktop(isolated_home: Path, fake: FakeOnePassword, **env: str) -> Settings:
    fake.desktop_app = True
    fake.desktop_accounts.add("Acme")
    config = {"CLAUDE_CONFIG_DIR": str(isolated_home), "CLAUDE_SESSION_OP_ACCOUNT": "Acme"}
    return Settings.from_env({**config, **env})


def test_the_deadline_setting_gives_a_slow_approval_its_time(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    fake.stall("authenticate", seconds=1.5, blocking=True, times=1)  # approval takes 1.5 s
    vault = op_vault(_desktop(isolated_home, fake, CLAUDE_SESSION_OP_DEADLINE="1"), fake)
    with flow.begin(), pytest.raises(VaultUnavailable) as info:
        vault.check()
    assert "approve" in str(info.value) and "CLAUDE_SESSION_OP_DEADLINE" in str(info.value)
    time.sleep(0.8)  # the blocked loop frees itself
    fake.stall("authenticate", seconds=1.5, blocking=True, times=1)
    slow = _desktop(isolated_home, fake, CLAUDE_SESSION_OP_DEADLINE="6")
    assert slow.op_deadline == 6.0
    with flow.begin():
        started = time.monotonic()
        assert "vault found" in op_vault(slow, fake).check()
    assert time.monotonic() - started >= 1.4


def test_a_bad_deadline_setting_is_told_once_and_the_default_kept(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    settings = Settings.from_env(
        {
            "CLAUDE_CONFIG_DIR": str(isolated_home),
            "OP_SERVICE_ACCOUNT_TOKEN": VALID_TOKEN,
            "CLAUDE_SESSION_OP_DEADLINE": "a minute",
        }
    )
    vault = op_vault(settings, fake)
    assert vault._session.budgets.seconds == 5.0
    [warning] = vault.warnings
    assert "CLAUDE_SESSION_OP_DEADLINE is 'a minute'" in warning and "5 s is used" in warning


def test_doctor_names_a_bad_deadline_setting(isolated_home: Path, fake: FakeOnePassword) -> None:
    from claude_session.core.lifecycle import Core
    from claude_session.edges.doctor import run_checks

    env = {"CLAUDE_CONFIG_DIR": str(isolated_home), "OP_SERVICE_ACCOUNT_TOKEN": VALID_TOKEN}
    for value, ok in (("30", True), ("-1", False)):
        settings = Settings.from_env({**env, "CLAUDE_SESSION_OP_DEADLINE": value})
        with Core(settings, vault=op_vault(settings, fake)) as core:
            checks = {c["check"]: c for c in run_checks(core, isolated_home)["checks"]}
        assert checks["settings"]["ok"] is ok, checks["settings"]
        assert checks["vault"]["ok"], checks["vault"]
    assert "'-1'" in checks["settings"]["detail"] and checks["settings"]["fix"]


@pytest.mark.parametrize("text", DESKTOP_ERRORS)
def test_desktop_app_errors_keep_the_sdks_hint(
    isolated_home: Path, fake: FakeOnePassword, text: str
) -> None:
    fake.desktop_app = True
    fake.desktop_accounts.add("Acme")
    fake.desktop_fails(text)
    with pytest.raises(VaultUnavailable) as info:
        op_vault(Settings(home=isolated_home, op_account="Acme"), fake).list_items()
    assert "Integrate with other apps" in str(info.value)
    assert "cannot be reached" not in str(info.value) and "network" not in str(info.value)


# --- errors told apart ---------------------------------------------------------------------------


def test_server_conflict_is_tried_once_more(vault: Vault, fake: FakeOnePassword) -> None:
    item = make(vault)
    fake.conflict("items.put", times=1)
    assert vault.set_response(item.id, "answer").claude_ai_response == "answer"
    fake.conflict("items.put", times=2)
    with pytest.raises(VaultUnavailable, match="conflict with another writer"):
        vault.set_response(item.id, "another answer")
    assert fake.count("items.put") == 4


def test_expired_session_signs_in_again_once_without_telling(
    vault: Vault, fake: FakeOnePassword
) -> None:
    make(vault)
    signed = fake.authentications
    fake.expire_sessions()
    assert len(vault.list_items()) == 1
    assert fake.authentications == signed + 1


def test_bad_credentials_after_a_new_sign_in_is_an_auth_error(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake)
    make(vault)
    fake.fail("items.list", Exception(CALL_UNAUTHENTICATED))
    with pytest.raises(VaultAuthError):
        vault.list_items()
    assert fake.count("authenticate") == 2  # one transparent new sign-in, then the error


PERMANENT = [
    ("item too big", lambda f: setattr(f, "item_limit", 200), "item is too big"),
    (
        "over the SDK's message limit",
        lambda f: setattr(f, "message_limit", 300),
        "message size exceeds the limit",
    ),
    (
        "internal error",
        lambda f: f.fail("items.create", Exception(INTERNAL)),
        "an internal error occurred",
    ),
    (
        "invalid input",
        lambda f: f.fail(
            "items.create",
            Exception(INVALID_INPUT + "field id 'a/b' must contain only alphanumeric characters"),
        ),
        "invalid user input",
    ),
]


@pytest.mark.parametrize(("case", "arrange", "phrase"), PERMANENT, ids=[p[0] for p in PERMANENT])
def test_permanent_failures_are_refusals_not_outages(
    vault: Vault,
    fake: FakeOnePassword,
    case: str,
    arrange: Callable[[FakeOnePassword], None],
    phrase: str,
) -> None:
    arrange(fake)
    with pytest.raises(ItemRefused) as info:
        make(vault)
    assert phrase in str(info.value) and "will not help" in str(info.value)


def test_integration_version_is_one_the_core_accepts(
    settings: Settings, fake: FakeOnePassword, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(op_sdk, "__version__", "0.1.0+g1234abcd")
    assert op_sdk.integration_version() == "0.1.0"
    assert make(op_vault(settings, fake)).title == "session-widgets-2025-03-14"


# --- archived items ------------------------------------------------------------------------------


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


# --- a create that timed out is found, not made twice --------------------------------------------


def test_created_item_is_found_by_its_creation_id(vault: Vault, fake: FakeOnePassword) -> None:
    made = vault.create_item(
        project="widgets",
        branch="main",
        session_id="s-1",
        machine="m",
        repository=REPO,
        context="# ctx",
        now=DAY,
        creation_id="c-1",
    )
    make(vault)
    assert vault.find_created("c-1", project="widgets", now=DAY) == made
    assert vault.find_created("c-2", project="widgets", now=DAY) is None
    fake.archive(made.id)
    assert vault.find_created("c-1", project="widgets", now=DAY) is not None


def test_create_whose_answer_was_lost_is_found_afterwards(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake, deadline=0.3)
    fake.answer_lost("items.create")
    with flow.begin(), pytest.raises(VaultUnavailable, match="did not answer"):
        vault.create_item(
            project="widgets",
            branch=None,
            session_id=None,
            machine=None,
            repository=REPO,
            context="# ctx",
            now=DAY,
            creation_id="c-9",
        )
    assert len(fake.items) == 1  # 1Password stored it all the same
    found = vault.find_created("c-9", project="widgets", now=DAY)
    assert found is not None and found.id in fake.items


# --- few calls ---------------------------------------------------------------------------


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


def _crowd(vault: Vault, count: int = 60) -> set[str]:
    """Other projects' items in the same vault (five of them named like ours, in other
    repositories), each with an answer waiting; their ids."""
    ids = set()
    for n in range(count):
        project = "widgets" if n % 12 == 0 else f"app{n}"
        other = make(vault, project, repository=f"github.com/else/app{n}")
        vault.set_response(other.id, "## Decisions\n- theirs")
        ids.add(other.id)
    return ids


def _drop_identity_tag(fake: FakeOnePassword, item_id: str) -> None:
    """The item as a version before the identity tag made it."""
    data = fake.items[item_id]
    data["tags"] = [t for t in data["tags"] if not t.startswith("claudesync-repo-")]


def test_only_the_projects_items_are_read(vault: Vault, fake: FakeOnePassword) -> None:
    others = _crowd(vault)
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


def test_items_made_before_the_identity_tag_are_found_and_tagged_when_written(
    vault: Vault, fake: FakeOnePassword
) -> None:
    others = _crowd(vault, 24)
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


def test_a_retried_create_reads_only_that_days_items_of_the_project(
    vault: Vault, fake: FakeOnePassword
) -> None:
    _crowd(vault, 12)
    earlier = make(vault, now=DAY - timedelta(days=1))
    mine = make(vault, creation_id="c-1", title="widgets-on-2025-03-14")  # a routine's title
    fake.read_ids.clear()
    found = vault.find_created("c-1", project="widgets", now=DAY, repository=REPO)
    assert found is not None and found.id == mine.id
    assert mine.id in fake.read_ids and earlier.id not in fake.read_ids
    assert len(fake.read_ids) == 1


def test_an_unknown_title_is_told_from_the_listing_without_reading_items(
    vault: Vault, fake: FakeOnePassword
) -> None:
    _crowd(vault, 6)
    fake.read_ids.clear()
    with pytest.raises(ItemNotFound, match="session-"):
        vault.get_item("no-such-title")
    assert fake.read_ids == []


def test_doctor_counts_items_from_the_listing(vault: Vault, fake: FakeOnePassword) -> None:
    _crowd(vault, 6)
    fake.add_foreign_item("not ours")
    fake.calls.clear()
    assert vault.count_items() == 6 and fake.calls == ["items.list"]


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


# --- choosing the vault ------------------------------------------------------------------------


def test_open_vault_with_a_token_is_1password(settings: Settings, fake: FakeOnePassword) -> None:
    vault = open_vault(settings, Paths(settings.home), authenticate=fake.authenticate)
    assert vault.kind == "1password" and "'ClaudeSync'" in vault.description
    assert fake.calls == []  # opening costs no network call
    make(vault)
    assert fake.items


def test_open_vault_with_an_account_is_1password_through_the_desktop_app(
    isolated_home: Path,
) -> None:
    settings = Settings.from_env(
        {"CLAUDE_CONFIG_DIR": str(isolated_home), "CLAUDE_SESSION_OP_ACCOUNT": "Acme"}
    )
    vault = open_vault(settings, Paths(settings.home))
    assert vault.kind == "1password" and "account 'Acme'" in vault.description


def test_open_vault_without_the_sdk_falls_back_to_local_and_says_so(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "claude_session.vault.onepassword", None)
    vault = open_vault(settings, Paths(settings.home))
    assert (
        isinstance(vault, LocalVault) and "1Password configured but unusable" in vault.description
    )
    assert "onepassword-sdk cannot be loaded" in vault.warnings[0]
    assert make(vault).title == "session-widgets-2025-03-14"


def test_contract_day_is_what_the_item_keeps(vault: Vault) -> None:
    assert make(vault, now=DAY).timestamp == DAY


# --- secret references (CLAUDE_SESSION_TRACKER_TOKEN=op://...) ----------------------------------


@pytest.fixture
def tracker_token_item(fake: FakeOnePassword) -> str:
    from onepassword import ItemCreateParams, ItemField, ItemFieldType

    fake._store(
        ItemCreateParams(
            category=ItemCategory.APICREDENTIALS,
            vault_id=fake.vault_id(),
            title="tracker",
            fields=[
                ItemField(
                    id="credential",
                    title="credential",
                    value="trk_s3cr3t_value",
                    field_type=ItemFieldType.CONCEALED,
                )
            ],
        )
    )
    forget_secrets()
    return "op://ClaudeSync/tracker/credential"


def test_plain_value_is_returned_untouched_without_1password(isolated_home: Path) -> None:
    assert resolve_secret("plain-token", Settings(home=isolated_home)) == "plain-token"


def test_reference_resolves_through_1password_and_is_remembered_in_memory(
    settings: Settings, fake: FakeOnePassword, tracker_token_item: str
) -> None:
    for _ in range(3):
        assert (
            resolve_secret(tracker_token_item, settings, authenticate=fake.authenticate)
            == "trk_s3cr3t_value"
        )
    assert fake.calls.count("secrets.resolve") == 1
    written = [
        p
        for p in settings.home.rglob("*")
        if p.is_file() and "trk_s3cr3t_value" in p.read_text(errors="ignore")
    ]
    assert written == []


def test_reference_without_1password_credentials_says_what_to_set(isolated_home: Path) -> None:
    with pytest.raises(ConfigError, match="OP_SERVICE_ACCOUNT_TOKEN"):
        resolve_secret("op://ClaudeSync/tracker/credential", Settings(home=isolated_home))


@pytest.mark.parametrize(
    ("ref", "phrase"),
    [
        ("op://ClaudeSync/tracker/cred@ntial", "malformed 1Password reference"),
        ("op://Nope/tracker/credential", "no vault matched"),
        ("op://ClaudeSync/nothing/credential", "no item matched"),
        ("op://ClaudeSync/tracker/password", "cannot be found"),
    ],
)
def test_wrong_reference_is_a_config_error_naming_the_setting(
    settings: Settings, fake: FakeOnePassword, tracker_token_item: str, ref: str, phrase: str
) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_secret(ref, settings, authenticate=fake.authenticate)
    assert "CLAUDE_SESSION_TRACKER_TOKEN" in str(info.value) and phrase in str(info.value)


@pytest.mark.parametrize(
    ("arrange", "error"),
    [
        (lambda f: f.network_down(), VaultUnavailable),
        (lambda f: f.rate_limited(), VaultUnavailable),
        (lambda f: f.revoke(VALID_TOKEN), VaultAuthError),
    ],
)
def test_reference_failures_are_vault_errors_without_secrets(
    settings: Settings,
    fake: FakeOnePassword,
    tracker_token_item: str,
    arrange: Callable[[FakeOnePassword], None],
    error: type[VaultError],
) -> None:
    arrange(fake)
    with pytest.raises(error) as info:
        resolve_secret(tracker_token_item, settings, authenticate=fake.authenticate)
    assert VALID_TOKEN not in chain(info.value) and "trk_s3cr3t" not in chain(info.value)
    fake.heal()
    assert (
        resolve_secret(tracker_token_item, settings, authenticate=fake.authenticate)
        == "trk_s3cr3t_value"
    )


def test_check_signs_in_and_finds_the_vault(settings: Settings, fake: FakeOnePassword) -> None:
    assert "signed in, vault found" in op_vault(settings, fake).check()
    assert fake.count("authenticate", "vaults.list") == 2
    fake.network_down()
    with pytest.raises(VaultUnavailable, match="cannot be reached"):
        op_vault(settings.replace(vault_name="Other"), fake).check()
