"""``vault/__init__.py``: which vault ``open_vault`` picks, and what the user hears when 1Password
is configured but cannot be used here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.errors import VaultUnavailable
from claude_session.paths import Paths
from claude_session.vault import LocalVault, open_vault
from helpers.fake_onepassword import FakeOnePassword
from helpers.vault_contract import make


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
    with flow.begin() as told:
        vault = open_vault(settings, Paths(settings.home))
    assert (
        isinstance(vault, LocalVault) and "1Password configured but unusable" in vault.description
    )
    assert "onepassword-sdk cannot be loaded" in told.warnings[0]
    with pytest.raises(VaultUnavailable, match="onepassword-sdk cannot be loaded"):
        vault.check()
    assert make(vault).title == "session-widgets-2025-03-14"


def test_doctor_says_when_1password_is_configured_but_unusable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from claude_session.core.facade import Core
    from claude_session.edges.doctor import run_checks

    monkeypatch.setitem(sys.modules, "claude_session.vault.onepassword", None)
    with Core(settings) as core:
        checks = {c.check: c.model_dump() for c in run_checks(core, settings.home).checks}
    assert not checks["vault"]["ok"]
    assert "pip install onepassword-sdk" in checks["vault"]["fix"]
