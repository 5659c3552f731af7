"""The time one command may spend on 1Password, and the calls made within it.

A 1Password that never answers (a network that drops packets, a desktop app waiting for
approval) would otherwise cost the SDK's own 30 s per request, and a command makes several. So
each command (one ``flow``) gets one ``Budget``: all its 1Password work together may take
``Settings.op_deadline`` seconds (``op_sdk.DEADLINE``, 5, unless ``CLAUDE_SESSION_OP_DEADLINE``
or the routine file's ``op_deadline`` says otherwise), each call waits only for what is left,
and after the first failure that says 1Password cannot be used now (no answer, no network, rate
limit, refused credentials) every later call in the same command fails at once with the same
message. The flows keep the work locally and say so.

``Session.call`` is the one way to call the SDK: within the budget, translated
(``op_sdk.translate``), with one new sign-in after an expired session and one more try after a
server conflict.
"""

from __future__ import annotations

import concurrent.futures
import threading
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from claude_session.base import flow
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
from claude_session.vault.op_latency import LatencyMemory
from claude_session.vault.op_limits import RateLimitMemory
from claude_session.vault.op_sdk import (
    CLOCK,
    Authenticate,
    Clock,
    connect,
    forget,
    run_sync,
    signed_in,
    translate,
)

T = TypeVar("T")


@dataclass
class Budget:
    """One command's 1Password time, and why it stopped trying (if it did)."""

    deadline: float
    seconds: float
    clock: Clock
    failure: VaultError | None = None
    memo: dict[str, Any] = field(default_factory=dict)  # reads kept for the command
    answered: int = 0  # calls that answered in time
    allowed: float = 0.0  # the time the last call was given
    forced: bool = False  # try even while a rate limit is remembered (``sync``)
    limit_checked: bool = False  # the remembered rate limit was looked at
    measured: bool = False  # this command's sign-in and first call were recorded

    def remaining(self) -> float:
        return self.deadline - self.clock.monotonic()


class Budgets:
    """The budget of the calling command (``flow.current()``), made on first use."""

    def __init__(
        self, seconds: float, clock: Clock = CLOCK, sizing: Callable[[], float] | None = None
    ) -> None:
        """``sizing``: the seconds of each new budget, when not always ``seconds``."""
        self.seconds = seconds
        self.clock = clock
        self.sizing = sizing
        self._lock = threading.Lock()
        self._by_flow: dict[int, tuple[weakref.ref[flow.Flow], Budget]] = {}

    def current(self) -> Budget:
        current = flow.current()
        key = id(current)
        with self._lock:
            entry = self._by_flow.get(key)
            if entry is not None and entry[0]() is current:
                return entry[1]
            seconds = self.sizing() if self.sizing is not None else self.seconds
            budget = Budget(self.clock.monotonic() + seconds, seconds, self.clock)
            self._by_flow[key] = (weakref.ref(current), budget)
        weakref.finalize(current, self._drop, key)
        return budget

    def _drop(self, key: int) -> None:
        with self._lock:
            entry = self._by_flow.get(key)
            if entry is not None and entry[0]() is None:
                del self._by_flow[key]


def stops_the_command(error: VaultError) -> bool:
    """Whether later calls in the same command would fail the same way: then they are skipped."""
    if isinstance(error, (StaleItem, ServerConflict, ItemRefused, ItemNotFound)):
        return False
    return isinstance(error, (VaultUnavailable, VaultAuthError))


class Session:
    """Calls to 1Password for one vault object: within the command's budget, translated, with
    one new sign-in after an expired session and one more try after a server conflict."""

    def __init__(
        self,
        settings: Settings,
        *,
        authenticate: Authenticate | None,
        deadline: float,
        clock: Clock = CLOCK,
        approval: float = 0.0,
        limits: RateLimitMemory | None = None,
        latency: LatencyMemory | None = None,
        learned: bool = False,
    ) -> None:
        """``approval``: the seconds a sign-in may take when a person approves it (the desktop
        app), even past ``deadline``; ``limits``: the rate limit remembered across commands;
        ``latency``: where each command's sign-in and first call times are recorded, and
        (``learned``: no deadline was chosen) what sizes each command's deadline (L7)."""
        self.settings = settings
        self.authenticate = authenticate
        self.clock = clock
        self.approval = approval
        self.limits = limits
        self.latency = latency
        sizing = latency.deadline if latency is not None and learned else None
        self.budgets = Budgets(deadline, clock, sizing)

    def budget(self) -> Budget:
        return self.budgets.current()

    def seconds(self) -> float:
        """What a new command may spend: its deadline (measured or set), or the time a person
        may take to approve a desktop sign-in, when longer."""
        sizing = self.budgets.sizing
        return max(sizing() if sizing is not None else self.budgets.seconds, self.approval)

    def call(
        self,
        action: str,
        work: Callable[[Any], Coroutine[Any, Any, T]],
        *,
        writing: bool = False,
        names: tuple[str, ...] = (),
    ) -> T:
        """``work`` done with the process's client; ``names``: the item titles it is about
        (never taken for what the failure was, ``translate``)."""
        budget = self.budget()
        if budget.failure is None and not budget.limit_checked:
            budget.limit_checked = True
            self._remembered_limit(budget)
        if budget.failure is not None:
            raise _again(budget.failure)
        expired_once = conflict_once = False
        while True:
            try:
                return self._once(budget, action, work, writing=writing, names=names)
            except SessionExpired as exc:
                if expired_once:
                    budget.failure = exc
                    raise
                expired_once = True
                forget(self.settings, self.authenticate)
            except ServerConflict as exc:
                if conflict_once:
                    raise
                conflict_once = True
                if _INTERNAL in str(exc):  # the core may have lost track of the client
                    forget(self.settings, self.authenticate)

    def _remembered_limit(self, budget: Budget) -> None:
        """Skip 1Password while a rate limit met by an earlier command is in force (L4),
        unless this command tries at once (``forced``)."""
        if self.limits is None:
            return
        last = self.limits.load()
        if last is None:
            return
        if last.active(self.limits.now()) and not budget.forced:
            budget.failure = RateLimited(last.told())
            raise budget.failure

    def _once(
        self,
        budget: Budget,
        action: str,
        work: Callable[[Any], Coroutine[Any, Any, T]],
        *,
        writing: bool,
        names: tuple[str, ...],
    ) -> T:
        try:
            return self._attempt(budget, work)
        except VaultError:
            raise
        except Exception as raised:
            exc: BaseException = raised
            if isinstance(exc, _SignIn):  # the sign-in failed, not ``action`` (N10)
                exc, action = exc.cause, "signing in to 1Password"
            if isinstance(exc, _TIMEOUTS):
                exc = self._timeout(budget)
                if isinstance(exc, VaultError):
                    raise exc from None
            error = translate(
                exc, action=action, settings=self.settings, writing=writing, names=names
            )
            if isinstance(error, RateLimited) and self.limits is not None:
                error = RateLimited(f"{error} {self.limits.hit().after()}")
            if isinstance(error, VaultAuthError):
                forget(self.settings, self.authenticate)
            if stops_the_command(error) and not isinstance(error, SessionExpired):
                budget.failure = error
            # Keep the cause for debugging unless it could show the token.
            token = self.settings.op_token
            cause = exc if not (token and token in str(exc)) else None
            raise error from cause

    def _attempt(self, budget: Budget, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
        budget.allowed = budget.remaining()
        if budget.allowed <= 0:
            raise TimeoutError
        if self.approval and not signed_in(self.settings, self.authenticate):
            budget.deadline = max(budget.deadline, self.clock.monotonic() + self.approval)
        fresh = not signed_in(self.settings, self.authenticate)
        began = self.clock.monotonic()
        try:
            client = connect(
                self.settings,
                authenticate=self.authenticate,
                timeout=budget.remaining(),
                clock=self.clock,
            )
        except Exception as exc:
            raise _SignIn(exc) from exc
        signed = self.clock.monotonic()
        result = run_sync(work(client), budget.remaining(), clock=self.clock)
        budget.answered += 1
        if self.latency is not None and not budget.measured:
            budget.measured = True
            self.latency.record(
                sign_in=signed - began if fresh else None, call=self.clock.monotonic() - signed
            )
        return result

    def _timeout(self, budget: Budget) -> Exception:
        """What a call that ran out of time is: 1Password not answering, or (when earlier calls
        that answered used most of it) this command's time for 1Password spent (N13)."""
        if budget.answered and budget.allowed < budget.seconds / 2:
            error = VaultUnavailable(
                f"The {budget.seconds:g} s this command may spend on 1Password ran out after "
                f"{budget.answered} call(s) that answered: 1Password is slow, not down. What is "
                f"left waits for the next command (or `claude-session sync`)."
            )
            budget.failure = error
            return error
        return TimeoutError(f"no answer within {budget.allowed:.3g} s")


_TIMEOUTS = (TimeoutError, concurrent.futures.TimeoutError)
_INTERNAL = "had an internal error"  # in ``translate``'s message for the core's internal error


class _SignIn(Exception):
    """A failure of the sign-in that came before the call (``cause``)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _again(first: VaultError) -> VaultError:
    """The error of a call skipped because an earlier one in the command failed."""
    return type(first)(f"{first} (1Password is not tried again in this command)")
