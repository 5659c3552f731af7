"""The Sessions UI in a real headless Chromium (Debian's), driven by Playwright: log-in (and back
to the page asked for), applications, sessions, runs by type, API keys, the 404 page, phone
width, two applications of one name, a session's chain, this machine's own history through the
sign-in link `tracker serve` prints, and a log-in form posted from another site. Screenshots go
to tests/artifacts/ (checked in)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_session.models import MaintenanceRun
from claude_session.tracker.service.app import create_api_key, create_app
from helpers.records import CHAIN, chain_records, full_record, record
from helpers.tracker_service import serve

playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium; .ci/run does)")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A tracker with alice's history (two applications) and bob's; yields base, key, bob's id."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    alice, bob = create_api_key(url, "alice"), create_api_key(url, "bob")
    app = create_app(url)
    store = app.state.store
    owner, other = store.auth.user_for_api_key(alice), store.auth.user_for_api_key(bob)
    today = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    for day in range(12):
        start = today - timedelta(days=day * 2)
        store.records.save(
            owner,
            record(
                started_at=start,
                ended_at=start + timedelta(minutes=30 + day * 7),
                duration_minutes=30 + day * 7,
                starting_branch="main",
                ending_branch=f"feature/{day}",
                commits_count=day % 4,
                tokens_input=20_000 + day * 3_000,
                tokens_output=4_000,
                summary=f"Worked on part {day} of the widget parser",
            ),
        )
    store.records.save(
        owner,
        record(
            application_name="gears",
            repository_url="github.com/acme/gears",
            started_at=today,
            ended_at=today,
            summary="Gears work",
        ),
    )
    store.records.save(
        owner,
        full_record(
            started_at=today + timedelta(hours=3),
            ended_at=today + timedelta(hours=4),
            summary="Release prep: audit and security scan",
            maintenance_runs=[
                MaintenanceRun(
                    command="npm audit",
                    status="ok",
                    results={"vulnerabilities": 0},
                    notes="clean",
                    run_at=today + timedelta(hours=3, minutes=10),
                ),
                MaintenanceRun(
                    command="security-scan",
                    status="failed",
                    results={"high": 1},
                    run_at=today + timedelta(hours=3, minutes=40),
                ),
            ],
        ),
    )
    store.records.save(
        owner,
        record(
            application_name="widgets",
            repository_url="github.com/fork/widgets",
            started_at=today - timedelta(days=40),
            ended_at=today - timedelta(days=40),
            summary="The fork",
        ),
    )
    theirs = record(application_name="secret-project", repository_url="github.com/bob/secret")
    store.records.save(other, theirs)
    with serve(app) as base:
        yield base, alice, theirs.id


def test_log_in_open_an_application_open_a_session_see_its_runs(
    browser: Any, site: tuple[str, str, str]
) -> None:
    base, key, _ = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/")
    assert page.url.endswith("/login")
    page.fill("#api_key", "cst_wrong")
    page.click("button[type=submit]")
    assert "not known" in page.inner_text(".error")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    sidebar = page.inner_text(".sidebar")
    assert "widgets" in sidebar and "gears" in sidebar and "secret-project" not in sidebar

    page.click(".sidebar >> text=acme/widgets")
    assert page.inner_text("h1") == "widgets"
    assert page.locator("table.sessions tbody tr").count() == 13
    assert page.locator("svg.bars rect.minutes").count() == 30
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tracker-application.png"), full_page=True)

    page.click("text=Release prep: audit and security scan")
    runs = page.inner_text("#maintenance-runs")
    assert "npm audit" in runs and "security-scan" in runs and "failed" in runs
    assert "CVE-1" in page.inner_text("body") and "docs/ü.md" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "tracker-session.png"), full_page=True)
    page.close()


def test_another_users_session_page_is_404(browser: Any, site: tuple[str, str, str]) -> None:
    base, key, bobs = site
    page = browser.new_page()
    page.goto(f"{base}/login")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert page.goto(f"{base}/sessions/{bobs}").status == 404
    page.goto(f"{base}/")
    page.click("text=Log out")
    page.wait_for_url(f"{base}/login")
    page.goto(f"{base}/")
    assert page.url.endswith("/login")  # the browser session is closed on the server too
    page.close()


def _log_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _errors(page: Any) -> list[str]:
    """Console errors (a CSP violation shows here) collected on ``page``."""
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if m.type == "error" else None)
    return found


def test_log_in_returns_to_the_page_asked_for(browser: Any, site: tuple[str, str, str]) -> None:
    base, key, _ = site
    page = browser.new_page()
    page.goto(f"{base}/")
    _log_in(page, base, key)
    target = page.get_attribute("table.sessions a", "href")
    page.click("text=Log out")
    page.wait_for_url(f"{base}/login")
    page.goto(f"{base}{target}")
    assert "/login?next=" in page.url
    page.fill("#api_key", key)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{target}")
    assert page.inner_text("h1").startswith("Session of")
    page.close()


def test_two_applications_of_one_name_are_told_apart(
    browser: Any, site: tuple[str, str, str]
) -> None:
    base, key, _ = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = _errors(page)
    _log_in(page, base, key)
    names = page.locator(".sidebar ul.apps li a").all_inner_texts()
    widgets = sorted(n.replace("\n", " ") for n in names if n.startswith("widgets"))
    assert widgets == ["widgets acme/widgets", "widgets fork/widgets"], names
    assert "gears" in names and not any("/" in n for n in names if n.startswith("gears"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "tracker-sessions.png"), full_page=True)
    assert errors == []
    page.close()


def test_runs_are_grouped_by_type_and_keys_are_managed(
    browser: Any, site: tuple[str, str, str]
) -> None:
    base, key, _ = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = _errors(page)
    _log_in(page, base, key)
    assert "npm audit" in page.inner_text("#run-types")
    page.click("text=Release prep: audit and security scan")
    assert page.locator("h3.run-type").all_inner_texts()[0].startswith("npm audit")
    page.click(".sidebar >> text=API keys")
    page.fill("#key-name", "phone")
    page.click("text=Create key")
    made = page.inner_text("#new-key")
    assert made.startswith("cst_")
    page.screenshot(path=str(ARTIFACTS / "tracker-keys.png"), full_page=True)
    page.goto(f"{base}/keys")  # a key is shown only when made
    assert made not in page.content()
    page.locator("tr", has_text="phone").locator("text=Revoke").click()
    assert "revoked" in page.locator("tr", has_text="phone").inner_text()
    assert errors == []
    page.close()


def test_a_missing_page_is_a_styled_404(browser: Any, site: tuple[str, str, str]) -> None:
    base, key, bobs = site
    page = browser.new_page(viewport={"width": 1280, "height": 700})
    _log_in(page, base, key)
    assert page.goto(f"{base}/sessions/{bobs}").status == 404
    assert page.inner_text("h1") == "Not found"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(247, 247, 245)"  # our stylesheet, not a bare text page
    page.click("text=All sessions")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/no/such/page")
    page.screenshot(path=str(ARTIFACTS / "tracker-404.png"))
    page.close()


@pytest.mark.parametrize("path", ["/", "/applications", "/sessions", "/keys", "/login"])
def test_pages_fit_a_phone_without_sideways_scrolling(
    browser: Any, site: tuple[str, str, str], path: str
) -> None:
    base, key, _ = site
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    _log_in(page, base, key)
    if path == "/applications":
        page.click(".sidebar >> text=gears")
    elif path == "/sessions":
        page.click("text=Release prep: audit and security scan")
    elif path == "/login":
        page.click("text=Log out")
        page.wait_for_url(f"{base}/login")
    else:
        page.goto(f"{base}{path}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, (path, width)
    name = {
        "/": "sessions",
        "/applications": "application",
        "/sessions": "session",
        "/keys": "keys",
        "/login": "login",
    }[path]
    page.screenshot(path=str(ARTIFACTS / f"tracker-phone-{name}.png"), full_page=True)
    page.close()


def test_a_login_form_on_another_site_cannot_sign_anyone_in(
    browser: Any, site: tuple[str, str, str]
) -> None:
    """Login CSRF: an attacker's page posts its own key to the tracker; the browser sends the
    attacker's Origin and the tracker refuses it, so no session cookie is set."""
    import http.server
    import threading

    base, key, _ = site
    form = (
        f'<form method="post" action="{base}/login"><input name="api_key" value="{key}">'
        f'<button id="go">go</button></form>'
    ).encode()

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(form)

        def log_message(self, *args: Any) -> None:
            pass

    evil = http.server.HTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://localhost:{evil.server_address[1]}/")  # another origin
        with page.expect_navigation():
            page.click("#go")
        assert "another site" in page.inner_text("body")
        assert [c for c in context.cookies() if c["name"] == "claude_session_tracker"] == []
        context.close()
    finally:
        evil.shutdown()


def test_tracker_serve_on_the_local_database_signs_its_owner_in(
    browser: Any, tmp_path: Path
) -> None:
    """The default local database keeps this machine's history under the user `local`; the
    sign-in link `tracker serve` prints opens it without guessing that name."""
    import os
    import re
    import socket
    import subprocess
    import sys
    import time

    from claude_session.config import Settings
    from claude_session.paths import Paths
    from claude_session.tracker.service.app import with_store

    local_db = Paths(Settings.from_env().home).tracker_db
    with_store(
        f"sqlite:///{local_db}",
        lambda store: store.records.save(
            store.auth.user("local"), record(summary="MY-OWN-HISTORY")
        ),
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "server")}
    env.pop("CLAUDE_SESSION_TRACKER_DATABASE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "claude_session.edges.cli", "tracker", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, said = time.monotonic() + 60, ""
        while "/login/link/" not in said:
            assert time.monotonic() < deadline and server.poll() is None, said
            said += server.stderr.readline()
        link = re.search(r"(http://\S+/login/link/\S+)", said).group(1)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/login")
        assert "--user local" in page.inner_text(".login")  # the log-in page says it too
        page.screenshot(path=str(ARTIFACTS / "tracker-login-local.png"))
        page.goto(link)
        page.wait_for_url(f"http://127.0.0.1:{port}/")
        assert "MY-OWN-HISTORY" in page.inner_text("main")
        assert page.inner_text(".sidebar .who") == "local"
        again = browser.new_page()
        assert again.goto(link).status == 401  # the link works once
        again.close()
        page.close()
    finally:
        server.terminate()
        server.wait(20)


def test_the_session_page_shows_the_chain(browser: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    key = create_api_key(url, "alice")
    app = create_app(url)
    store = app.state.store
    owner = store.auth.user_for_api_key(key)
    for item in chain_records(summary="part of the chain"):
        store.records.save(owner, item)
    store.records.save(
        owner,
        record(
            id="00000000-0000-4000-8000-0000000000ff",
            continues="00000000-0000-4000-8000-0000000000fe",
        ),
    )
    with serve(app) as base:
        page = browser.new_page()
        _log_in(page, base, key)
        page.goto(f"{base}/sessions/{CHAIN[1]}")
        chain = page.locator("#chain ol.chain li")
        assert chain.count() == 3
        assert "(this one)" in chain.nth(1).inner_text()
        assert "paused" in chain.nth(0).inner_text()
        chain.nth(2).locator("a").click()
        page.wait_for_url(f"{base}/sessions/{CHAIN[2]}")
        assert "(this one)" in page.locator("#chain ol.chain li").nth(2).inner_text()
        page.goto(f"{base}/sessions/{CHAIN[3]}")
        assert page.locator("#chain").count() == 0  # a session on its own: no chain
        page.goto(f"{base}/sessions/00000000-0000-4000-8000-0000000000ff")
        assert "has not received yet" in page.inner_text("#chain")
        page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_long_unbroken_string_wraps_on_the_list_and_the_session_page(
    browser: Any, tmp_path: Path, width: int
) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    key = create_api_key(url, "alice")
    app = create_app(url)
    store = app.state.store
    long = "B" * 20_000
    saved = full_record(
        summary=long, ending_branch="feature/" + "x" * 400, next_steps=[long[:3000]]
    )
    store.records.save(store.auth.user_for_api_key(key), saved)
    with serve(app) as base:
        page = browser.new_page(viewport={"width": width, "height": 800})
        _log_in(page, base, key)
        for path in ("/", f"/sessions/{saved.id}"):
            page.goto(f"{base}{path}")
            scrolled = page.evaluate("document.documentElement.scrollWidth")
            assert scrolled <= width, (path, scrolled)
        page.close()


@pytest.fixture
def costly(tmp_path: Path) -> Iterator[tuple[str, str, list[str]]]:
    """A tracker with a month of priced records on two applications, a three-part chain of
    one logical session and a record of unknown cost; yields base, key, the chain's ids."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    key = create_api_key(url, "alice")
    app = create_app(url)
    store = app.state.store
    owner = store.auth.user_for_api_key(key)
    today = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    for day in range(20):
        start = today - timedelta(days=day)
        store.records.save(
            owner,
            record(
                application_name="widgets" if day % 3 else "gears",
                repository_url=None,
                started_at=start,
                ended_at=start + timedelta(minutes=20 + day * 4),
                duration_minutes=20 + day * 4,
                ending_branch="main" if day % 2 else "feature/gzip",
                tokens_input=10_000 + day * 1_500,
                tokens_output=2_000,
                cost_usd=round(0.35 + day * 0.11, 2),
                models=["claude-opus-4-5"],
                summary=f"Day {day}: "
                + ("gzip bodies decoded" if day % 2 == 0 else "widget parser refactor"),
                next_steps=[f"Step after day {day}"],
            ),
        )
    parts = chain_records()
    for n, part in enumerate(parts):
        store.records.save(
            owner,
            part.model_copy(
                update={
                    "started_at": today + timedelta(hours=n + 1),
                    "ended_at": today + timedelta(hours=n + 1, minutes=40),
                    "summary": f"Part {n + 1} of the checkout flow: "
                    + ("cart", "payment", "receipt")[n % 3],
                    "cost_usd": None if n == 2 else 1.25,
                    "commits_count": n + 1,
                }
            ),
        )
    with serve(app) as base:
        yield base, key, [p.id for p in parts]


@pytest.mark.parametrize(("width", "suffix"), [(1280, ""), (390, "-phone")])
def test_the_list_a_chain_search_results_and_the_charts_in_chromium(
    browser: Any, costly: tuple[str, str, list[str]], width: int, suffix: str
) -> None:
    base, key, chain = costly
    page = browser.new_page(viewport={"width": width, "height": 900}, is_mobile=width < 500)
    errors = _errors(page)
    _log_in(page, base, key)

    def fits(name: str) -> None:
        scrolled = page.evaluate("document.documentElement.scrollWidth")
        assert scrolled <= width, (name, scrolled)
        page.screenshot(path=str(ARTIFACTS / f"tracker-{name}{suffix}.png"), full_page=True)

    assert page.locator("form.search input[name=q]").count() == 1
    assert "↩ part" in page.inner_text("table.sessions") and "$" in page.inner_text(
        "table.sessions"
    )
    fits("list")

    page.fill("form.search input[name=q]", "gzip")
    page.select_option("form.search select[name=end_mode]", "standard")
    page.click("form.search button[type=submit]")
    page.wait_for_url("**q=gzip**")
    rows = page.inner_text("table.sessions tbody")
    assert "gzip bodies decoded" in rows and "widget parser" not in rows
    assert page.input_value("form.search input[name=q]") == "gzip"
    fits("search")

    page.goto(f"{base}/sessions/{chain[1]}")
    parts = page.inner_text("#chain")
    assert "3 parts" in parts and "cart" in parts and "payment" in parts and "receipt" in parts
    assert "6 commits" in parts and "unknown cost" in parts
    fits("chain")

    page.goto(f"{base}/charts?days=30")
    assert page.locator("svg.bars").count() == 4 and page.locator("svg.hbars").count() == 4
    assert page.locator("svg.bars rect.value").count() == 4 * 30
    charts = page.inner_text("main")
    assert "widgets" in charts and "gears" in charts and "Cost" in charts
    fits("charts")
    assert errors == []  # no CSP violation, no script error
    page.close()


_FITS = """() => {
  const view = document.documentElement.clientWidth;
  const list = document.querySelector('table.sessions');
  const boxes = [document.documentElement, list.parentElement, list,
    ...document.querySelectorAll('.table-scroll')].map(e => [
    e.tagName + '.' + e.className, e.scrollWidth, e.clientWidth]);
  const outcomes = [...document.querySelectorAll('table.sessions tbody td.summary')].map(td => {
    const r = td.getBoundingClientRect();
    return [td.innerText.slice(0, 30), Math.round(r.left), Math.round(r.right), r.width > 0];
  });
  return {view, boxes, outcomes};
}"""


@pytest.mark.parametrize("application", [False, True])
def test_the_sessions_list_reads_on_a_phone_without_scrolling_sideways(
    browser: Any, site: tuple[str, str, str], application: bool
) -> None:
    """At 390 px neither the page nor the list's box scrolls sideways, and every row's outcome
    (its summary) lies inside the screen: the rows are stacked cards there. At 1280 px the list
    is still a table with its column heads."""
    base, key, _ = site
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    _log_in(page, base, key)
    if application:
        page.click(".sidebar >> text=gears")
    found = page.evaluate(_FITS)
    assert found["outcomes"], found
    for name, scrolled, shown in found["boxes"]:
        assert scrolled <= shown, (name, scrolled, shown)
    for text, left, right, visible in found["outcomes"]:
        assert visible and left >= 0 and right <= found["view"], (text, left, right)
    assert "Release prep" in page.inner_text("table.sessions") or application
    page.close()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _log_in(page, base, key)
    assert page.evaluate("getComputedStyle(document.querySelector('table.sessions')).display") == (
        "table"
    )
    assert page.locator("table.sessions thead th", has_text="Outcome").is_visible()
    page.close()
