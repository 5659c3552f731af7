"""``vault/op_sdk.py``: the boundary with the SDK. Every failure becomes our error with a
message that says what to do and never shows the token; the private loop serves callers inside
a running loop, and a call that blocks it still ends at its deadline."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import onepassword
import pytest
from onepassword.core import UniffiCore
from onepassword.desktop_core import DesktopCore
from onepassword.errors import DesktopSessionExpiredException, RateLimitExceededException

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.errors import (
    ItemRefused,
    RateLimited,
    VaultAuthError,
    VaultError,
    VaultUnavailable,
)
from claude_session.vault import op_errors, op_sdk
from claude_session.vault.base import Vault
from claude_session.vault.op_sdk import translate
from helpers import fake_onepassword as fake_texts
from helpers.fake_onepassword import (
    DESKTOP_ERRORS,
    INTERNAL,
    INVALID_INPUT,
    NO_TOKEN,
    OTHER_TOKEN,
    VALID_TOKEN,
    FakeOnePassword,
)
from helpers.onepassword_vault import chain, op_vault, pass_rate_limit_wait
from helpers.vault_contract import make


def test_the_fake_is_reached_through_the_sdks_own_client_and_cores(
    isolated_home: Path, settings: Settings, fake: FakeOnePassword
) -> None:
    """Only the native core and the desktop app's IPC are faked (TESTING.md): every vault test
    runs the SDK's serialization, error parsing and answer validation."""
    client = op_sdk.connect(settings, authenticate=fake.authenticate, clock=fake.clock)
    assert type(client) is onepassword.Client
    assert isinstance(client.items.inner_client.core, UniffiCore)
    fake.desktop_app = True
    fake.desktop_accounts.add("Acme")
    desktop = Settings(home=isolated_home, op_account="Acme")
    app = op_sdk.connect(desktop, authenticate=fake.authenticate, clock=fake.clock)
    assert isinstance(app.items.inner_client.core, DesktopCore)


def test_usable_from_inside_a_running_event_loop(vault: Vault) -> None:
    async def main() -> str:  # as in the MCP server, which runs its own loop
        return make(vault).title

    assert asyncio.run(main()) == "session-widgets-2025-03-14"


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
    if case == "rate limited":  # remembered (L4): not called until the wait has passed
        calls = fake.count()
        with pytest.raises(RateLimited, match="does not call it again before"):
            make(op_vault(settings, fake))
        assert fake.count() == calls
        pass_rate_limit_wait(settings)
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
    if case == "rate limited":  # remembered (L4): tried again once the wait has passed
        pass_rate_limit_wait(settings)
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
    assert VALID_TOKEN not in str(error) and "[REDACTED:secret]" in str(error)


def test_token_echoed_by_the_sdk_stays_out_of_the_traceback(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake)
    make(vault)
    fake.fail("items.list", Exception(f"invalid user input: bad header {VALID_TOKEN}"), times=1)
    with pytest.raises(VaultError) as info:
        vault.list_items()
    assert VALID_TOKEN not in chain(info.value) and "[REDACTED:secret]" in str(info.value)


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


def test_desktop_app_waiting_for_approval_is_told_as_such(isolated_home: Path) -> None:
    """On real time: the desktop app's ctypes call blocks the loop itself, and the wait for
    it must still end at the deadline (the next test gets a new loop: ``_fresh_process``)."""
    fake = FakeOnePassword()
    fake.desktop_app = True
    fake.desktop_accounts.add("Acme")
    fake.stall("authenticate", seconds=0.5, blocking=True, times=1)  # ctypes holds the loop
    vault = op_vault(Settings(home=isolated_home, op_account="Acme"), fake, deadline=0.2)
    with flow.begin(), pytest.raises(VaultUnavailable) as info:
        vault.list_items()
    assert "desktop app did not answer" in str(info.value) and "approve" in str(info.value)
    assert "network" not in str(info.value)


def test_reset_starts_a_new_loop_beside_one_a_call_still_blocks(isolated_home: Path) -> None:
    """On real time: a sign-in holds the loop's thread for 3 s; after ``reset`` the next
    sign-in runs on a new loop (on the old one it would wait those 3 s and time out)."""
    fake = FakeOnePassword()
    fake.stall("authenticate", seconds=3, blocking=True, times=1)
    settings = Settings(home=isolated_home, op_token=VALID_TOKEN)
    with pytest.raises(TimeoutError):
        op_sdk.connect(settings, authenticate=fake.authenticate, timeout=0.1)
    op_sdk.reset()
    assert op_sdk.connect(settings, authenticate=fake.authenticate, timeout=2.0) is not None
    assert fake.authentications == 1  # the blocked one has not finished


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


PERMANENT = [
    ("item too big", lambda f: setattr(f, "item_limit", 200), "item is too big"),
    (
        "over the SDK's message limit",
        lambda f: setattr(f, "message_limit", 300),
        "message size exceeds the limit",
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


def _installed_sdk_texts() -> tuple[bytes, str]:
    """The installed SDK's native core (its strings, lower case) and its Python source."""
    root = Path(onepassword.__file__).parent
    native = b"".join(p.read_bytes() for p in root.rglob("libop_uniffi_core*")).lower()
    source = "".join(p.read_text("utf-8") for p in root.rglob("*.py")).lower()
    assert native, "onepassword-sdk's native core was not found"
    return native, source


def test_every_error_phrase_we_match_still_exists_in_the_installed_sdk() -> None:
    """findings/onepassword-2.md L5: an SDK upgrade that rewords an error must fail here, not
    turn a refusal into an outage in the field. Every phrase ``translate`` matches, and every
    core text the fake raises, occurs in the installed SDK's native core or Python code."""
    native, source = _installed_sdk_texts()
    phrases = {text for rule in op_errors._RULES for text in rule.texts}
    # the fake's texts, as the core composes them ("prefix: reason"): each piece
    for text in (
        fake_texts.MALFORMED,
        fake_texts.REJECTED,
        fake_texts.CALL_UNAUTHENTICATED,
        fake_texts.CONFLICT,
        fake_texts.NOT_ACTIVE,
        fake_texts.TOO_BIG,
        fake_texts.PUT_NOT_FOUND,
        fake_texts.STALE,
        fake_texts.FORBIDDEN,
        fake_texts.INTERNAL_CLIENT.split(": ", 1)[1],
    ):
        phrases |= {piece.strip().lower() for piece in text.split(": ") if piece.strip()}
    phrases |= {"http status client error", "too many requests"}  # TOO_MANY_REQUESTS's parts
    missing = sorted(p for p in phrases if p.encode() not in native and p not in source)
    assert not missing, f"phrases no longer in the installed onepassword-sdk: {missing}"


# --- error kinds, not loose text (issue 24 item 6) ----------------------------------------------


def test_an_http_429_in_text_is_a_rate_limit(vault: Vault, fake: FakeOnePassword) -> None:
    """findings/onepassword-2.md L4: the core may report a 429 as text, under another name."""
    fake.fail("items.create", fake_texts.Named("Auth", fake_texts.TOO_MANY_REQUESTS))
    with flow.begin(), pytest.raises(VaultUnavailable, match="rate limit was reached"):
        make(vault)


def test_an_internal_error_is_tried_again_with_a_new_sign_in_not_refused(
    vault: Vault, fake: FakeOnePassword
) -> None:
    """L3: "an internal error occurred ... Invalid client ID" passes: one more try on a new
    client makes the item; twice in a row it waits for the next command (not failed for good)."""
    fake.fail("items.create", fake_texts.Named("Internal", fake_texts.INTERNAL_CLIENT), times=1)
    with flow.begin():
        assert make(vault).title == "session-widgets-2025-03-14"
    assert fake.authentications == 2
    fake.fail("items.create", fake_texts.Named("Internal", INTERNAL), times=2)
    with flow.begin(), pytest.raises(VaultError) as info:
        make(vault)
    assert not isinstance(info.value, ItemRefused) and "tried again" in str(info.value)


@pytest.mark.parametrize("word", ["connection", "permission", "not found", "timed out"])
def test_an_item_title_cannot_change_what_kind_of_failure_it_was(
    vault: Vault, fake: FakeOnePassword, word: str
) -> None:
    """L5: the core repeats the item's title in its messages; a title holding "connection"
    once turned a refusal into "cannot be reached"."""
    project = "db-" + word.replace(" ", "-")
    fake.fail(
        "items.create",
        Exception(
            f"invalid user input: cannot update item session-{project}-2025-03-14. Editing is "
            f"not supported for unsupported fields"
        ),
    )
    with flow.begin(), pytest.raises(ItemRefused) as info:
        make(vault, project)
    assert "cannot be reached" not in str(info.value)


def test_desktop_session_expired_is_told_by_its_type_for_the_desktop_app(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    """N10: the desktop app's expired session (the SDK's typed exception, after its own
    retry) names the app, not OP_SERVICE_ACCOUNT_TOKEN, and the call that failed."""
    fake.desktop_app = True
    fake.desktop_accounts.add("Acme")
    vault = op_vault(Settings(home=isolated_home, op_account="Acme"), fake)
    with flow.begin():
        vault.list_items()
    fake.fail("items.create", DesktopSessionExpiredException("expired"))
    with flow.begin(), pytest.raises(VaultError) as info:
        make(vault)
    message = str(info.value)
    assert "desktop app ended the session" in message and "creating" in message
    assert "OP_SERVICE_ACCOUNT_TOKEN" not in message and "while signing in" not in message, message


def test_a_failure_after_sign_in_names_the_call_not_the_sign_in(
    vault: Vault, fake: FakeOnePassword
) -> None:
    """N10: a rate limit on the first work call after a good sign-in."""
    fake.fail("vaults.list", RateLimitExceededException("rate limit exceeded"))
    with flow.begin(), pytest.raises(VaultUnavailable) as info:
        vault.list_items()
    assert "looking for the vault" in str(info.value)
    assert "signing in" not in str(info.value)


_JSON_AT_EXIT = """
import contextvars, sys
sys.path[:0] = [{tests!r}, {server!r}]
from helpers import fake_onepassword
fake = fake_onepassword.FakeOnePassword()
fake.desktop_app, fake.release_fails = True, True
fake.desktop_accounts.add("Acme")
fake_onepassword._SERVICE = contextvars.ContextVar("fake", default=fake)  # every sign-in
from claude_session.edges.cli import main
sys.exit(main(["--json", "-C", {repo!r}, "status"]))
"""


def test_json_output_stays_valid_when_the_sdk_prints_at_exit(tmp_path: Path) -> None:
    """findings/onepassword-2.md N9, in a process of its own: the desktop app is gone when the
    SDK releases its client at exit, and the SDK prints "failed to release client" (to stdout,
    as 0.4.2 does): `status --json` still gives one JSON document on stdout."""
    here = Path(__file__).resolve().parents[1]
    repo = tmp_path / "shop"
    repo.mkdir()
    script = _JSON_AT_EXIT.format(
        tests=str(here), server=str(here.parent / "server"), repo=str(repo)
    )
    env = {
        **os.environ,
        "HOME": str(tmp_path / "home"),
        "CLAUDE_CONFIG_DIR": str(tmp_path / "home" / ".claude"),
        "CLAUDE_SESSION_OP_ACCOUNT": "Acme",
    }
    env.pop("OP_SERVICE_ACCOUNT_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "failed to release client" in done.stderr  # the SDK did print
    assert json.loads(done.stdout)["vault"].startswith("1Password vault 'ClaudeSync'")
