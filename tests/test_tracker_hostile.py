"""The tracker service under hostile requests, over real HTTP on 127.0.0.1, on SQLite and on
PostgreSQL: oversized bodies, wrong types, SQL-looking strings, NUL and lone surrogates in any
field, integers past the columns, dates past year 9999 or before 1970, deep nesting, another
user's ids, missing and forged keys, and arbitrary SessionRecord-shaped JSON. Nothing may earn a
5xx or touch another user's data; a value no column can hold gets a 4xx naming its field."""

from __future__ import annotations

import contextlib
import json
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_session.tracker.service.app import create_api_key, create_app
from test_tracker_service import body, full_record, postgres_database, serve

SQLISH = [
    "x'); DROP TABLE claude_sessions;--",
    "' OR '1'='1",
    '"; DELETE FROM users; --',
    "1; SELECT * FROM api_keys",
    "%' UNION SELECT key_hash FROM api_keys --",
    "\\x00 %00 \\u0000",
]  # a real NUL is refused: test_nul_in_any_field_is_422_naming_it


class Service:
    def __init__(self, url: str, base: str) -> None:
        self.url, self.base = url, base
        self.alice_key = create_api_key(url, "alice")
        self.alice = httpx.Client(base_url=base, headers=_auth(self.alice_key), timeout=30)
        self.bob = httpx.Client(
            base_url=base, headers=_auth(create_api_key(url, "bob")), timeout=30
        )
        self.anonymous = httpx.Client(base_url=base, timeout=30)

    def close(self) -> None:
        for client in (self.alice, self.bob, self.anonymous):
            client.close()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('tracker') / 'tracker.db'}"
        else:
            url = stack.enter_context(postgres_database())
        base = stack.enter_context(serve(create_app(url)))
        svc = Service(url, base)
        stack.callback(svc.close)
        yield svc


def _post(client: httpx.Client, data: Any) -> httpx.Response:
    return client.post(
        "/api/sessions",
        content=json.dumps(data, default=str),
        headers={"Content-Type": "application/json"},
    )


def test_oversized_bodies_are_refused_with_413(service: Service) -> None:
    big = body(full_record(summary="x" * (2 * 1024 * 1024)))
    assert _post(service.alice, big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while reading
        yield b'{"summary": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    streamed = service.alice.post("/api/sessions", content=chunks())
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    "field,value",
    [
        ("started_at", "yesterday"),
        ("started_at", 12),
        ("tokens_input", "many"),
        ("tokens_input", -5),
        ("accomplishments", "not a list"),
        ("maintenance_runs", [{"command": None}]),
        ("maintenance_runs", "x"),
        ("security_findings", [1, 2]),
        ("id", "not-a-uuid"),
        ("id", 7),
        ("application_name", ""),
        ("application_name", None),
        ("files_changed", [{"a": 1}]),
        ("duration_minutes", 1.5),
        ("summary", {"nested": True}),
        ("end_mode", ["x"]),
    ],
)
def test_wrong_types_are_refused_with_4xx_naming_the_field(
    service: Service, field: str, value: Any
) -> None:
    data = body(full_record())
    data[field] = value
    answer = _post(service.alice, data)
    assert 200 <= answer.status_code < 500, (field, value, answer.text)
    if answer.status_code >= 400:
        assert "error" in answer.json()


@pytest.mark.parametrize(
    "bad",
    [b"", b"not json", b"[1,2]", b"null", b'"text"', b"\xff\xfe", b'{"a": ' * 50, b"1e999999"],
    ids=repr,
)
def test_unreadable_bodies_get_400_or_422(service: Service, bad: bytes) -> None:
    answer = service.alice.post("/api/sessions", content=bad)
    assert answer.status_code in (400, 413, 422), answer.text


@pytest.mark.parametrize("text", SQLISH)
def test_sql_looking_strings_are_stored_verbatim_and_harm_nothing(
    service: Service, text: str
) -> None:
    rec = full_record(application_name=text, summary=text, ending_branch=text, files_changed=[text])
    assert _post(service.alice, body(rec)).status_code == 201
    got = service.alice.get(f"/api/sessions/{rec.id}").json()
    assert got["application_name"] == text and got["summary"] == text
    listed = service.alice.get("/api/sessions", params={"application": text, "limit": 500})
    assert listed.status_code == 200 and rec.id in [s["id"] for s in listed.json()["sessions"]]
    for query in (
        {"application": text},
        {"since": text},
        {"limit": text},
        {"application_id": text},
        {"cursor": text},
    ):
        assert service.alice.get("/api/sessions", params=query).status_code < 500, query
    path = "/api/sessions/" + quote(text, safe="")
    assert service.alice.get(path).status_code in (404, 400)
    assert service.bob.get("/api/sessions", params={"application": text}).json()["total"] == 0
    assert service.alice.get("/api/health").status_code == 200


def test_another_users_ids_are_invisible_and_cannot_be_overwritten(service: Service) -> None:
    rec = full_record(summary="alice's own")
    assert _post(service.alice, body(rec)).status_code == 201
    assert service.bob.get(f"/api/sessions/{rec.id}").status_code == 404
    assert rec.id not in [s["id"] for s in service.bob.get("/api/sessions").json()["sessions"]]
    hijack = body(full_record(summary="bob was here"))
    hijack["id"] = rec.id
    answer = _post(service.bob, hijack)
    assert answer.status_code in (404, 409), answer.text
    assert service.alice.get(f"/api/sessions/{rec.id}").json()["summary"] == "alice's own"
    apps = service.bob.get("/api/applications").json()["applications"]
    assert all(a["name"] != rec.application_name for a in apps) or not apps


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Basic YWxpY2U6cHc=",
        "Bearer cs_" + "A" * 43,
        "Bearer ' OR 1=1 --",
        "Bearer " + "k" * 20000,
        "bearer\tcs_x",
        "Token abc",
    ],
    ids=lambda h: repr(h)[:30],
)
def test_missing_and_forged_keys_get_401_everywhere(service: Service, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in (
        ("POST", "/api/sessions"),
        ("GET", "/api/sessions"),
        ("GET", f"/api/sessions/{uuid.uuid4()}"),
        ("GET", "/api/applications"),
    ):
        data = json.dumps(body(full_record())) if method == "POST" else None
        answer = service.anonymous.request(method, path, headers=headers, content=data)
        assert answer.status_code in (401, 431), (header, path, answer.status_code)


def test_a_key_with_one_character_changed_is_refused(service: Service) -> None:
    key = service.alice_key
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")
    answer = service.anonymous.get("/api/sessions", headers=_auth(forged))
    assert answer.status_code == 401


def test_only_the_openapi_document_is_published(service: Service) -> None:
    """The API's document is at /api/openapi.json (test_tracker_openapi.py runs schemathesis
    from it); there is no interactive docs page to serve script from."""
    assert service.anonymous.get("/api/openapi.json").json()["openapi"] == "3.1.0"
    for path in ("/openapi.json", "/docs", "/schema", "/api/docs"):
        assert service.anonymous.get(path).status_code in (401, 404), path


@pytest.mark.parametrize("field", ["tokens_input", "commits_count", "duration_minutes"])
def test_integers_past_64_bits_get_422_not_500(service: Service, field: str) -> None:
    data = body(full_record())
    data[field] = 10**40
    assert _post(service.alice, data).status_code == 422


def test_deeply_nested_json_gets_400_not_500(service: Service) -> None:
    answer = service.alice.post("/api/sessions", content=b'{"a": ' * 100_000)
    assert answer.status_code in (400, 422)


# Text with NUL and lone surrogates among the rest; moments with any offset; JSON with big and
# non-finite numbers. The model takes them; the store must refuse them with a 4xx.
_ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=12) | st.sampled_from(
    ["\x00", "a\x00", "\ud800", "x\udfffy"]
)
_MOMENTS = st.datetimes(
    timezones=st.timezones()
    | st.just(timezone(timedelta(hours=-12)))
    | st.just(timezone(timedelta(hours=14)))
).map(lambda d: d.isoformat())
_JSONISH: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_ANY_TEXT, inner, max_size=3),
    max_leaves=12,
)

_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": st.uuids().map(str) | st.text(max_size=40),
    "application_name": st.text(max_size=60),
    "repository_url": st.none() | st.text(),
    "claude_session_id": st.none() | st.text(max_size=40),
    "started_at": st.datetimes().map(lambda d: d.isoformat()) | st.text(max_size=30) | _MOMENTS,
    "ended_at": st.datetimes(timezones=st.just(__import__("datetime").timezone.utc)).map(
        lambda d: d.isoformat()
    )
    | st.integers(),
    # integers past 64 bits: test_integers_past_64_bits_get_422_not_500
    "duration_minutes": st.integers(-(2**63), 2**63 - 1),
    "commits_count": st.integers(-10, 2**63 - 1),
    "tokens_input": st.integers(-1, 2**63 - 1),
    "tokens_output": st.integers(0, 2**40),
    "summary": st.text(max_size=300) | _ANY_TEXT,
    "ending_branch": st.none() | st.text(max_size=60) | _ANY_TEXT,
    "accomplishments": st.lists(st.text(max_size=30), max_size=5),
    "files_changed": st.lists(st.text(max_size=30), max_size=5),
    "maintenance_runs": st.lists(
        st.fixed_dictionaries(
            {"command": st.text(max_size=20), "status": st.text(max_size=10)},
            optional={
                "results": st.none() | _JSONISH,
                "run_at": st.text(max_size=25) | _MOMENTS,
                "notes": st.none() | st.text() | _ANY_TEXT,
            },
        ),
        max_size=3,
    ),
    "security_findings": st.lists(st.dictionaries(_ANY_TEXT, _JSONISH), max_size=3),
    "end_mode": st.text(max_size=12),
    "machine": st.none() | st.text(max_size=20),
}


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payload=st.fixed_dictionaries({}, optional=_FIELDS), complete=st.booleans())
def test_any_session_record_shaped_json_gets_2xx_or_4xx(
    service: Service, payload: dict[str, Any], complete: bool
) -> None:
    if complete:  # half the examples start from a valid record, so the odd values get far
        payload = {**body(full_record()), **payload}
    answer = _post(service.alice, payload)
    assert answer.status_code < 500, (payload, answer.status_code, answer.text)
    if answer.status_code < 300:
        stored = service.alice.get(f"/api/sessions/{answer.json()['id']}")
        assert stored.status_code == 200, stored.text


# --- values no column can hold: 4xx naming the field, on both databases -----------------------


def _with(path: str, value: Any) -> dict[str, Any]:
    """A valid record body with ``value`` put at the dotted ``path``."""
    data = body(full_record())
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


NUL_FIELDS = [
    "summary",
    "application_name",
    "repository_url",
    "starting_branch",
    "ending_branch",
    "machine",
    "end_mode",
    "session_source",
    "claude_session_id",
    "context_id",
    "accomplishments.0",
    "next_steps.0",
    "files_changed.1",
    "maintenance_runs.0.command",
    "maintenance_runs.0.status",
    "maintenance_runs.0.notes",
    "maintenance_runs.0.results.issues",
    "security_findings.0.id",
    "security_findings.0.nested.a.0",
]


@pytest.mark.parametrize("path", NUL_FIELDS)
def test_nul_in_any_field_is_422_naming_it(service: Service, path: str) -> None:
    answer = _post(service.alice, _with(path, "a\x00b"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == path and "NUL" in answer.json()["error"]


def test_nul_in_a_key_of_results_is_422_naming_it(service: Service) -> None:
    answer = _post(service.alice, _with("maintenance_runs.0.results", {"k\x00": 1}))
    assert answer.status_code == 422
    assert answer.json()["field"] == "maintenance_runs.0.results.k\x00"


@pytest.mark.parametrize(
    "path",
    [
        "summary",
        "application_name",
        "files_changed.0",
        "maintenance_runs.1.command",
        "security_findings.0.severity",
    ],
)
def test_a_lone_surrogate_is_422_naming_the_field(service: Service, path: str) -> None:
    raw = json.dumps(_with(path, "x\ud800y"))  # ensure_ascii: sent as the escape \\ud800
    answer = service.alice.post(
        "/api/sessions", content=raw, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == path and "surrogate" in answer.json()["error"]


@pytest.mark.parametrize("param", ["application", "application_id", "since", "until", "limit"])
def test_nul_in_a_query_parameter_is_400_naming_it(service: Service, param: str) -> None:
    answer = service.alice.get("/api/sessions?" + param + "=a%00b")
    assert answer.status_code == 400 and answer.json()["field"] == param


@pytest.mark.parametrize(
    "field", ["duration_minutes", "commits_count", "tokens_input", "tokens_cache_read"]
)
def test_integers_up_to_64_bits_are_stored_and_read_back(service: Service, field: str) -> None:
    for value in (2**31, 2**63 - 1):
        rec = full_record(**{field: value})
        assert _post(service.alice, body(rec)).status_code == 201
        assert service.alice.get(f"/api/sessions/{rec.id}").json()[field] == value
    answer = _post(service.alice, _with(field, 2**63))
    assert answer.status_code == 422 and answer.json()["field"] == field


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_past_64_bits_inside_results_are_422(service: Service, value: int) -> None:
    answer = _post(service.alice, _with("maintenance_runs.0.results.issues", value))
    assert answer.status_code == 422
    assert answer.json()["field"] == "maintenance_runs.0.results.issues"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999999"])
def test_non_finite_numbers_inside_results_are_422(service: Service, literal: str) -> None:
    raw = json.dumps(_with("maintenance_runs.0.results.issues", 0)).replace(
        '"issues": 0', f'"issues": {literal}'
    )
    answer = service.alice.post("/api/sessions", content=raw)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "maintenance_runs.0.results.issues"


OUT_OF_RANGE = [
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:30:00+01:00",
    "9999-12-31T12:00:00Z",
]


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
@pytest.mark.parametrize("path", ["started_at", "ended_at", "maintenance_runs.0.run_at"])
def test_dates_outside_1970_to_9999_are_422_naming_the_field(
    service: Service, moment: str, path: str
) -> None:
    answer = _post(service.alice, _with(path, moment))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == path and "1970" in answer.json()["error"]
    assert service.alice.get("/api/sessions").status_code == 200


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
@pytest.mark.parametrize("param", ["since", "until"])
def test_list_dates_outside_the_range_are_400_naming_them(
    service: Service, moment: str, param: str
) -> None:
    answer = service.alice.get("/api/sessions", params={param: moment})
    assert answer.status_code == 400 and answer.json()["field"] == param


def test_the_edges_of_the_date_range_are_stored_and_listed(service: Service) -> None:
    early = full_record(started_at="1970-01-01T00:00:00Z", ended_at="9999-12-30T23:00:00-01:00")
    assert _post(service.alice, body(early)).status_code == 201
    listed = service.alice.get(
        "/api/sessions", params={"since": "1970-01-01T00:00:00Z", "limit": 500}
    )
    assert listed.status_code == 200 and early.id in [s["id"] for s in listed.json()["sessions"]]
    assert service.alice.get(f"/api/sessions/{early.id}").json()["ended_at"].startswith("9999")


def test_results_nested_900_deep_are_422_not_500(service: Service) -> None:
    deep: Any = 0
    for _ in range(900):
        deep = [deep]
    answer = _post(service.alice, _with("maintenance_runs.0.results", deep))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"].startswith("maintenance_runs.0.results.0.0")
    assert "deeper" in answer.json()["error"]


def test_findings_nested_40_deep_are_stored(service: Service) -> None:
    deep: Any = "leaf"
    for n in range(40):
        deep = {f"k{n}": deep}
    rec = full_record(security_findings=[deep])
    assert _post(service.alice, body(rec)).status_code == 201
    got = service.alice.get(f"/api/sessions/{rec.id}").json()
    assert got["security_findings"] == [deep]


@contextlib.contextmanager
def _signed_in(service: Service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.base, timeout=30) as browser:
        answer = browser.post(
            "/login", data={"api_key": service.alice_key}, headers={"Origin": service.base}
        )
        assert answer.status_code == 303, answer.text
        yield browser


@pytest.mark.parametrize(
    "value",
    [
        "99999999999999999999999",
        "²",
        "0",
        "-1",
        "x",
        "%00",
        "eyJhIjoxfQ",
        "W1tdXQ",
        "WyIxOTcwIiwiMTk3MCIsIngiXQ",
        "A" * 5000,
    ],
)
@pytest.mark.parametrize("name", ["after", "before"])
def test_absurd_ui_page_cursors_are_400_pages_naming_them(
    service: Service, name: str, value: str
) -> None:
    with _signed_in(service) as browser:
        answer = browser.get(f"/?{name}={value}")
        assert answer.status_code == 400, answer.text
        assert name in answer.text and "text/html" in answer.headers["content-type"]


def test_ui_paths_with_nul_or_junk_are_404_pages(service: Service) -> None:
    with _signed_in(service) as browser:
        for path in (
            "/sessions/a%00b",
            "/applications/%00",
            "/sessions/" + "9" * 5000,
            "/applications/x'%20OR%201=1",
        ):
            answer = browser.get(path)
            assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]


_ = Path


# --- hardening: headers, Origin, body limits and deadlines, log-in rate limit -----------------


def test_every_response_carries_the_security_headers(service: Service) -> None:
    with _signed_in(service) as browser:
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


def test_no_page_has_inline_script(service: Service) -> None:
    with _signed_in(service) as browser:
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
    service: Service, headers: dict[str, str]
) -> None:
    with httpx.Client(base_url=service.base) as browser:
        answer = browser.post("/login", data={"api_key": service.alice_key}, headers=headers)
        assert answer.status_code == 403 and "set-cookie" not in answer.headers
        assert "another site" in answer.text
        with _signed_in(service) as victim:
            out = victim.post("/logout", headers=headers)
            assert out.status_code == 403 and victim.get("/").status_code == 200


def test_a_login_from_the_site_itself_or_without_origin_works(service: Service) -> None:
    for headers in ({"Origin": service.base}, {"Referer": service.base + "/login"}, {}):
        with httpx.Client(base_url=service.base) as browser:
            answer = browser.post("/login", data={"api_key": service.alice_key}, headers=headers)
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


def test_a_huge_login_body_is_413_before_it_is_read(service: Service) -> None:
    sock = _slow_client(
        service.base,
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

    streamed = service.anonymous.post("/login", content=chunks())
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
