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


def test_the_throttle_counts_per_address_and_per_key_and_forgets(tmp_path: Path) -> None:
    from claude_session.tracker.service.app import with_store
    from claude_session.tracker.service.guard import LoginThrottle

    now = [1_800_000_000.0]
    store = with_store(f"sqlite:///{tmp_path / 't.db'}", lambda store: store)
    throttle = LoginThrottle(store, per_address=3, per_key=5, window=60, clock=lambda: now[0])
    for n in range(5):  # five addresses send the same wrong key once each
        assert throttle.retry_after(f"10.0.0.{n}", "cst_AAAAxyz") is None
        throttle.failed(f"10.0.0.{n}", "cst_AAAAxyz")
    assert throttle.retry_after("10.0.0.9", "cst_AAAAxyz") == 60  # that key is locked
    assert throttle.retry_after("10.0.0.9", "cst_AAAAother") is None  # its prefix is not
    for _ in range(3):
        throttle.failed("10.0.0.7", "cst_CCCC")
    assert throttle.retry_after("10.0.0.7", "cst_DDDD") == 60  # the address is locked
    now[0] += 30
    assert throttle.retry_after("10.0.0.7", "cst_DDDD") == 30
    now[0] += 31
    assert throttle.retry_after("10.0.0.7", "cst_DDDD") is None
    assert throttle.retry_after("10.0.0.9", "cst_AAAAxyz") is None


def _random_tail(n: int) -> str:
    return uuid.UUID(int=n + 1).hex + uuid.uuid4().hex


@pytest.mark.parametrize("prefix_length", [8, 12, 20])
def test_N40_failed_log_ins_with_a_users_key_prefix_never_lock_that_user_out(
    tmp_path: Path, prefix_length: int
) -> None:
    """redteam N40: 22 failed log-ins with bob's key prefix (shown in ``token list`` and on the
    keys page; also longer guesses of it) from five addresses locked bob's valid key out for
    five minutes from any address. Now the attackers' addresses are throttled (the 11th try
    of each), and bob logs in from his own."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    bob = create_api_key(url, "bob")
    with serve(create_app(url)) as base, httpx.Client(base_url=base) as browser:
        statuses = []
        for n in range(55):  # 11 from each of 5 addresses
            statuses.append(
                browser.post(
                    "/login",
                    data={"api_key": bob[:prefix_length] + _random_tail(n)},
                    headers={"X-Forwarded-For": f"203.0.113.{n % 5}"},
                ).status_code
            )
        assert statuses[:50] == [401] * 50 and statuses[50:] == [429] * 5
        own = browser.post(
            "/login", data={"api_key": bob}, headers={"X-Forwarded-For": "198.51.100.7"}
        )
        assert own.status_code == 303 and "set-cookie" in own.headers


def test_N40_the_same_wrong_key_from_many_addresses_locks_only_that_key(tmp_path: Path) -> None:
    """A variation: a script retrying one stale key from 25 addresses is throttled by that
    key's own count (20), and the owner of the prefix still logs in."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    bob = create_api_key(url, "bob")
    stale = bob[:8] + "stale" * 8
    with serve(create_app(url)) as base, httpx.Client(base_url=base) as browser:
        statuses = [
            browser.post(
                "/login", data={"api_key": stale}, headers={"X-Forwarded-For": f"203.0.113.{n}"}
            ).status_code
            for n in range(25)
        ]
        assert statuses[:20] == [401] * 20 and statuses[20:] == [429] * 5
        own = browser.post(
            "/login", data={"api_key": bob}, headers={"X-Forwarded-For": "203.0.113.99"}
        )
        assert own.status_code == 303


def test_N40_one_address_still_gets_ten_tries_whatever_keys_it_sends(tmp_path: Path) -> None:
    """The bound that holds guessing: ten failures per address, whatever the keys."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    bob = create_api_key(url, "bob")
    with serve(create_app(url)) as base, httpx.Client(base_url=base) as browser:
        for n in range(10):
            assert browser.post("/login", data={"api_key": _random_tail(n)}).status_code == 401
        assert browser.post("/login", data={"api_key": bob}).status_code == 429


def _fields(count: int, name: str = "f") -> str:
    return "&".join(f"{name}{n}=1" for n in range(count))


@pytest.mark.parametrize(
    "form",
    [
        _fields(11),
        "api_key=cst_x&" + _fields(10),
        _fields(1_500),  # 16 kB is the form's limit: as many fields as fit
        "&" * 11,  # empty fields count too
    ],
)
def test_N41_a_log_in_form_with_many_fields_is_a_400_without_a_traceback(
    tracker: Tracker, form: str, caplog: pytest.LogCaptureFixture
) -> None:
    """redteam N41: a /login POST of 11 fields was a 500 with ``ValueError: Max number of
    fields exceeded`` logged with its traceback each time."""
    answer = tracker.anonymous.post(
        "/login",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": tracker.base},
    )
    assert answer.status_code == 400 and "more than 10 fields" in answer.text
    assert "text/html" in answer.headers["content-type"]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_N41_a_keys_form_with_many_fields_is_a_400_and_makes_no_key(
    tracker: Tracker, caplog: pytest.LogCaptureFixture
) -> None:
    with signed_in(tracker) as browser:
        answer = browser.post(
            "/keys",
            content="name=many&" + _fields(11),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": tracker.base},
        )
        assert answer.status_code == 400
        assert "many" not in browser.get("/keys").text
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_N41_a_form_of_ten_fields_still_logs_in(tracker: Tracker) -> None:
    answer = tracker.anonymous.post(
        "/login",
        content=f"api_key={tracker.alice_key}&" + _fields(9),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": tracker.base},
    )
    assert answer.status_code == 303


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
