"""The boundary with ``onepassword-sdk``: its event loop, its clients, the time it may take, and
its exceptions turned into ours. The ClaudeSync vault (through ``op_session`` and
``op_calls``) and ``secretref`` (``op://`` references) reach the SDK's client through here and
nowhere else.

The loop. The SDK is async. Every coroutine runs on one private event loop in a daemon thread,
so the callers stay synchronous and may be called from inside a running loop (the MCP server's),
where ``asyncio.run`` would fail.

Clients. One per process and credentials: the SDK signs in over the network on every
``authenticate``, so a client that signed in is kept until the service rejects it.

Time. Each command may spend ``Settings.op_deadline`` seconds on 1Password in all
(``op_session``); every wait here is bounded by what is left of it, and measured by a ``Clock``
that tests replace, so they never sleep.

Errors. The SDK raises bare ``Exception``s carrying the core's message (plus two typed ones, and
``RuntimeError``/``FileNotFoundError`` from the desktop app), so ``translate`` matches the
core's real texts (``strings libop_uniffi_core.so``; see ``tests/helpers/fake_onepassword.py``)
and sorts them by what the caller should do (``_RULES``, a table read top to bottom):
- ``StaleItem``: the item changed meanwhile; re-read it and apply the change again;
- ``ServerConflict``: "data conflict occurred on the server"; the same call is tried once more;
- ``SessionExpired``: "session expired" / "bad credentials, please retry"; one new sign-in and
  one more try, then it is an auth error;
- ``ItemRefused`` (permanent: invalid input, item too big, over the SDK's 50 MiB message limit,
  the core's internal error, an archived item): trying again cannot help;
- ``VaultAuthError``: the credentials; ``VaultUnavailable``: try again later;
- ``ItemNotFound``.
No message ever holds the token (``redact.scrub``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import onepassword  # type: ignore[import-untyped]
from onepassword.errors import RateLimitExceededException  # type: ignore[import-untyped]

from claude_session import __version__
from claude_session.base.redact import scrub
from claude_session.base.routines import DEFAULT_OP_DEADLINE
from claude_session.config import Settings
from claude_session.errors import (
    ItemNotFound,
    ItemRefused,
    ServerConflict,
    SessionExpired,
    StaleItem,
    VaultAuthError,
    VaultError,
    VaultUnavailable,
)

T = TypeVar("T")

#: ``Client.authenticate``'s shape: (auth, integration_name, integration_version) -> client.
Authenticate = Callable[[Any, str, str], Coroutine[Any, Any, Any]]

INTEGRATION_NAME = "claude-session"
#: All the 1Password work of one command, sign-in included, in seconds, unless the settings say
#: otherwise (``Settings.op_deadline``).
DEADLINE = DEFAULT_OP_DEADLINE


def integration_version() -> str:
    """``__version__`` as the core accepts it (at most 20 characters, no ``+``)."""
    return __version__.split("+", 1)[0][:20] or "0"


# --- the private event loop ------------------------------------------------------------------


class Clock:
    """The time 1Password calls are measured by: ``monotonic`` for deadlines, ``wait`` for an
    answer. Tests pass one whose time moves only when the fake 1Password says a call took long."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, future: concurrent.futures.Future[T], deadline: float) -> T:
        """The answer in ``future``; ``TimeoutError`` when it is not there by ``deadline`` (a
        ``monotonic`` time)."""
        return future.result(max(deadline - self.monotonic(), 0.0))


CLOCK = Clock()


class _Loop:
    """An event loop running in a daemon thread until stopped: where every SDK coroutine runs."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self._run, daemon=True, name="claude-session-1password"
        )
        self.thread.start()

    def _run(self) -> None:
        self.loop.run_forever()
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def stop(self) -> None:
        """Cancel what still runs and end the thread, once the loop is free (a call that
        blocks it, like the desktop app's, finishes first)."""
        self.loop.call_soon_threadsafe(self.loop.stop)


_LOCK = threading.RLock()
_LOOP: _Loop | None = None
_CLIENTS: dict[tuple[object, str], Any] = {}
VAULT_IDS: dict[tuple[object, str, str], str] = {}


def _loop() -> _Loop:
    global _LOOP
    with _LOCK:
        if _LOOP is None or _LOOP.pid != os.getpid():
            # A forked child has the parent's loop object but not its thread: start afresh.
            _LOOP = _Loop()
            _CLIENTS.clear()
            VAULT_IDS.clear()
        return _LOOP


def reset() -> None:
    """Stop the private loop and forget every client and vault id, as a new process would
    start (tests: what one test blocked or signed in to is not the next one's)."""
    global _LOOP
    with _LOCK:
        old, _LOOP = _LOOP, None
        _CLIENTS.clear()
        VAULT_IDS.clear()
    if old is not None and old.pid == os.getpid():
        old.stop()


def run_sync(coro: Coroutine[Any, Any, T], timeout: float, *, clock: Clock = CLOCK) -> T:
    """Run ``coro`` on the private loop and wait for it, from any thread or running loop."""
    runner = _loop()
    if threading.current_thread() is runner.thread:
        coro.close()
        raise RuntimeError("run_sync called from the 1Password loop itself (would deadlock)")
    deadline = clock.monotonic() + timeout
    future = asyncio.run_coroutine_threadsafe(coro, runner.loop)
    try:
        return clock.wait(future, deadline)
    except (TimeoutError, concurrent.futures.TimeoutError):  # one class from 3.11 only
        future.cancel()
        raise TimeoutError(f"no answer within {timeout:.3g} s") from None


# --- clients: one per process and credentials ------------------------------------------------


def uses_desktop(settings: Settings) -> bool:
    return not settings.op_token and bool(settings.op_account)


def auth_for(settings: Settings) -> Any:
    """What ``Client.authenticate`` takes: the service account token, else the desktop app."""
    if settings.op_token:
        return settings.op_token
    if settings.op_account:
        return onepassword.DesktopAuth(account_name=settings.op_account)
    raise VaultAuthError(
        "No 1Password credentials: set OP_SERVICE_ACCOUNT_TOKEN to a service "
        "account token, or CLAUDE_SESSION_OP_ACCOUNT to the account name the "
        "1Password desktop app signs in to."
    )


def fingerprint(settings: Settings) -> str:
    """A cache key for the credentials that does not hold them."""
    raw = settings.op_token or f"desktop:{settings.op_account}"
    return hashlib.sha256(raw.encode()).hexdigest()


def authenticator(authenticate: Authenticate | None) -> Authenticate:
    return authenticate or onepassword.Client.authenticate


def connect(
    settings: Settings,
    *,
    authenticate: Authenticate | None = None,
    timeout: float = DEADLINE,
    clock: Clock = CLOCK,
) -> Any:
    """The process's client for these credentials, signing in the first time only.

    Raises the SDK's own exceptions: callers translate them (see ``translate``)."""
    fn = authenticator(authenticate)
    key = (fn, fingerprint(settings))
    with _LOCK:  # threads racing here must not sign in twice
        _loop()
        client = _CLIENTS.get(key)
        if client is None:
            client = run_sync(
                fn(auth_for(settings), INTEGRATION_NAME, integration_version()),
                timeout,
                clock=clock,
            )
            _CLIENTS[key] = client
        return client


def signed_in(settings: Settings, authenticate: Authenticate | None = None) -> bool:
    with _LOCK:
        return (authenticator(authenticate), fingerprint(settings)) in _CLIENTS


def forget(settings: Settings, authenticate: Authenticate | None = None) -> None:
    """Drop the cached client (after the service rejected it): the next call signs in again."""
    fn = authenticator(authenticate)
    with _LOCK:
        _CLIENTS.pop((fn, fingerprint(settings)), None)
        for key in [k for k in VAULT_IDS if k[:2] == (fn, fingerprint(settings))]:
            del VAULT_IDS[key]


# --- the one boundary where the SDK's exceptions become ours ----------------------------------


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
        VaultUnavailable,
        "1Password's rate limit was reached while {action}. Service accounts have hourly and "
        f"daily limits: wait a while, then {_SYNC}.",
        types=(RateLimitExceededException,),
        texts=("rate limit",),
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
        "The 1Password desktop app did not answer while {action} ({detail}). Open and unlock "
        f"it and approve the request, then {_SYNC}. If approving takes longer than "
        "{deadline:g} s, set CLAUDE_SESSION_OP_DEADLINE to more seconds (up to 300).",
        types=_TIMEOUTS,
        desktop=True,
    ),
    _Rule(
        VaultUnavailable,
        "1Password did not answer while {action} ({detail}). Check the network connection, "
        f"then {_SYNC}.",
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
        "1Password ended the session while {action} and signing in again did not help "
        "({detail}). Run `claude-session sync` in a moment; if it keeps failing, check "
        "OP_SERVICE_ACCOUNT_TOKEN.",
        texts=("session expired", "bad credentials, please retry"),
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
            "an internal error occurred",
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
    exc: BaseException, *, action: str, settings: Settings, writing: bool = False
) -> VaultError:
    """Our error for what the SDK raised while doing ``action`` (a phrase: 'creating X')."""
    detail = scrub(str(exc) or type(exc).__name__, [settings.op_token])
    desktop = uses_desktop(settings)
    low = detail.lower()
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
