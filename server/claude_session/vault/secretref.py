"""Secret references: a setting such as ``CLAUDE_SESSION_TRACKER_TOKEN`` may hold
``op://vault/item/[section/]field`` instead of the secret itself.

The reference is resolved through the SDK when the secret is needed, kept in this process's
memory for a few minutes (1Password rate-limits service accounts), and never written anywhere.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from claude_session.config import Settings
from claude_session.errors import ConfigError, ItemNotFound, VaultAuthError, VaultError

if TYPE_CHECKING:
    from claude_session.vault.op_sdk import Authenticate, Clock

PREFIX = "op://"
CACHE_SECONDS = 300.0

# The reference names something 1Password does not have (or not uniquely): the setting is wrong.
_WRONG_REF = (
    "no vault matched",
    "no item matched",
    "more than one",
    "no section matched",
    "cannot be found within the item",
    "could not be parsed",
    "not in an active state",
)

_CACHE: dict[tuple[str, str], tuple[float, str]] = {}
_CACHE_LOCK = threading.Lock()


def is_reference(value: str | None) -> bool:
    return value is not None and value.strip().startswith(PREFIX)


def resolve_secret(
    value: str,
    settings: Settings,
    *,
    name: str = "CLAUDE_SESSION_TRACKER_TOKEN",
    authenticate: Authenticate | None = None,
    timeout: float | None = None,
    clock: Clock | None = None,
) -> str:
    """``value`` itself, or the secret it references when it is an ``op://`` reference.

    Raises ``ConfigError`` when the reference is wrong or cannot be used (no 1Password
    credentials), ``VaultAuthError`` / ``VaultUnavailable`` when 1Password refuses or cannot be
    reached; ``name`` is the setting named in those messages. No message holds a secret.
    ``authenticate`` and ``clock`` replace the SDK's sign-in and the real time (tests).
    """
    if not is_reference(value):
        return value
    ref = value.strip()
    if settings.vault_mode == "local":
        raise ConfigError(
            f"{name} is a 1Password reference ({ref}) but no 1Password "
            f"credentials are set: set OP_SERVICE_ACCOUNT_TOKEN (or "
            f"CLAUDE_SESSION_OP_ACCOUNT for the desktop app), or put the secret "
            f"itself in {name}."
        )
    # The SDK is imported here: only settings that use a reference pay for it.
    from claude_session.vault import op_sdk as op

    clock = clock or op.CLOCK
    _validate(ref, name)
    key = (op.fingerprint(settings), ref)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None and hit[0] > clock.monotonic():
        return hit[1]
    secret = _fetch(
        ref,
        settings,
        name=name,
        authenticate=authenticate,
        timeout=timeout or settings.op_deadline,
        clock=clock,
    )
    with _CACHE_LOCK:
        _CACHE[key] = (clock.monotonic() + CACHE_SECONDS, secret)
    return secret


def forget_secrets() -> None:
    """Drop resolved secrets from memory, as a new process would start (tests)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _validate(ref: str, name: str) -> None:
    """Syntax only, offline (the SDK's own check)."""
    import onepassword  # type: ignore[import-untyped]

    try:
        onepassword.Secrets.validate_secret_reference(ref)
    except Exception as exc:
        raise ConfigError(
            f"{name} holds a malformed 1Password reference ({exc}). The form is "
            f"op://vault/item/field or op://vault/item/section/field."
        ) from exc


def _fetch(
    ref: str,
    settings: Settings,
    *,
    name: str,
    authenticate: Authenticate | None,
    timeout: float,
    clock: Clock,
) -> str:
    from claude_session.base.redact import scrub
    from claude_session.vault import op_sdk as op

    try:
        ends = clock.monotonic() + timeout  # sign-in and resolving share one deadline
        client = op.connect(settings, authenticate=authenticate, timeout=timeout, clock=clock)
        return str(op.run_sync(client.secrets.resolve(ref), ends - clock.monotonic(), clock=clock))
    except VaultError:
        raise
    except Exception as exc:
        error = op.translate(exc, action=f"resolving {ref} for {name}", settings=settings)
        if isinstance(error, ItemNotFound) or any(w in str(exc).lower() for w in _WRONG_REF):
            raise ConfigError(
                f"{name} refers to {ref}, which 1Password cannot resolve "
                f"({scrub(str(exc), [settings.op_token])}). Check the vault, item and field "
                f"names, and that the service account can read that vault."
            ) from None
        if isinstance(error, VaultAuthError):
            op.forget(settings, authenticate)
        raise error from None
