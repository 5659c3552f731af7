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

Errors: ``op_errors.translate`` (and ``uses_desktop``, re-exported here) turns the SDK's
exceptions into ours.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import hashlib
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import onepassword  # type: ignore[import-untyped]

from claude_session import __version__
from claude_session.base.routines import DEFAULT_OP_DEADLINE
from claude_session.config import Settings
from claude_session.errors import VaultAuthError
from claude_session.vault.op_errors import translate, uses_desktop

__all__ = ["translate", "uses_desktop"]  # where callers have always found them

T = TypeVar("T")

#: ``Client.authenticate``'s shape: (auth, integration_name, integration_version) -> client.
Authenticate = Callable[[Any, str, str], Coroutine[Any, Any, Any]]

INTEGRATION_NAME = "claude-session"
#: All the 1Password work of one command, sign-in included, in seconds, unless the settings say
#: otherwise (``Settings.op_deadline``).
DEADLINE = DEFAULT_OP_DEADLINE
#: A desktop-app sign-in waits for a person to unlock the app and approve: it may take this long
#: unless the deadline was set (``CLAUDE_SESSION_OP_DEADLINE``, ``op_deadline``).
DESKTOP_APPROVAL = 60.0


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
_SIGNINS: dict[tuple[object, str], concurrent.futures.Future[Any]] = {}  # under way
VAULT_IDS: dict[tuple[object, str, str], str] = {}


class _ExitAnchor:
    """Only there to make ``weakref`` register its exit handler before ours (see below)."""


def _quiet_exit() -> None:
    """At exit the SDK releases its clients (a ``weakref.finalize``), and its desktop core
    prints "failed to release client: ..." to stdout when the app is gone by then: after a
    command's ``--json``, which would no longer parse (N9). What is printed from here on goes to
    stderr. Registered after ``weakref``'s handler, so it runs before it."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    sys.stdout = sys.stderr


def _guard_exit() -> None:
    global _EXIT_GUARDED
    if not _EXIT_GUARDED:
        weakref.finalize(_ExitAnchor, lambda: None)  # weakref's atexit handler exists now
        atexit.register(_quiet_exit)
        _EXIT_GUARDED = True


_EXIT_GUARDED = False


def _loop() -> _Loop:
    global _LOOP
    with _LOCK:
        _guard_exit()
        if _LOOP is None or _LOOP.pid != os.getpid():
            # A forked child has the parent's loop object but not its thread: start afresh.
            _LOOP = _Loop()
            _CLIENTS.clear()
            _SIGNINS.clear()
            VAULT_IDS.clear()
        return _LOOP


def reset() -> None:
    """Stop the private loop and forget every client and vault id, as a new process would
    start (tests: what one test blocked or signed in to is not the next one's)."""
    global _LOOP
    with _LOCK:
        old, _LOOP = _LOOP, None
        _CLIENTS.clear()
        _SIGNINS.clear()
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

    One sign-in at a time per credentials: a caller that comes while one is under way waits
    for that one (its own deadline still holds), and a sign-in that ends after its callers gave
    up (a person approving in the desktop app) is kept for the next call, not wasted (L2).

    Raises the SDK's own exceptions: callers translate them (see ``translate``)."""
    fn = authenticator(authenticate)
    key = (fn, fingerprint(settings))
    deadline = clock.monotonic() + timeout  # before the sign-in can start
    with _LOCK:
        runner = _loop()
        client = _CLIENTS.get(key)
        if client is not None:
            return client
        future = _SIGNINS.get(key)
        if future is None:
            future = asyncio.run_coroutine_threadsafe(
                fn(auth_for(settings), INTEGRATION_NAME, integration_version()), runner.loop
            )
            _SIGNINS[key] = future
            future.add_done_callback(functools.partial(_signed_in, key))
    try:
        return clock.wait(future, deadline)
    except (TimeoutError, concurrent.futures.TimeoutError):  # one class from 3.11 only
        raise TimeoutError(f"no answer within {timeout:.3g} s") from None


def _signed_in(key: tuple[object, str], future: concurrent.futures.Future[Any]) -> None:
    """A sign-in ended: its client is the process's (unless ``reset`` forgot it meanwhile)."""
    with _LOCK:
        if _SIGNINS.get(key) is not future:
            return
        del _SIGNINS[key]
        if not future.cancelled() and future.exception() is None:
            _CLIENTS.setdefault(key, future.result())


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
