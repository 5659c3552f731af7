"""The service as an ASGI application (``service/app.py``): its configuration from the
environment, the cookie secret, a database that is down."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from claude_session.tracker.service.app import create_api_key, create_app
from claude_session.tracker.store.database import (
    create_engine,
)
from claude_session.tracker.store.storage import Store
from helpers.records import body, record
from helpers.tracker_service import bearer, serve


def test_database_down_is_503_so_the_client_retries(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    url = f"sqlite:///{db}"
    key = create_api_key(url, "alice")
    app = create_app(url)
    with serve(app) as base, httpx.Client(base_url=base, headers=bearer(key)) as client:
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
        try:
            app.state.store = Store(create_engine(url, busy_timeout=0.2))  # not 10 s
            response = client.post("/api/sessions", json=body(record()))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert "try again" in response.json()["error"]
        assert client.post("/api/sessions", json=body(record())).status_code == 201


def test_the_app_factory_reads_its_configuration_from_the_environment(tmp_path: Path) -> None:
    from claude_session.tracker.service.app import ServiceConfig, from_environment

    db = tmp_path / "from-env.db"
    env = {
        "CLAUDE_SESSION_TRACKER_DATABASE": f"sqlite:///{db}",
        "CLAUDE_SESSION_TRACKER_SECRET": "s3cret",
        "HOME": str(tmp_path),
        "CLAUDE_SESSION_TRACKER_ORIGINS": "https://a.example, https://b.example",
        "CLAUDE_SESSION_TRACKER_SECURE_COOKIES": "1",
    }
    config = ServiceConfig.from_env(env)
    assert config.allowed_origins == ("https://a.example", "https://b.example")
    assert config.secure_cookies and "s3cret" not in repr(config)
    assert ServiceConfig.from_env({"HOME": str(tmp_path)}).database.endswith("tracker.db")
    key = create_api_key(f"sqlite:///{db}", "alice")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        app = from_environment()
    with serve(app) as base, httpx.Client(base_url=base) as browser:
        answer = browser.post(
            "/login", data={"api_key": key}, headers={"Origin": "https://b.example"}
        )
        assert answer.status_code == 303 and "secure" in answer.headers["set-cookie"].lower()
    assert db.exists()


def test_the_cookie_secret_signs_every_browser_out_when_changed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    key = create_api_key(url, "alice")
    with serve(create_app(url, secret="one")) as base, httpx.Client(base_url=base) as browser:
        assert browser.post("/login", data={"api_key": key}).status_code == 303
        cookie = dict(browser.cookies)
        assert browser.get("/").status_code == 200
    with (
        serve(create_app(url, secret="two")) as base,
        httpx.Client(base_url=base, cookies=cookie) as browser,
    ):
        assert browser.get("/").status_code == 303  # to the log-in page
