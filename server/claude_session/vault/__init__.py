"""ClaudeSync vaults: where hand-off items live (SPEC section 5)."""

from __future__ import annotations

from claude_session.config import Settings
from claude_session.paths import Paths
from claude_session.vault.base import HandoffItem, ItemKind, Vault
from claude_session.vault.local import LocalVault

__all__ = ["HandoffItem", "ItemKind", "LocalVault", "Vault", "open_vault"]


def open_vault(settings: Settings, paths: Paths) -> Vault:
    """The vault to use: the local one until the 1Password backend exists."""
    # Seam for the 1Password backend: when settings.vault_mode == "1password" (a service account
    # token or an account is configured), open it here with settings.vault_name, and fall back
    # to LocalVault with a warning (saying which vault is in use) when it cannot be reached.
    return LocalVault(paths)
