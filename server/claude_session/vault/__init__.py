"""ClaudeSync vaults: where hand-off items live (SPEC section 5).

Which vault (``open_vault``):
- neither ``OP_SERVICE_ACCOUNT_TOKEN`` nor ``CLAUDE_SESSION_OP_ACCOUNT`` set: the local vault
  under ``claude-session/vault/``;
- one of them set: the 1Password vault (``CLAUDE_SESSION_VAULT``, default ``ClaudeSync``). It
  signs in on first use, so opening it costs no network call;
- one of them set but ``onepassword-sdk`` cannot be loaded here: the local vault, saying so in
  its description, a warning (``flow.warn``) and its ``check`` (``doctor``), with what to do.

A 1Password failure after that (no network, rate limit, token expired, vault missing or
read-only) is an error from the vault, not a switch to the local vault: the local vault would
take the item where neither claude.ai's side nor the next ``start`` (which reads 1Password) looks
for it. The flows already keep what matters: the context is written locally first, a hand-off
that could not be stored waits as a pending request that the next ``start`` or ``sync`` creates
in 1Password, and checks that fail become warnings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.paths import Paths
from claude_session.vault.base import Vault
from claude_session.vault.local import LocalVault

if TYPE_CHECKING:
    from claude_session.vault.op_sdk import Authenticate

__all__ = ["LocalVault", "open_vault"]


def open_vault(
    settings: Settings, paths: Paths, *, authenticate: Authenticate | None = None
) -> Vault:
    """The vault to use; ``authenticate`` replaces the SDK's ``Client.authenticate`` (tests)."""
    if settings.vault_mode == "local":
        return LocalVault(paths)
    try:
        # Imported here: the SDK costs ~150 ms and only 1Password users need it.
        from claude_session.vault.onepassword import OnePasswordVault
    except ImportError as exc:
        return _local_instead(
            paths,
            f"onepassword-sdk cannot be loaded ({exc}); install it "
            f"with `pip install onepassword-sdk`",
        )
    return OnePasswordVault(settings, authenticate=authenticate)


def _local_instead(paths: Paths, reason: str) -> LocalVault:
    vault = LocalVault(paths)
    message = (
        f"1Password is configured but {reason}. Hand-offs go to the {vault.description} "
        f"until then; they are not copied to 1Password later."
    )
    vault.description += " (1Password configured but unusable)"
    vault.unusable_1password = message
    flow.warn(message)
    return vault
