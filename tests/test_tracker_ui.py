"""The Sessions UI in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_session.models import MaintenanceRun
from claude_session.tracker.service.app import create_api_key, create_app
from test_tracker_service import full_record, record, serve

playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]


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
    owner, other = store.user_for_api_key(alice), store.user_for_api_key(bob)
    today = datetime.now(timezone.utc).replace(hour=9, minute=0, second=0, microsecond=0)
    for day in range(12):
        start = today - timedelta(days=day * 2)
        store.save(owner, record(
            started_at=start, ended_at=start + timedelta(minutes=30 + day * 7),
            duration_minutes=30 + day * 7, starting_branch="main", ending_branch=f"feature/{day}",
            commits_count=day % 4, tokens_input=20_000 + day * 3_000, tokens_output=4_000,
            summary=f"Worked on part {day} of the widget parser"))
    store.save(owner, record(application_name="gears", repository_url="github.com/acme/gears",
                             started_at=today, ended_at=today, summary="Gears work"))
    store.save(owner, full_record(
        started_at=today + timedelta(hours=3), ended_at=today + timedelta(hours=4),
        summary="Release prep: audit and security scan",
        maintenance_runs=[
            MaintenanceRun(command="npm audit", status="ok", results={"vulnerabilities": 0},
                           notes="clean", run_at=today + timedelta(hours=3, minutes=10)),
            MaintenanceRun(command="security-scan", status="failed",
                           results={"high": 1}, run_at=today + timedelta(hours=3, minutes=40)),
        ]))
    theirs = record(application_name="secret-project", repository_url="github.com/bob/secret")
    store.save(other, theirs)
    with serve(app) as base:
        yield base, alice, theirs.id


def test_log_in_open_an_application_open_a_session_see_its_runs(
        browser: Any, site: tuple[str, str, str]) -> None:
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

    page.click(".sidebar >> text=widgets")
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
