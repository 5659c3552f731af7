"""The one boundary where onepassword-sdk's exceptions become ours (``translate``).

Errors. The SDK raises bare ``Exception``s carrying the core's message (plus two typed ones, and
``RuntimeError``/``FileNotFoundError`` from the desktop app), so ``translate`` matches the
core's real texts (``strings libop_uniffi_core.so``; see ``tests/helpers/fake_onepassword.py``)
and sorts them by what the caller should do (``_RULES``, a table read top to bottom):
- ``StaleItem``: the item changed meanwhile; re-read it and apply the change again;
- ``ServerConflict``: "data conflict occurred on the server"; the same call is tried once more;
- a rate limit: the typed exception, "rate limit", or an HTTP 429 told in text;
- ``SessionExpired``: "session expired" / "bad credentials, please retry"; one new sign-in and
  one more try, then it is an auth error;
- ``ItemRefused`` (permanent: invalid input, item too big, over the SDK's 50 MiB message limit,
  an archived item): trying again cannot help; the core's "internal error" is not one of them
  (it passes: a ``ServerConflict``, tried again with a new sign-in and by the next command);
- ``VaultAuthError``: the credentials; ``VaultUnavailable``: try again later;
- ``ItemNotFound``.
No message ever holds the token (``redact.scrub``).
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass

from onepassword.errors import (  # type: ignore[import-untyped]
    DesktopSessionExpiredException,
    RateLimitExceededException,
)

from claude_session.base.redact import scrub
from claude_session.config import Settings
from claude_session.errors import (
    ItemNotFound,
    ItemRefused,
    RateLimited,
    ServerConflict,
    SessionExpired,
    StaleItem,
    VaultAuthError,
    VaultError,
    VaultUnavailable,
)


def uses_desktop(settings: Settings) -> bool:
    """Whether the desktop app signs in (no token, an account name)."""
    return not settings.op_token and bool(settings.op_account)


@dataclass(frozen=True)
class _Rule:
    """What the SDK raised (any of ``types``, or any of ``texts`` in its lower-cased message;
    for the desktop app or a service account alone when ``desktop`` says so) and what it
    becomes: ``error`` with ``message`` filled in (``{action} {detail} {vault} {account}
    {deadline:g} {who} {verb}``)."""

    error: type[VaultError]
    message: str
    types: tuple[type[BaseException], ...] = ()
    texts: tuple[str, ...] = ()
    desktop: bool | None = None

    def matches(self, exc: BaseException, low: str, *, desktop: bool) -> bool:
        if self.desktop is not None and self.desktop != desktop:
            return False
        return isinstance(exc, self.types) or any(text in low for text in self.texts)


_TIMEOUTS = (TimeoutError, concurrent.futures.TimeoutError)
_REJECTED = (
    "please rotate",
    "not authenticated",
    "401",
    "unauthorized",
    "invalid user auth parameters",
)
_SYNC = "run `claude-session sync`"

# The core's texts (lower case); the first rule that matches decides.
_RULES = (
    _Rule(
        RateLimited,
        "1Password's rate limit was reached while {action}. Service accounts have hourly and "
        f"daily limits: wait a while, then {_SYNC}.",
        types=(RateLimitExceededException,),
        texts=("rate limit", "too many requests"),
    ),
    _Rule(
        VaultUnavailable,
        "The 1Password desktop app was not found on this machine, so CLAUDE_SESSION_OP_ACCOUNT "
        "cannot be used. Install the app and turn on Settings > Developer > Integrate with "
        "other apps, or set OP_SERVICE_ACCOUNT_TOKEN instead.",
        types=(FileNotFoundError,),
    ),
    _Rule(
        VaultUnavailable,
        "onepassword-sdk cannot run on this machine ({detail}). Unset OP_SERVICE_ACCOUNT_TOKEN "
        "and CLAUDE_SESSION_OP_ACCOUNT to use the local vault.",
        types=(ImportError,),
    ),
    _Rule(
        VaultUnavailable,
        "The 1Password desktop app did not answer while {action} ({detail}): it is waiting "
        "for approval, or locked. Open and unlock it and approve the request, then "
        f"{_SYNC}. If approving takes longer, set CLAUDE_SESSION_OP_DEADLINE to more seconds "
        "(up to 300).",
        types=_TIMEOUTS,
        desktop=True,
    ),
    _Rule(
        VaultUnavailable,
        "1Password did not answer while {action} ({detail}). Check the network connection, "
        f"then {_SYNC}. On a slow link, set CLAUDE_SESSION_OP_DEADLINE to more seconds (without "
        "it, the time grows by itself with 1Password's answer times measured here).",
        types=_TIMEOUTS,
    ),
    # The desktop app's own texts carry the fix (Settings > Developer > Integrate with other
    # apps); "connection" in them is not the network's.
    _Rule(
        VaultUnavailable,
        "The 1Password desktop app could not be used while {action}: {detail}",
        types=(RuntimeError,),
        desktop=True,
    ),
    _Rule(StaleItem, "The item changed in 1Password while {action}.", texts=("not up to date",)),
    _Rule(
        ServerConflict,
        "1Password reported a conflict with another writer while {action}. Run "
        "`claude-session sync` in a moment.",
        texts=(
            "data conflict occurred on the server",
            "a conflict occurred on the server",
            "race condition when updating items",
        ),
    ),
    _Rule(
        SessionExpired,
        "The 1Password desktop app ended the session while {action} and signing in again did "
        "not help ({detail}). Unlock the app and approve the request, then run "
        "`claude-session sync`.",
        types=(DesktopSessionExpiredException,),
        texts=("session expired", "bad credentials, please retry"),
        desktop=True,
    ),
    _Rule(
        SessionExpired,
        "1Password ended the session while {action} and signing in again did not help "
        "({detail}). Run `claude-session sync` in a moment; if it keeps failing, check "
        "OP_SERVICE_ACCOUNT_TOKEN.",
        types=(DesktopSessionExpiredException,),
        texts=("session expired", "bad credentials, please retry"),
    ),
    # The core says this of faults that pass (a client it lost track of): tried again with a
    # new sign-in, and by the next command, never a refusal for good (L3).
    _Rule(
        ServerConflict,
        "1Password had an internal error while {action} ({detail}). It is tried again by the "
        f"next command; {_SYNC} in a moment.",
        texts=("an internal error occurred",),
    ),
    _Rule(
        VaultAuthError,
        "OP_SERVICE_ACCOUNT_TOKEN is empty. Set it to a 1Password service account token (it "
        "starts with ops_), or unset it to use the local vault.",
        texts=("token was not specified",),
    ),
    _Rule(
        VaultAuthError,
        "OP_SERVICE_ACCOUNT_TOKEN does not hold a valid 1Password service account token "
        "(malformed or cut short). Copy the whole token (it starts with ops_) or create a new "
        "one in 1Password (Developer > Service Accounts).",
        texts=(
            "invalid format",
            "base64 decoding failed",
            "deserialization failed",
            "invalid service account token",
        ),
    ),
    _Rule(
        VaultAuthError,
        "The 1Password desktop app has no account named '{account}'. Set "
        "CLAUDE_SESSION_OP_ACCOUNT to the account name shown at the top of the app's sidebar.",
        texts=("account couldn't be found",),
        desktop=True,
    ),
    _Rule(
        VaultAuthError,
        "The 1Password desktop app refused the request: unlock the app, approve the access "
        "prompt, and try again.",
        texts=_REJECTED,
        desktop=True,
    ),
    _Rule(
        VaultAuthError,
        "1Password rejected the service account token in OP_SERVICE_ACCOUNT_TOKEN: it has "
        "expired or was revoked. Create a new token for the service account (1Password > "
        "Developer > Service Accounts) and set OP_SERVICE_ACCOUNT_TOKEN to it.",
        texts=_REJECTED,
    ),
    _Rule(
        VaultUnavailable,
        "The 1Password {who} may not {verb} the vault '{vault}'. Give it read and write access "
        "to '{vault}' (a service account gets its vaults when it is created: make a new one if "
        "needed), or set CLAUDE_SESSION_VAULT to a vault it can write.",
        texts=("permission", "403", "forbidden"),
    ),
    _Rule(
        ItemRefused,
        "1Password refused {action}: the item is archived. Restore it in the 1Password app "
        "(Archive > Restore) or pick another item.",
        texts=("not in an active state",),
    ),
    _Rule(
        ItemRefused,
        "1Password refused {action}: {detail}. Trying again will not help.",
        types=(ValueError,),
        texts=(
            "item is too big",
            "message size exceeds the limit",
            "invalid user input",
            "bad input passed by the user",
            "cannot upload or download files larger",
            "must be part of a section",
            "unknown item patch failure",
            "failed to convert to item",
        ),
    ),
    _Rule(
        VaultUnavailable,
        "1Password cannot be reached while {action} (network down or 1Password unavailable). "
        f"Check the connection, then {_SYNC}.",
        texts=(
            "error sending request",
            "request timeout",
            "timed out",
            "connection",
            "dns",
            "network",
            "request library compatibility",
            "unreachable",
            "tls",
            "certificate",
            "server error",
        ),
    ),
    _Rule(
        ItemNotFound,
        "1Password found nothing while {action} ({detail}).",
        texts=("resource not found", "couldn't be found", "not found"),
    ),
)
_OTHERWISE = _Rule(
    VaultUnavailable,
    "1Password failed while {action}: {detail}. Try again; if it keeps failing, run "
    "`claude-session doctor`.",
)


def translate(
    exc: BaseException,
    *,
    action: str,
    settings: Settings,
    writing: bool = False,
    names: tuple[str, ...] = (),
) -> VaultError:
    """Our error for what the SDK raised while doing ``action`` (a phrase: 'creating X').
    ``names``: the item titles the call was about; the core repeats them in its messages, and a
    title holding "connection" or "permission" must not decide what kind of failure it was."""
    detail = scrub(str(exc) or type(exc).__name__, [settings.op_token])
    desktop = uses_desktop(settings)
    low = detail.lower()
    for name in sorted({n for n in (*names, settings.vault_name) if n}, key=len, reverse=True):
        low = low.replace(name.lower(), "<name>")
    rule = next((r for r in _RULES if r.matches(exc, low, desktop=desktop)), _OTHERWISE)
    return rule.error(
        rule.message.format(
            action=action,
            detail=detail,
            vault=settings.vault_name,
            account=settings.op_account,
            deadline=settings.op_deadline,
            who="account" if desktop else "service account",
            verb="write to" if writing else "read",
        )
    )
