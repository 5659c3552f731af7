"""The tracker service as an ASGI application: ``create_app(database_url)``, and
``from_environment()``, the factory a process manager calls in each worker.

Starlette (which ``mcp`` already brings) serves the JSON API (``api.py``) and the Sessions UI
(``ui.py``) over one ``Store``. The schema is migrated when the app is created, so a fresh
database works at once (N workers starting together migrate once: ``database.migrate``); the
engine is disposed when the server shuts down.

``from_environment`` reads (see ``ServiceConfig``):

    CLAUDE_SESSION_TRACKER_DATABASE   sqlite:///PATH or postgresql://USER@HOST/DB
                                      (default: this machine's local tracker file)
    CLAUDE_SESSION_TRACKER_SECRET     keys browser-session cookies (HMAC); change it to sign
                                      every browser out. Optional: cookies are random either way
    CLAUDE_SESSION_TRACKER_ORIGINS    comma-separated public origins that may post the UI's
                                      forms, e.g. https://tracker.example.com
    CLAUDE_SESSION_TRACKER_SECURE_COOKIES  1: always mark the cookie Secure (TLS at a proxy)

Proxy headers (X-Forwarded-For/-Proto) are the server's business: ``tracker serve
--forwarded-allow-ips`` or uvicorn's ``--proxy-headers --forwarded-allow-ips``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from claude_session.config import Settings
from claude_session.errors import StorageUnavailable
from claude_session.paths import Paths
from claude_session.tracker.service import api, charts, ui
from claude_session.tracker.service.guard import (
    BODY_DEADLINE,
    CHUNK_DEADLINE,
    Guard,
    LoginThrottle,
)
from claude_session.tracker.service.logs import quiet_access_log
from claude_session.tracker.store.database import create_engine, migrate
from claude_session.tracker.store.storage import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ServiceConfig:
    """What the tracker service takes from its environment."""

    database: str
    secret: str | None = field(default=None, repr=False)
    allowed_origins: tuple[str, ...] = ()
    secure_cookies: bool = False
    local: bool = False  # this machine's own local tracker file (history under user "local")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceConfig:
        env = os.environ if environ is None else environ
        local = f"sqlite:///{Paths(Settings.from_env(env).home).tracker_db}"
        database = (env.get("CLAUDE_SESSION_TRACKER_DATABASE") or "").strip() or local
        origins = env.get("CLAUDE_SESSION_TRACKER_ORIGINS", "")
        return cls(
            database=database,
            local=database == local,
            secret=(env.get("CLAUDE_SESSION_TRACKER_SECRET") or "").strip() or None,
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            secure_cookies=env.get("CLAUDE_SESSION_TRACKER_SECURE_COOKIES", "").strip().lower()
            in ("1", "true", "yes"),
        )


def from_environment() -> Starlette:
    """The ASGI app configured from the environment: the factory for uvicorn's ``--factory``
    and for ``tracker serve --workers N``."""
    config = ServiceConfig.from_env()
    return create_app(
        config.database,
        allowed_origins=config.allowed_origins,
        secret=config.secret,
        secure_cookies=config.secure_cookies,
        local=config.local,
    )


def create_app(
    database_url: str,
    *,
    run_migrations: bool = True,
    allowed_origins: Iterable[str] = (),
    body_deadline: float = BODY_DEADLINE,
    chunk_deadline: float = CHUNK_DEADLINE,
    secret: str | None = None,
    secure_cookies: bool = False,
    local: bool = False,
) -> Starlette:
    """The tracker service on ``database_url`` (``sqlite:///PATH``, ``postgresql://...``).

    ``allowed_origins`` are other origins whose pages may post the UI's forms (the tracker's
    own origin always may), e.g. the public address behind a proxy that rewrites Host. A body
    must arrive within ``body_deadline`` seconds, with at most ``chunk_deadline`` between pieces.
    """
    engine = create_engine(database_url)
    if run_migrations:
        migrate(engine)
    quiet_access_log()  # no sign-in token or query value in uvicorn's access lines

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = Starlette(
        routes=[*api.routes, *ui.routes, *charts.routes],
        exception_handlers={
            api.ApiError: _api_error,
            HTTPException: _http_error,
            StorageUnavailable: _database_down,
            Exception: _internal_error,
        },
        middleware=[
            Middleware(
                Guard,
                refuse=_http_error,
                allowed_origins=allowed_origins,
                body_deadline=body_deadline,
                chunk_deadline=chunk_deadline,
            )
        ],
        lifespan=lifespan,
    )
    app.state.store = Store(engine, secret)
    app.state.throttle = LoginThrottle(app.state.store)
    app.state.secure_cookies = secure_cookies
    app.state.local = local  # the log-in page tells the owner their history is under "local"
    app.state.templates = ui.templates()
    return app


def create_api_key(database_url: str, user: str, name: str | None = None) -> str:
    """A new API key for ``user`` (created if new). Show it once: only its hash is kept."""
    return with_store(database_url, lambda store: store.auth.create_api_key(user, name))


def with_store(database_url: str, work: Callable[[Store], T]) -> T:
    """``work`` on a migrated store of ``database_url``, its engine disposed after."""
    engine = create_engine(database_url)
    try:
        migrate(engine)
        return work(Store(engine))
    finally:
        engine.dispose()


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, api.ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    return ui.error_page(request, exc.status_code, exc.detail, headers=exc.headers)


async def _database_down(request: Request, exc: Exception) -> Response:
    # The record is not lost: the client keeps it in its outbox and retries on 503.
    log.warning("tracker database unavailable: %s", exc)
    if not request.url.path.startswith("/api/"):
        return ui.error_page(
            request,
            503,
            "The tracker's database is unavailable; try again later.",
            headers={"Retry-After": "30"},
        )
    return JSONResponse(
        {"error": "The tracker's database is unavailable; try again later."},
        status_code=503,
        headers={"Retry-After": "30"},
    )


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("tracker request failed", exc_info=exc)
    if not request.url.path.startswith("/api/"):
        return ui.error_page(request, 500, "The tracker failed on this request.")
    return JSONResponse({"error": "The tracker failed on this request."}, status_code=500)
