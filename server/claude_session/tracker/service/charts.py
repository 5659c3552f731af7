"""The charts page's pictures, drawn on the server as SVG (no script, no CDN): per day and per
application, the sessions, time, tokens and cost of a chosen period. Each chart is a list of
bars with their geometry, drawn by ``templates/charts.html``; the SVG scales to the page's
width (viewBox), so one drawing reads on a phone and on a desktop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timezone
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from claude_session.tracker.store.history import DayTotals
from claude_session.tracker.store.totals import AppTotals, per_application

#: the periods a person can choose, in days
PERIODS = (7, 30, 90, 365)
#: what each chart shows: (key, title, how a value is written)
MEASURES = (
    ("sessions", "Sessions", "{:,.0f}"),
    ("minutes", "Time (minutes)", "{:,.0f}"),
    ("tokens", "Tokens (in + out)", "{:,.0f}"),
    ("cost_usd", "Cost (USD, known costs)", "${:,.2f}"),
)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the bar (every few days), or the application's name
    title: str  # the tooltip: the exact value


def day_chart(
    days: list[DayTotals], key: str, fmt: str, *, width: int = 600, height: int = 110
) -> dict[str, Any]:
    """Vertical bars, one a day, oldest first."""
    values = [float(getattr(d, key)) for d in days]
    top = max(values, default=0.0) or 1.0
    step = width / max(len(days), 1)
    every = max(1, len(days) // 6)
    bars = [
        Bar(
            x=n * step + step * 0.1,
            y=height - height * v / top,
            width=step * 0.8,
            height=height * v / top,
            label=d.day.strftime("%d %b") if (len(days) - 1 - n) % every == 0 else "",
            title=f"{d.day.isoformat()}: {fmt.format(v)}",
        )
        for n, (d, v) in enumerate(zip(days, values))  # noqa: B905 - same length
    ]
    return {"bars": bars, "width": width, "height": height, "total": fmt.format(sum(values))}


def app_chart(
    apps: list[AppTotals], key: str, fmt: str, *, width: int = 600, row: int = 22
) -> dict[str, Any]:
    """Horizontal bars, one an application, most time first; the name above its bar."""
    values = [float(getattr(a, key)) for a in apps]
    top = max(values, default=0.0) or 1.0
    bars = [
        Bar(
            x=0,
            y=n * row * 2 + row,
            width=max(width * 0.75 * v / top, 1 if v else 0),
            height=row * 0.8,
            label=a.name,
            title=f"{a.name}: {fmt.format(v)}",
        )
        for n, (a, v) in enumerate(zip(apps, values))  # noqa: B905 - same length
    ]
    return {"bars": bars, "width": width, "height": max(len(apps), 1) * row * 2, "fmt": fmt}


def period(raw: str | None) -> int:
    """The chosen period in days (30 unless one of ``PERIODS`` is asked for)."""
    return int(raw) if raw and raw.isdigit() and int(raw) in PERIODS else 30


async def charts_page(request: Request) -> Response:
    """Sessions, time, tokens and cost per day and per application over a chosen period."""
    from claude_session.tracker.service import ui

    user = await ui.signed_in(request)
    if user is None:
        return ui._to_login(request)
    store = ui._store(request)
    days = period(request.query_params.get("days"))
    daily = await run_in_threadpool(lambda: store.history.daily_totals(user, days=days))
    since = datetime.combine(daily[0].day, time(), tzinfo=timezone.utc)
    apps = await run_in_threadpool(per_application, store.engine, user, since)
    return ui.render(
        request,
        "charts.html",
        user=user,
        applications=await ui._sidebar(request, user),
        current=None,
        section="charts",
        days=days,
        periods=PERIODS,
        per_day=[(title, day_chart(daily, key, fmt)) for key, title, fmt in MEASURES],
        per_app=[(title, app_chart(apps, key, fmt)) for key, title, fmt in MEASURES],
        cost_unknown=sum(d.cost_unknown for d in daily),
    )


routes: list[BaseRoute] = [Route("/charts", charts_page, methods=["GET"])]
