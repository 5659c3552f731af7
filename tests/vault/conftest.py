"""Every vault test starts as a new process would: the 1Password loop, its clients, the vault
ids found and the secrets resolved are per-process state, reset before and after each test.

The 1Password fixtures (``fake``, ``settings``, ``vault_factory``, ``vault``) come from
``helpers.onepassword_vault`` for every module here; ``test_local.py`` defines its own
``vault_factory`` and ``vault``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from claude_session.vault import op_sdk
from claude_session.vault.secretref import forget_secrets
from helpers.onepassword_vault import fake, settings, vault, vault_factory  # noqa: F401


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    op_sdk.reset()
    forget_secrets()
    yield
    op_sdk.reset()
    forget_secrets()
