"""What every request passes before the routes (``service/guard.py``): body limits and deadlines,
the Origin check on the UI's forms, security headers, the shared log-in throttle."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from claude_session.tracker.service.app import create_api_key, create_app
from helpers.records import body, full_record
from helpers.tracker_service import Tracker, post, serve, signed_in


def test_oversized_bodies_are_refused_with_413(shared: Tracker) -> None:
    big = body(full_record(summary="x" * (2 * 1024 * 1024)))
    assert post(shared.alice, big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while reading
        yield b'{"summary": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    streamed = shared.alice.post("/api/sessions", content=chunks())
    assert streamed.status_code == 413


def test_every_response_carries_the_security_headers(shared: Tracker) -> None:
    with signed_in(shared) as browser:
        answers = {
            path: browser.get(path)
            for path in (
                "/",
                "/login",
                f"/sessions/{uuid.uuid4()}",
                "/?after=x",
                "/api/health",
                "/static/tracker.css",
                "/nothing",
            )
        }
    for path, answer in answers.items():
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, path
        assert "script-src" not in csp and "unsafe-inline" not in csp, path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "same-origin", path
        assert answer.headers["x-frame-options"] == "DENY", path
        if path != "/static/tracker.css":
            assert answer.headers["cache-control"] == "no-store", path
    assert "no-store" not in answers["/static/tracker.css"].headers.get("cache-control", "")


def test_no_page_has_inline_script(shared: Tracker) -> None:
    with signed_in(shared) as browser:
        for path in ("/", "/login"):
            assert "<script" not in browser.get(path).text.lower()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/attack.html"},
        {"Origin": "http://127.0.0.1:1"},
    ],
)
def test_a_login_posted_from_another_site_is_403_without_a_cookie(
    shared: Tracker, headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=shared.base) as browser:
        answer = browser.post("/login", data={"api_key": shared.alice_key}, headers=headers)
        assert answer.status_code == 403 and "set-cookie" not in answer.headers
        assert "another site" in answer.text
        with signed_in(shared) as victim:
            out = victim.post("/logout", headers=headers)
            assert out.status_code == 403 and victim.get("/").status_code == 200


def test_a_login_from_the_site_itself_or_without_origin_works(shared: Tracker) -> None:
    for headers in ({"Origin": shared.base}, {"Referer": shared.base + "/login"}, {}):
        with httpx.Client(base_url=shared.base) as browser:
            answer = browser.post("/login", data={"api_key": shared.alice_key}, headers=headers)
            assert answer.status_code == 303, (headers, answer.text)


def test_an_allowed_origin_may_post_the_login_form(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    key = create_api_key(url, "alice")
    app = create_app(url, allowed_origins=["https://tracker.example.com/"])
    with serve(app) as base, httpx.Client(base_url=base) as browser:
        answer = browser.post(
            "/login", data={"api_key": key}, headers={"Origin": "https://tracker.example.com"}
        )
        assert answer.status_code == 303


def test_a_huge_login_body_is_413_before_it_is_read(shared: Tracker) -> None:
    sock = _slow_client(
        shared.base,
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n\r\napi_key=",
    )
    try:
        assert sock.recv(4096).startswith(b"HTTP/1.1 413")  # 300 MB declared, 8 bytes sent
    finally:
        sock.close()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        yield b"api_key="
        for _ in range(64):
            yield b"k" * 65536

    streamed = shared.anonymous.post("/login", content=chunks())
    assert streamed.status_code == 413 and "text/html" in streamed.headers["content-type"]


def test_failed_logins_from_one_address_get_429_with_retry_after(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    key = create_api_key(url, "alice")
    with serve(create_app(url)) as base, httpx.Client(base_url=base) as browser:
        for n in range(10):
            wrong = browser.post("/login", data={"api_key": f"cst_wrong{n}"})
            assert wrong.status_code == 401
        blocked = browser.post("/login", data={"api_key": key})
        assert blocked.status_code == 429 and "set-cookie" not in blocked.headers
        assert 0 < int(blocked.headers["retry-after"]) <= 300
        assert "Too many" in blocked.text


def test_the_throttle_counts_per_address_and_per_account_and_forgets(tmp_path: Path) -> None:
    from claude_session.tracker.service.app import with_store
    from claude_session.tracker.service.guard import LoginThrottle

    now = [1_800_000_000.0]
    store = with_store(f"sqlite:///{tmp_path / 't.db'}", lambda store: store)
    throttle = LoginThrottle(store, per_address=3, per_account=5, window=60, clock=lambda: now[0])
    for n in range(5):  # five addresses each try the same account's key prefix once
        assert throttle.retry_after(f"10.0.0.{n}", "cst_AAAAxyz") is None
        throttle.failed(f"10.0.0.{n}", "cst_AAAAxyz")
    assert throttle.retry_after("10.0.0.9", "cst_AAAAother") == 60  # the account is locked
    assert throttle.retry_after("10.0.0.9", "cst_BBBBother") is None  # another account is not
    for _ in range(3):
        throttle.failed("10.0.0.7", "cst_CCCC")
    assert throttle.retry_after("10.0.0.7", "cst_DDDD") == 60  # the address is locked
    now[0] += 30
    assert throttle.retry_after("10.0.0.7", "cst_DDDD") == 30
    now[0] += 31
    assert throttle.retry_after("10.0.0.7", "cst_DDDD") is None
    assert throttle.retry_after("10.0.0.9", "cst_AAAAother") is None


def _slow_client(base: str, first: bytes) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=20)
    sock.sendall(first)
    return sock


def test_slow_bodies_are_cut_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    key = create_api_key(url, "alice")
    app = create_app(url, body_deadline=3.0, chunk_deadline=1.0)
    with serve(app) as base:
        body = _slow_client(
            base,
            b"POST /api/sessions HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + key.encode() + b"\r\n"
            b"Content-Length: 1000\r\n\r\n{",
        )
        try:
            answer = body.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408"), answer
        finally:
            body.close()
        assert httpx.get(base + "/api/health").status_code == 200
