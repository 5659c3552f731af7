"""The boundary with ``onepassword-sdk``: its event loop, its clients, the time it may take, and
its exceptions turned into ours. ``vault/onepassword.py`` (the ClaudeSync items) and
``vault/secretref.py`` (``op://`` references) go through here and nowhere else.

The loop. The SDK is async. Every coroutine runs on one private event loop in a daemon thread,
so the callers stay synchronous and may be called from inside a running loop (the MCP server's),
where ``asyncio.run`` would fail.

Clients. One per process and credentials: the SDK signs in over the network on every
``authenticate``, so a client that signed in is kept until the service rejects it.

Time. A 1Password that never answers (a network that drops packets, a desktop app waiting for
approval) would otherwise cost the SDK's own 30 s per request, and a command makes several.
So each command (one ``flow``) gets one ``Budget``: all its 1Password work together may take
``Settings.op_deadline`` seconds (``DEADLINE``, 5, unless ``CLAUDE_SESSION_OP_DEADLINE`` or the
routine file's ``op_deadline`` says otherwise), each call waits only for what is left, and after
the first failure that
says 1Password cannot be used now (no answer, no network, rate limit, refused credentials) every
later call in the same command fails at once with the same message. The flows keep the work
locally and say so.

Errors. The SDK raises bare ``Exception``s carrying the core's message (plus two typed ones, and
``RuntimeError``/``FileNotFoundError`` from the desktop app), so ``translate`` matches the
core's real texts (``strings libop_uniffi_core.so``; see ``tests/helpers/fake_onepassword.py``)
and sorts them by what the caller should do:
- ``StaleItem``: the item changed meanwhile; re-read it and apply the change again;
- ``ServerConflict``: "data conflict occurred on the server"; the same call is tried once more;
- ``SessionExpired``: "session expired" / "bad credentials, please retry"; one new sign-in and
  one more try, then it is an auth error;
- ``ItemRefused`` (permanent: invalid input, item too big, over the SDK's 50 MiB message limit,
  the core's internal error, an archived item): trying again cannot help;
- ``VaultAuthError``: the credentials; ``VaultUnavailable``: try again later;
- ``ItemNotFound``.
No message ever holds the token (``scrub``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import threading
import time
import weakref
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import onepassword  # type: ignore[import-untyped]
from onepassword.errors import RateLimitExceededException  # type: ignore[import-untyped]

from claude_session import __version__
from claude_session.base import flow
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


class _Loop:
    """An event loop running forever in a daemon thread: where every SDK coroutine runs."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, daemon=True, name="claude-session-1password"
        )
        self.thread.start()


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


def run_sync(coro: Coroutine[Any, Any, T], timeout: float) -> T:
    """Run ``coro`` on the private loop and wait for it, from any thread or running loop."""
    runner = _loop()
    if threading.current_thread() is runner.thread:
        coro.close()
        raise RuntimeError("run_sync called from the 1Password loop itself (would deadlock)")
    future = asyncio.run_coroutine_threadsafe(coro, runner.loop)
    try:
        return future.result(max(timeout, 0.0))
    except concurrent.futures.TimeoutError:  # an alias of TimeoutError from 3.11 only
        future.cancel()
        raise TimeoutError(f"no answer within {timeout:.3g} s") from None


# --- the time one command may spend ------------------------------------------------------------


@dataclass
class Budget:
    """One command's 1Password time, and why it stopped trying (if it did)."""

    deadline: float
    seconds: float
    failure: VaultError | None = None
    memo: dict[str, Any] = field(default_factory=dict)  # reads kept for the command

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class Budgets:
    """The budget of the calling command (``flow.current()``), made on first use."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._by_flow: dict[int, tuple[weakref.ref[flow.Flow], Budget]] = {}

    def current(self) -> Budget:
        current = flow.current()
        key = id(current)
        with self._lock:
            entry = self._by_flow.get(key)
            if entry is not None and entry[0]() is current:
                return entry[1]
            budget = Budget(time.monotonic() + self.seconds, self.seconds)
            self._by_flow[key] = (weakref.ref(current), budget)
        weakref.finalize(current, self._drop, key)
        return budget

    def _drop(self, key: int) -> None:
        with self._lock:
            entry = self._by_flow.get(key)
            if entry is not None and entry[0]() is None:
                del self._by_flow[key]


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
    settings: Settings, *, authenticate: Authenticate | None = None, timeout: float = DEADLINE
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
                fn(auth_for(settings), INTEGRATION_NAME, integration_version()), timeout
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


# The core's texts (lower case), most specific first.
_CONFLICT = (
    "data conflict occurred on the server",
    "a conflict occurred on the server",
    "race condition when updating items",
)
_EXPIRED = ("session expired", "bad credentials, please retry")
_MALFORMED = (
    "invalid format",
    "base64 decoding failed",
    "deserialization failed",
    "invalid service account token",
)
_REJECTED = (
    "please rotate",
    "not authenticated",
    "401",
    "unauthorized",
    "invalid user auth parameters",
)
_FORBIDDEN = ("permission", "403", "forbidden")
_ARCHIVED = ("not in an active state",)
_PERMANENT = (
    "item is too big",
    "message size exceeds the limit",
    "invalid user input",
    "bad input passed by the user",
    "an internal error occurred",
    "cannot upload or download files larger",
    "must be part of a section",
    "unknown item patch failure",
    "failed to convert to item",
)
_NETWORK = (
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
)
_NOT_FOUND = ("resource not found", "couldn't be found", "not found")


def _has(text: str, needles: Iterable[str]) -> bool:
    return any(needle in text for needle in needles)


def translate(
    exc: BaseException, *, action: str, settings: Settings, writing: bool = False
) -> VaultError:
    """Our error for what the SDK raised while doing ``action`` (a phrase: 'creating X')."""
    detail = scrub(str(exc) or type(exc).__name__, [settings.op_token])
    low = detail.lower()
    desktop = uses_desktop(settings)
    vault = settings.vault_name
    if isinstance(exc, RateLimitExceededException) or "rate limit" in low:
        return VaultUnavailable(
            f"1Password's rate limit was reached while {action}. Service accounts have hourly "
            f"and daily limits: wait a while, then run `claude-session sync`."
        )
    if isinstance(exc, FileNotFoundError):
        return VaultUnavailable(
            "The 1Password desktop app was not found on this machine, so "
            "CLAUDE_SESSION_OP_ACCOUNT cannot be used. Install the app and turn on Settings > "
            "Developer > Integrate with other apps, or set OP_SERVICE_ACCOUNT_TOKEN instead."
        )
    if isinstance(exc, ImportError):
        return VaultUnavailable(
            f"onepassword-sdk cannot run on this machine ({detail}). Unset "
            f"OP_SERVICE_ACCOUNT_TOKEN and CLAUDE_SESSION_OP_ACCOUNT to use the local vault."
        )
    if isinstance(exc, (TimeoutError, concurrent.futures.TimeoutError)):
        if desktop:
            return VaultUnavailable(
                f"The 1Password desktop app did not answer while {action} ({detail}). Open and "
                f"unlock it and approve the request, then run `claude-session sync`. If "
                f"approving takes longer than {settings.op_deadline:g} s, set "
                f"CLAUDE_SESSION_OP_DEADLINE to more seconds (up to 300)."
            )
        return VaultUnavailable(
            f"1Password did not answer while {action} ({detail}). Check the "
            f"network connection, then run `claude-session sync`."
        )
    if isinstance(exc, RuntimeError) and desktop:
        # The desktop app's own texts carry the fix (Settings > Developer > Integrate with
        # other apps); "connection" in them is not the network's.
        return VaultUnavailable(
            f"The 1Password desktop app could not be used while {action}: {detail}"
        )
    if "not up to date" in low:
        return StaleItem(f"The item changed in 1Password while {action}.")
    if _has(low, _CONFLICT):
        return ServerConflict(
            f"1Password reported a conflict with another writer while "
            f"{action}. Run `claude-session sync` in a moment."
        )
    if _has(low, _EXPIRED):
        return SessionExpired(
            f"1Password ended the session while {action} and signing in "
            f"again did not help ({detail}). Run `claude-session sync` in a "
            f"moment; if it keeps failing, check OP_SERVICE_ACCOUNT_TOKEN."
        )
    if "token was not specified" in low:
        return VaultAuthError(
            "OP_SERVICE_ACCOUNT_TOKEN is empty. Set it to a 1Password service "
            "account token (it starts with ops_), or unset it to use the "
            "local vault."
        )
    if _has(low, _MALFORMED):
        return VaultAuthError(
            "OP_SERVICE_ACCOUNT_TOKEN does not hold a valid 1Password service account token "
            "(malformed or cut short). Copy the whole token (it starts with ops_) or create a "
            "new one in 1Password (Developer > Service Accounts)."
        )
    if "account couldn't be found" in low and desktop:
        return VaultAuthError(
            f"The 1Password desktop app has no account named '{settings.op_account}'. Set "
            f"CLAUDE_SESSION_OP_ACCOUNT to the account name shown at the top of the app's "
            f"sidebar."
        )
    if _has(low, _REJECTED):
        if desktop:
            return VaultAuthError(
                "The 1Password desktop app refused the request: unlock the "
                "app, approve the access prompt, and try again."
            )
        return VaultAuthError(
            "1Password rejected the service account token in OP_SERVICE_ACCOUNT_TOKEN: it has "
            "expired or was revoked. Create a new token for the service account (1Password > "
            "Developer > Service Accounts) and set OP_SERVICE_ACCOUNT_TOKEN to it."
        )
    if _has(low, _FORBIDDEN):
        verb = "write to" if writing else "read"
        return VaultUnavailable(
            f"The 1Password {'account' if desktop else 'service account'} may not {verb} the "
            f"vault '{vault}'. Give it read and write access to '{vault}' (a service account "
            f"gets its vaults when it is created: make a new one if needed), or set "
            f"CLAUDE_SESSION_VAULT to a vault it can write."
        )
    if _has(low, _ARCHIVED):
        return ItemRefused(
            f"1Password refused {action}: the item is archived. Restore it in "
            f"the 1Password app (Archive > Restore) or pick another item."
        )
    if isinstance(exc, ValueError) or _has(low, _PERMANENT):
        return ItemRefused(
            f"1Password refused {action}: {detail}. Trying again will not help; "
            f"the context stays in its local file."
        )
    if _has(low, _NETWORK):
        return VaultUnavailable(
            f"1Password cannot be reached while {action} (network down or 1Password "
            f"unavailable). Check the connection, then run `claude-session sync`."
        )
    if _has(low, _NOT_FOUND):
        return ItemNotFound(f"1Password found nothing while {action} ({detail}).")
    return VaultUnavailable(
        f"1Password failed while {action}: {detail}. Try again; if it keeps "
        f"failing, run `claude-session doctor`."
    )


def stops_the_command(error: VaultError) -> bool:
    """Whether later calls in the same command would fail the same way: then they are skipped."""
    if isinstance(error, (StaleItem, ServerConflict, ItemRefused, ItemNotFound)):
        return False
    return isinstance(error, (VaultUnavailable, VaultAuthError))


class Session:
    """Calls to 1Password for one vault object: within the command's budget, translated, with
    one new sign-in after an expired session and one more try after a server conflict."""

    def __init__(
        self, settings: Settings, *, authenticate: Authenticate | None, deadline: float
    ) -> None:
        self.settings = settings
        self.authenticate = authenticate
        self.budgets = Budgets(deadline)

    def budget(self) -> Budget:
        return self.budgets.current()

    def call(
        self, action: str, work: Callable[[Any], Coroutine[Any, Any, T]], *, writing: bool = False
    ) -> T:
        budget = self.budget()
        if budget.failure is not None:
            raise _again(budget.failure)
        expired_once = conflict_once = False
        while True:
            try:
                return self._once(budget, action, work, writing=writing)
            except SessionExpired as exc:
                if expired_once:
                    budget.failure = exc
                    raise
                expired_once = True
                forget(self.settings, self.authenticate)
            except ServerConflict:
                if conflict_once:
                    raise
                conflict_once = True

    def _once(
        self,
        budget: Budget,
        action: str,
        work: Callable[[Any], Coroutine[Any, Any, T]],
        *,
        writing: bool,
    ) -> T:
        try:
            if budget.remaining() <= 0:
                raise TimeoutError(f"no answer within {budget.seconds:g} s in all")
            if not signed_in(self.settings, self.authenticate):
                action = "signing in to 1Password"
            client = connect(
                self.settings, authenticate=self.authenticate, timeout=budget.remaining()
            )
            return run_sync(work(client), budget.remaining())
        except VaultError:
            raise
        except Exception as exc:
            error = translate(exc, action=action, settings=self.settings, writing=writing)
            if isinstance(error, VaultAuthError):
                forget(self.settings, self.authenticate)
            if stops_the_command(error) and not isinstance(error, SessionExpired):
                budget.failure = error
            # Keep the cause for debugging unless it could show the token.
            token = self.settings.op_token
            cause = exc if not (token and token in str(exc)) else None
            raise error from cause


def _again(first: VaultError) -> VaultError:
    """The error of a call skipped because an earlier one in the command failed."""
    again = type(first)(f"{first} (1Password is not tried again in this command)")
    return again
