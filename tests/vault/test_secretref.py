"""``vault/secretref.py``: ``op://`` references in settings, resolved through 1Password, kept in
memory for a few minutes, never written; a wrong reference is a config error naming the
setting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from onepassword import ItemCategory

from claude_session.config import Settings
from claude_session.errors import ConfigError, VaultAuthError, VaultError, VaultUnavailable
from claude_session.vault.secretref import CACHE_SECONDS, forget_secrets, resolve_secret
from helpers.fake_onepassword import VALID_TOKEN, FakeOnePassword
from helpers.onepassword_vault import chain


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


def test_a_remembered_secret_is_fetched_again_after_a_few_minutes(
    settings: Settings, fake: FakeOnePassword, tracker_token_item: str
) -> None:
    assert fake.clock is not None

    def resolve() -> str:
        return resolve_secret(
            tracker_token_item, settings, authenticate=fake.authenticate, clock=fake.clock
        )

    assert resolve() == "trk_s3cr3t_value"
    fake.clock.advance(CACHE_SECONDS - 1)
    assert resolve() == "trk_s3cr3t_value" and fake.count("secrets.resolve") == 1
    fake.clock.advance(2)
    assert resolve() == "trk_s3cr3t_value" and fake.count("secrets.resolve") == 2


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
