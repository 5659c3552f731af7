"""What every request passes before the routes: body limits and deadlines, the Origin check on
the UI's forms, security headers, and the log-in rate limit.

    Guard            ASGI middleware: body size and read deadline per request, Origin check on
                     UI POSTs, security headers on every response
    LoginThrottle    failed log-ins per client address and per key (its whole hash, never the
                     prefix others see), counted in the database for every worker; 429 with
                     Retry-After
    form_fields      a UI form's fields, bounded in number (400 past it)

A deadline for a request's headers is the reverse proxy's (nginx ``client_header_timeout``):
an exposed tracker belongs behind one (README, "Running the tracker for a team").

A browser always sends ``Origin`` on a cross-site POST, so a POST to the UI whose Origin (or,
without one, Referer) is not this site or one of ``allowed_origins`` is refused with 403. A POST
with neither header is not from a browser form, so CSRF does not apply to it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from claude_session.tracker.store.auth import hash_secret
from claude_session.tracker.store.limits import API_BODY
from claude_session.tracker.store.storage import Store

FORM_BODY = 16 * 1024  # the UI's forms carry a key or an id
FORM_FIELDS = 10  # fields of a UI form read at most (ours have two)
BODY_DEADLINE = 30.0  # seconds for a whole body
CHUNK_DEADLINE = 10.0  # seconds between two pieces of a body

# No script at all; styles and images from this site; forms post only here; never framed.
# Referrer-Policy same-origin, not no-referrer: under no-referrer a browser sends
# "Origin: null" even on its own forms, and the Origin check could not tell them apart.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The body is larger than {limit} bytes.")


class TooSlow(HTTPException):
    def __init__(self) -> None:
        super().__init__(408, "The request body arrived too slowly; send it again.")


def body_limit(path: str) -> int:
    return API_BODY if path.startswith("/api/") else FORM_BODY


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, or None when it has none (``null``, junk)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def form_fields(body: bytes) -> dict[str, str]:
    """A UI form's fields, the first value of each; a form of more than ``FORM_FIELDS``
    fields is a 400 (redteam N41: the parser's ValueError was a 500 with a traceback)."""
    try:
        parsed = parse_qs(body.decode("utf-8", "replace"), max_num_fields=FORM_FIELDS)
    except ValueError as exc:
        raise HTTPException(
            400, f"This form has more than {FORM_FIELDS} fields; send the tracker's own form."
        ) from exc
    return {name: values[0] for name, values in parsed.items()}


Refuse = Callable[[Request, Exception], Awaitable[Response]]


class Guard:
    """ASGI middleware: body limit and deadline, UI Origin check, security headers.

    ``refuse`` renders a refusal made before the routes run (the app's HTTPException handler,
    so the API answers JSON and the UI a page); refusals while a route reads its body are
    HTTPExceptions raised from ``receive`` and reach the same handler through the routes.
    """

    def __init__(
        self,
        app: ASGIApp,
        refuse: Refuse,
        allowed_origins: Iterable[str] = (),
        body_deadline: float = BODY_DEADLINE,
        chunk_deadline: float = CHUNK_DEADLINE,
    ) -> None:
        self.app, self.refuse = app, refuse
        self.allowed = {o.rstrip("/").lower() for o in allowed_origins if o}
        self.body_deadline, self.chunk_deadline = body_deadline, chunk_deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = Headers(scope=scope)
        send = self._with_headers(send, path)
        limit = body_limit(path)
        try:
            declared = headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > limit:
                raise TooLarge(limit)
            if scope["method"] in UNSAFE and not path.startswith("/api/"):
                self._check_origin(scope, headers)
        except HTTPException as exc:
            response = await self.refuse(Request(scope), exc)
            await response(scope, receive, send)
            return
        await self.app(scope, self._bounded(receive, limit), send)

    def _check_origin(self, scope: Scope, headers: Headers) -> None:
        claimed = headers.get("origin") or headers.get("referer")
        if claimed is None:
            return
        origin = origin_of(claimed)
        if origin is None or (
            origin != self._own_origin(scope, headers) and origin not in self.allowed
        ):
            raise HTTPException(
                403,
                "This form was posted from another site. Open the tracker "
                "at its own address and try again.",
            )

    @staticmethod
    def _own_origin(scope: Scope, headers: Headers) -> str:
        host = headers.get("host") or "{}:{}".format(*scope.get("server") or ("", ""))
        return f"{scope.get('scheme', 'http')}://{host}".lower()

    def _bounded(self, receive: Receive, limit: int) -> Receive:
        """``receive`` that refuses a body past ``limit`` bytes or slower than the deadlines."""
        started = time.monotonic()
        size = 0

        async def bounded() -> Message:
            nonlocal size
            left = self.body_deadline - (time.monotonic() - started)
            try:
                message = await asyncio.wait_for(
                    receive(), max(min(left, self.chunk_deadline), 0.001)
                )
            except asyncio.TimeoutError:
                raise TooSlow() from None
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise TooLarge(limit)
            return message

        return bounded

    @staticmethod
    def _with_headers(send: Send, path: str) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in present]
                if not path.startswith("/static/") and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return sending


# --- log-in rate limit ------------------------------------------------------------------------


@dataclass
class LoginThrottle:
    """At most ``per_address`` failed log-ins per client address and ``per_key`` per key (by
    its whole hash: failures with another user's key prefix never lock that user out) in
    ``window`` seconds.

    Counted in the database (``Store.login_failures``), so every worker process of a service
    sees the same count: N workers do not allow N times the tries. Two tries racing in
    different workers may both pass the check before either counts; that lets through at most
    as many extra tries as run at the same moment, not a multiple of the limit. Blocking work:
    call it from a worker thread."""

    store: Store
    per_address: int = 10
    per_key: int = 20
    window: float = 300.0
    clock: Callable[[], float] = time.time  # seconds since the epoch, the same in every worker

    def retry_after(self, address: str, key: str) -> int | None:
        """Seconds to wait before another try, or None when a try is allowed now."""
        now = self.clock()
        limits = self._buckets(address, key)
        found = self.store.auth.login_failures(list(limits), _moment(now - self.window))
        waits = []
        for bucket, most in limits.items():
            times = found[bucket]
            if len(times) >= most:
                # Allowed again once enough of them are older than the window.
                oldest = times[len(times) - most].timestamp()
                waits.append(max(math.ceil(oldest + self.window - now), 1))
        return max(waits) if waits else None

    def failed(self, address: str, key: str) -> None:
        now = self.clock()
        self.store.auth.login_failed(
            list(self._buckets(address, key)), _moment(now), _moment(now - self.window)
        )

    def _buckets(self, address: str, key: str) -> dict[str, int]:
        buckets = {f"a:{address}": self.per_address}
        if key:
            # The whole key's hash, never its prefix: the prefix is shown (``token list``, the
            # keys page), and failures under it locked its owner out (redteam N40). A key is
            # 256 random bits: what needs a bound is tries per address, and the same wrong key
            # sent again and again (a script with a revoked key).
            buckets[f"k:{hash_secret(key)}"] = self.per_key
        return buckets


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)
