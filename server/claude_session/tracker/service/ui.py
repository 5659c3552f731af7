"""The Sessions UI: server-rendered Jinja2 pages over the same store as the API.

Log-in takes an API key (or the one-time link ``tracker serve`` prints for this machine's own
history) and opens a browser session (a random cookie, stored hashed, 14 days), then returns to
the page asked for. Pages: every session, one application's sessions (with a chart of time and
tokens per day and maintenance runs by type), one session's detail (runs grouped by type), the
user's API keys (make, rotate, revoke). Lists page by cursor (Older/Newer), not page number.
No JavaScript at all: the chart is inline SVG and the CSS is ours (the CSP allows no script).
Another user's application, session or key answers 404, as in the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from claude_session.errors import BadCursor, InvalidRecord, UnknownKey
from claude_session.tracker.service.api import RECORD_ENDS
from claude_session.tracker.service.export import csv_response
from claude_session.tracker.service.guard import LoginThrottle, form_fields
from claude_session.tracker.store.auth import WEB_SESSION_DAYS, User
from claude_session.tracker.store.database import is_uuid
from claude_session.tracker.store.history import Application, Cursor, DayTotals
from claude_session.tracker.store.limits import text_problem
from claude_session.tracker.store.search import Filters, from_query
from claude_session.tracker.store.storage import Store

HERE = Path(__file__).resolve().parent
COOKIE = "claude_session_tracker"
PAGE_SIZE = 50
CHART_DAYS = 30
EXPORT_LIMIT = 10_000


def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        duration=duration, tokens=tokens, moment=moment, short_repo=short_repo, money=money
    )
    return env


# --- formatting -------------------------------------------------------------------------------


def duration(minutes: int) -> str:
    hours, rest = divmod(max(minutes, 0), 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def tokens(count: int) -> str:
    for size, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return str(count)


def short_repo(url: str | None) -> str:
    """``owner/name`` of a repository URL (https, ssh or host/path), to tell apart two
    applications with the same name."""
    if not url:
        return "no repository"
    path = url.rstrip("/").removesuffix(".git").replace(":", "/")
    return "/".join(path.split("/")[-2:])


def money(value: Any) -> str:
    """Dollars to the cent; a cost nobody knows is "unknown", never $0."""
    if not isinstance(value, (int, float)):
        return "unknown"
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else "<$0.01"


def moment(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


@dataclass(frozen=True)
class Bar:
    x: float
    minutes_height: float
    tokens_height: float
    label: str
    title: str


def chart(days: list[DayTotals], *, width: int = 600, height: int = 120) -> dict[str, Any]:
    """Bar geometry for the per-day chart: minutes on the left bar, tokens on the right."""
    most_minutes = max((d.minutes for d in days), default=0) or 1
    most_tokens = max((d.tokens for d in days), default=0) or 1
    step = width / max(len(days), 1)
    bars = [
        Bar(
            x=n * step,
            minutes_height=height * d.minutes / most_minutes,
            tokens_height=height * d.tokens / most_tokens,
            label=d.day.strftime("%d %b") if (len(days) - 1 - n) % 7 == 0 else "",
            title=f"{d.day.isoformat()}: {d.sessions} sessions, {duration(d.minutes)}, "
            f"{tokens(d.tokens)} tokens",
        )
        for n, d in enumerate(days)
    ]
    return {
        "bars": bars,
        "width": width,
        "height": height,
        "bar": step * 0.4,
        "total_minutes": sum(d.minutes for d in days),
        "total_tokens": sum(d.tokens for d in days),
        "total_sessions": sum(d.sessions for d in days),
        "total_cost": sum(d.cost_usd for d in days),
        "cost_unknown": sum(d.cost_unknown for d in days),
    }


# --- plumbing ---------------------------------------------------------------------------------


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Try again later",
}


def error_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    """A styled page for an error in the UI (the API answers JSON)."""
    title = TITLES.get(status, f"Error {status}")
    if message.lower() == title.lower():  # Starlette's bare "Not Found" says nothing more
        message = (
            f"There is no page at {request.url.path}."
            if status == 404
            else "The tracker could not answer this request."
        )
    response = render(request, "error.html", status=status, message=message, title=title)
    response.headers.update(headers or {})
    return response


def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.templates
    return HTMLResponse(
        env.get_template(name).render(request=request, **values), status_code=status
    )


async def signed_in(request: Request) -> User | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    return await run_in_threadpool(_store(request).auth.user_for_web_session, token)


async def _sidebar(request: Request, user: User) -> list[Application]:
    return await run_in_threadpool(_store(request).history.applications, user)


def _to_login(request: Request | None = None) -> RedirectResponse:
    """To the log-in page, which comes back to this page afterwards."""
    if request is None or request.url.path == "/":
        return RedirectResponse("/login", status_code=303)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': here})}", status_code=303)


def _cursor(request: Request, name: str) -> Cursor | None:
    """The ``after`` or ``before`` cursor of a list page (keyset paging: no page numbers, so
    page 2,000 costs what page 1 does); 400 naming it when this tracker did not make it."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    if name == "before" and request.query_params.get("after"):
        raise HTTPException(400, "Send after or before, not both.")
    try:
        return Cursor.decode(raw)
    except BadCursor as exc:
        raise HTTPException(400, f"{name}: {exc}") from exc


# --- pages ------------------------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    return render(request, "login.html", error=None, next=_next_page(request.query_params))


def _next_page(values: Mapping[str, str]) -> str:
    """Where to go after log-in: a path on this site, never another site (``//evil``)."""
    wanted = values.get("next", "/")
    if (
        not wanted.startswith("/")
        or wanted.startswith("//")
        or "\\" in wanted
        or any(ord(c) < 32 for c in wanted)
    ):
        return "/"
    return wanted


async def login(request: Request) -> Response:
    # The Guard has bounded the body (16 kB) and checked the form's Origin.
    form = form_fields(await request.body())
    key, after = form.get("api_key", "").strip(), _next_page(form)
    throttle: LoginThrottle = request.app.state.throttle
    address = request.client.host if request.client else "?"
    wait = await run_in_threadpool(throttle.retry_after, address, key)
    if wait is not None:
        refused = render(
            request,
            "login.html",
            status=429,
            next=after,
            error=f"Too many failed log-ins; try again in {wait} s.",
        )
        refused.headers["Retry-After"] = str(wait)
        return refused
    user = await run_in_threadpool(_store(request).auth.user_for_api_key, key) if key else None
    if user is None:
        await run_in_threadpool(throttle.failed, address, key)
        return render(
            request,
            "login.html",
            status=401,
            next=after,
            error="That API key is not known to this tracker.",
        )
    token = await run_in_threadpool(_store(request).auth.open_web_session, user)
    response = RedirectResponse(after, status_code=303)
    _set_cookie(request, response, token)
    return response


async def sign_in_link(request: Request) -> Response:
    """A one-time link ``tracker serve`` prints for this machine's own history."""
    used = await run_in_threadpool(
        _store(request).auth.use_sign_in_link, request.path_params["token"]
    )
    if used is None:
        raise HTTPException(
            401,
            "This sign-in link was used already or has expired. Restart "
            "`claude-session tracker serve` for a new one, or log in "
            "with a key.",
        )
    response = RedirectResponse("/", status_code=303)
    _set_cookie(request, response, used[1])
    return response


def _set_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=WEB_SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or request.app.state.secure_cookies,
    )


async def logout(request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        await run_in_threadpool(_store(request).auth.close_web_session, token)
    response = _to_login()
    response.delete_cookie(COOKIE)
    return response


async def sessions_page(request: Request) -> Response:
    """Every session, or one application's when the path names it."""
    user = await signed_in(request)
    if user is None:
        return _to_login(request)
    store = _store(request)
    app_id = request.path_params.get("application_id")
    current = None
    if app_id is not None:
        current = await run_in_threadpool(store.history.application, user, app_id)
        if current is None:
            raise HTTPException(404, "No such application.")
    after, before = _cursor(request, "after"), _cursor(request, "before")
    query, filters = _filters(request)
    page = await run_in_threadpool(
        lambda: store.history.list_sessions(
            user,
            application_id=app_id,
            limit=PAGE_SIZE,
            after=after,
            before=before,
            filters=filters,
        )
    )
    days = await run_in_threadpool(
        lambda: store.history.daily_totals(user, application_id=app_id, days=CHART_DAYS)
    )
    run_types = await run_in_threadpool(
        lambda: store.history.run_types(user, application_id=app_id)
    )
    return render(
        request,
        "sessions.html",
        user=user,
        applications=await _sidebar(request, user),
        current=current,
        sessions=page.sessions,
        total=page.total,
        page=page,
        chart=chart(days),
        run_types=run_types,
        query=query,
        kept=urlencode(query),
        end_modes=RECORD_ENDS,
    )


SEARCH_NAMES = ("q", "branch", "machine", "end_mode", "since", "until")


def _filters(request: Request) -> tuple[dict[str, str], Filters]:
    """The search form's values (kept in the page's links) and the filters they make; a date
    that does not parse, or an unknown end mode, is a 400 page that says so."""
    query = {n: request.query_params[n] for n in SEARCH_NAMES if request.query_params.get(n)}
    if query.get("end_mode", "standard") not in RECORD_ENDS:
        raise HTTPException(400, f"The end mode is one of {', '.join(RECORD_ENDS)}.")
    try:
        return query, from_query(query)
    except InvalidRecord as exc:
        raise HTTPException(400, str(exc)) from exc


async def export_csv(request: Request) -> Response:
    """The filtered list (every page, up to ``EXPORT_LIMIT`` records) as CSV."""
    user = await signed_in(request)
    if user is None:
        return _to_login(request)
    _query, filters = _filters(request)
    app_id = request.query_params.get("application_id") or None
    page = await run_in_threadpool(
        lambda: _store(request).history.list_sessions(
            user, application_id=app_id, limit=EXPORT_LIMIT, filters=filters
        )
    )
    return csv_response(page.sessions)


async def session_page(request: Request) -> Response:
    user = await signed_in(request)
    if user is None:
        return _to_login(request)
    found = await run_in_threadpool(
        _store(request).history.get_session, user, request.path_params["session_id"]
    )
    if found is None:
        raise HTTPException(404, "No such session.")
    apps = await _sidebar(request, user)
    current = next((a for a in apps if a.id == found.application_id), None)
    chain = await run_in_threadpool(_store(request).history.session_chain, user, found.id)
    return render(
        request,
        "session.html",
        user=user,
        applications=apps,
        current=current,
        session=found,
        chain=chain if len(chain) > 1 else [],
        chain_totals=chain_totals(chain),
    )


def chain_totals(chain: list[Any]) -> dict[str, Any]:
    """A chain's duration, commits, tokens and cost: each part counts only its own stretch,
    so their sum counts every commit and token once."""
    known = [p.cost_usd for p in chain if p.cost_usd is not None]
    return {
        "minutes": sum(p.duration_minutes for p in chain),
        "commits": sum(p.commits_count for p in chain),
        "tokens": sum(p.tokens_input + p.tokens_output for p in chain),
        "cost": sum(known),
        "cost_unknown": len(chain) - len(known),
    }


async def keys_page(
    request: Request, *, new_key: str | None = None, new_name: str | None = None, status: int = 200
) -> Response:
    user = await signed_in(request)
    if user is None:
        return _to_login(request)
    keys = await run_in_threadpool(_store(request).auth.api_keys, user.name)
    return render(
        request,
        "keys.html",
        status=status,
        user=user,
        applications=await _sidebar(request, user),
        current=None,
        keys=keys,
        new_key=new_key,
        new_name=new_name,
        section="keys",
    )


async def create_key(request: Request) -> Response:
    user = await signed_in(request)
    if user is None:
        return _to_login(request)
    name = form_fields(await request.body()).get("name", "").strip()[:100]
    if text_problem(name) is not None:
        raise HTTPException(400, "name must be plain text.")
    key = await run_in_threadpool(_store(request).auth.create_api_key, user.name, name or None)
    return await keys_page(request, new_key=key, new_name=name or None, status=201)


async def revoke_key(request: Request) -> Response:
    return await change_key(request, "revoke")


async def rotate_key(request: Request) -> Response:
    return await change_key(request, "rotate")


async def change_key(request: Request, action: str) -> Response:
    """Revoke or rotate one of the signed-in user's keys."""
    user = await signed_in(request)
    if user is None:
        return _to_login(request)
    store, key_id = _store(request), request.path_params["key_id"]
    if not is_uuid(key_id):
        raise HTTPException(404, "No such API key.")
    try:
        if action == "revoke":
            await run_in_threadpool(store.auth.revoke_api_key, key_id, user.name)
            return RedirectResponse("/keys", status_code=303)
        # This browser stays signed in (with the successor); others signed in with the old
        # key are signed out, as revoking does.
        old, key = await run_in_threadpool(
            lambda: store.auth.rotate_api_key(
                key_id, user.name, keep_browser=request.cookies.get(COOKIE)
            )
        )
    except UnknownKey as exc:
        raise HTTPException(404, str(exc)) from exc
    return await keys_page(request, new_key=key, new_name=old.name, status=201)


async def _keys_get(request: Request) -> Response:
    return await keys_page(request)


routes: list[BaseRoute] = [
    Route("/", sessions_page, methods=["GET"]),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/login/link/{token}", sign_in_link, methods=["GET"]),
    Route("/applications/{application_id}", sessions_page, methods=["GET"]),
    Route("/export.csv", export_csv, methods=["GET"]),
    Route("/sessions/{session_id}", session_page, methods=["GET"]),
    Route("/keys", _keys_get, methods=["GET"]),
    Route("/keys", create_key, methods=["POST"]),
    Route("/keys/{key_id}/revoke", revoke_key, methods=["POST"]),
    Route("/keys/{key_id}/rotate", rotate_key, methods=["POST"]),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]
