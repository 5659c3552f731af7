"""One logical session in the tracker: a record names the record it continues (migration
0002), the store walks the chain both ways for its owner only, and the session page shows it.
SQLite and PostgreSQL alike; the page in a real headless Chromium."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from claude_session.errors import InvalidRecord
from claude_session.tracker.service.app import create_api_key, create_app
from claude_session.tracker.store.database import create_engine, migrate
from claude_session.tracker.store.storage import Store
from test_tracker_service import START, database, record, serve  # noqa: F401 - fixture

CHAIN = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(4)]


def _chain_records(**extra: Any) -> list[Any]:
    """Three parts of one session (the middle one sent first) and an unrelated record."""
    parts = []
    for n in range(3):
        start = START + timedelta(hours=n)
        parts.append(
            record(
                id=CHAIN[n],
                started_at=start,
                ended_at=start + timedelta(minutes=5),
                continues=CHAIN[n - 1] if n else None,
                end_mode="paused" if n < 2 else "standard",
                **extra,
            )
        )
    return [parts[1], parts[0], parts[2], record(id=CHAIN[3])]


def test_the_store_walks_a_chain_both_ways_for_its_owner(database: str) -> None:  # noqa: F811
    engine = create_engine(database)
    migrate(engine)
    store = Store(engine)
    alice, bob = store.auth.user("alice"), store.auth.user("bob")
    for item in _chain_records():
        store.records.save(alice, item)
    for middle in CHAIN[:3]:
        assert [s.id for s in store.history.session_chain(alice, middle)] == CHAIN[:3]
    assert [s.id for s in store.history.session_chain(alice, CHAIN[3])] == [CHAIN[3]]
    assert store.history.session_chain(bob, CHAIN[1]) == []
    assert store.history.session_chain(alice, "not-a-uuid") == []
    assert store.history.get_session(alice, CHAIN[2]).continues == CHAIN[1]  # type: ignore[union-attr]
    with pytest.raises(InvalidRecord):
        store.records.save(alice, record(continues="not-a-uuid"))
    engine.dispose()


def test_a_loop_of_edited_rows_ends_the_walk(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    migrate(engine)
    store = Store(engine)
    alice = store.auth.user("alice")
    store.records.save(alice, record(id=CHAIN[0], continues=CHAIN[1]))
    store.records.save(alice, record(id=CHAIN[1], continues=CHAIN[0]))
    assert sorted(s.id for s in store.history.session_chain(alice, CHAIN[0])) == CHAIN[:2]


def test_the_session_page_shows_the_chain(tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    from test_tracker_ui import CHROMIUM, FLAGS

    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium; .ci/run does)")
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    key = create_api_key(url, "alice")
    app = create_app(url)
    store = app.state.store
    owner = store.auth.user_for_api_key(key)
    for item in _chain_records(summary="part of the chain"):
        store.records.save(owner, item)
    store.records.save(
        owner,
        record(
            id="00000000-0000-4000-8000-0000000000ff",
            continues="00000000-0000-4000-8000-0000000000fe",
        ),
    )
    with serve(app) as base, playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/login")
            page.fill("#api_key", key)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
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
        finally:
            browser.close()
