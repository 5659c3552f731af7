"""The remote tracker client (``tracker/client.py``) against the real tracker service on
127.0.0.1, and its failure routes: slow, 503 then ok, 429 with Retry-After, 401, 400/422,
redirects, connection refused; the key kept out of every message."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.errors import (
    ConfigError,
    TrackerAuthError,
    TrackerError,
    TrackerRejected,
    TrackerUnavailable,
)
from claude_session.models import MaintenanceRun
from claude_session.paths import Paths
from claude_session.tracker import LocalTracker, open_tracker
from claude_session.tracker.client import HttpTracker, parse_retry_after
from helpers.records import record
from helpers.tracker_service import Fault, Service, closed_port


@pytest.fixture
def tracker(service: Service) -> Iterator[HttpTracker]:
    with HttpTracker(service.url, service.key) as client:
        yield client


# --- the happy path -------------------------------------------------------------------------


def test_send_returns_the_record_id_and_stores_one_row(
    service: Service, tracker: HttpTracker
) -> None:
    rec = record()
    assert tracker.send(rec) == rec.id
    assert service.ids() == [rec.id]


def test_sending_the_same_record_again_updates_it_instead_of_adding_a_row(
    service: Service, tracker: HttpTracker
) -> None:
    rec = record()
    tracker.send(rec)
    tracker.send(rec.model_copy(update={"summary": "second version"}))
    assert service.rows() == 1
    got = tracker.get_session(rec.id)
    assert got is not None and got.summary == "second version"


def test_list_and_get_read_back_what_was_sent(tracker: HttpTracker) -> None:
    mine = record(
        application_name="alpha",
        repository_url=None,
        maintenance_runs=[MaintenanceRun(command="lint", status="ok")],
    )
    other = record(application_name="beta", repository_url=None)
    tracker.send(mine)
    tracker.send(other)
    assert {r.id for r in tracker.list_sessions()} == {mine.id, other.id}
    assert [r.id for r in tracker.list_sessions(project="alpha")] == [mine.id]
    assert len(tracker.list_sessions(limit=1)) == 1
    got = tracker.get_session(mine.id)
    assert got is not None and got.maintenance_runs[0].command == "lint"


def test_get_of_an_unknown_id_is_none(tracker: HttpTracker) -> None:
    assert tracker.get_session("00000000-0000-0000-0000-000000000000") is None


def test_a_tracker_under_a_path_prefix_is_reached_under_it() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(201, json={"id": "x"})

    with HttpTracker(
        "https://example.com/tracker/", "k", transport=httpx.MockTransport(handler)
    ) as client:
        client.send(record(id="x"))
    assert seen == ["/tracker/api/sessions"]


# --- failure routes -------------------------------------------------------------------------


def test_503_then_ok_is_retried_inside_one_send(service: Service, tracker: HttpTracker) -> None:
    service.faults.add(Fault(503), Fault(507))
    rec = record()
    assert tracker.send(rec) == rec.id
    assert service.faults.posts() == 3
    assert service.rows() == 1


def test_429_retry_after_is_waited_for_then_the_send_succeeds(service: Service) -> None:
    service.faults.add(Fault(429, headers={"Retry-After": "2"}))
    slept: list[float] = []
    with HttpTracker(service.url, service.key, sleep=slept.append) as tracker:
        tracker.send(record())
    assert slept == [2.0]  # what the tracker asked, not the client's own backoff
    assert service.faults.posts() == 2


def test_retry_after_longer_than_the_budget_is_handed_back_not_slept(
    service: Service, tracker: HttpTracker
) -> None:
    service.faults.add(Fault(503, headers={"Retry-After": "120"}))
    slept: list[float] = []
    with (
        HttpTracker(service.url, service.key, sleep=slept.append) as tracker,
        pytest.raises(TrackerUnavailable) as caught,
    ):
        tracker.send(record())
    assert slept == []  # handed back to the outbox's backoff, never slept here
    assert caught.value.retry_after == 120
    assert service.faults.posts() == 1


def test_a_tracker_that_keeps_failing_gives_up_after_the_attempts(service: Service) -> None:
    service.faults.always(Fault(500))
    with (
        HttpTracker(service.url, service.key, attempts=3, backoff=0.01) as client,
        pytest.raises(TrackerUnavailable, match="HTTP 500"),
    ):
        client.send(record())
    assert service.faults.posts() == 3
    assert service.rows() == 0


def test_a_slow_tracker_times_out_within_the_budget(service: Service) -> None:
    service.faults.always(Fault(delay=120.0))
    started = time.monotonic()
    with (
        HttpTracker(service.url, service.key, budget=1.0, backoff=0.05) as client,
        pytest.raises(TrackerUnavailable, match="did not answer in time"),
    ):
        client.send(record())
    # the budget, not the tracker, decided: far below the tracker's 120 s (no tight bound)
    assert time.monotonic() - started < 60


def test_a_slow_answer_inside_the_timeout_is_waited_for(
    service: Service, tracker: HttpTracker
) -> None:
    service.faults.add(Fault(delay=0.5))
    rec = record()
    assert tracker.send(rec) == rec.id


def test_connection_refused_is_unavailable_after_retries() -> None:
    waits: list[float] = []
    client = HttpTracker(f"http://127.0.0.1:{closed_port()}", "k", attempts=3, sleep=waits.append)
    with client, pytest.raises(TrackerUnavailable, match="cannot be reached") as caught:
        client.send(record())
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(waits) == 2


def test_401_is_an_auth_error_and_is_not_retried(service: Service) -> None:
    with (
        HttpTracker(service.url, "not-a-key-we-issued") as client,
        pytest.raises(TrackerAuthError, match="refused the key"),
    ):
        client.send(record())
    assert service.faults.posts() == 1


def test_403_is_an_auth_error(service: Service, tracker: HttpTracker) -> None:
    service.faults.add(Fault(403, body={"error": "forbidden"}))
    with pytest.raises(TrackerAuthError, match="HTTP 403"):
        tracker.send(record())


def test_422_names_the_refused_field_and_is_not_retried(
    service: Service, tracker: HttpTracker
) -> None:
    with pytest.raises(TrackerRejected) as caught:
        tracker.send(record(id="not-a-uuid"))
    assert caught.value.field == "id"
    assert "field 'id'" in str(caught.value)
    assert service.faults.posts() == 1


def test_400_with_a_field_is_a_refusal_naming_it(service: Service, tracker: HttpTracker) -> None:
    service.faults.add(Fault(400, body={"error": "too long", "field": "summary"}))
    with pytest.raises(TrackerRejected, match="field 'summary'") as caught:
        tracker.send(record())
    assert caught.value.field == "summary" and caught.value.status == 400


def test_other_4xx_are_not_retried_and_are_not_unavailability(
    service: Service, tracker: HttpTracker
) -> None:
    service.faults.add(Fault(404, body={"error": "no such route"}))
    with pytest.raises(TrackerError, match="no tracker API") as caught:
        tracker.send(record())
    assert not isinstance(caught.value, TrackerUnavailable)
    assert service.faults.posts() == 1


def test_a_redirect_is_not_followed(service: Service, tracker: HttpTracker) -> None:
    service.faults.add(Fault(307, headers={"Location": "https://elsewhere.example/api/sessions"}))
    with pytest.raises(TrackerError, match="redirects to https://elsewhere.example"):
        tracker.send(record())
    assert service.faults.posts() == 1


def test_a_200_without_a_session_id_is_not_taken_as_confirmation(
    service: Service, tracker: HttpTracker
) -> None:
    service.faults.add(Fault(200, body={"welcome": "captive portal"}))
    with pytest.raises(TrackerUnavailable, match="without a session id"):
        tracker.send(record())


# --- the key --------------------------------------------------------------------------------


def test_the_key_never_appears_in_errors_or_logs(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-very-secret-value-123"
    caplog.set_level(logging.DEBUG)
    # A tracker (or proxy) that echoes the Authorization header back in its error.
    service.faults.add(
        Fault(503, body={"error": f"bad header Bearer {secret}"}),
        Fault(401, body={"error": f"unknown key {secret}"}),
    )
    messages: list[str] = []
    with HttpTracker(service.url, secret, backoff=0.01) as client:
        with pytest.raises(TrackerAuthError) as caught:
            client.send(record())
        messages.append(str(caught.value))
        messages.append(repr(client))
    messages.extend(r.getMessage() for r in caplog.records)
    assert any("[REDACTED:" in m for m in messages)
    assert not [m for m in messages if secret in m]


def test_a_missing_key_is_an_auth_error_that_says_which_setting(service: Service) -> None:
    with (
        HttpTracker(service.url, None) as client,
        pytest.raises(TrackerAuthError, match="CLAUDE_SESSION_TRACKER_TOKEN is not"),
    ):
        client.send(record())
    assert service.faults.posts() == 0


def test_an_op_reference_is_resolved_on_first_use_and_only_once(service: Service) -> None:
    calls: list[str] = []

    def resolver(ref: str) -> str:
        calls.append(ref)
        return service.key

    client = HttpTracker(service.url, "op://Vault/tracker/key", resolve_secret=resolver)
    assert calls == []  # building the tracker costs no 1Password call
    with client:
        client.send(record())
        client.send(record())
    assert calls == ["op://Vault/tracker/key"]
    assert service.rows() == 2


def test_an_op_reference_without_1password_credentials_is_an_auth_error(
    service: Service, tmp_path: Path
) -> None:
    """The core hands the tracker 1Password's resolver (the tracker does not import the vault)."""
    settings = Settings(
        home=tmp_path, tracker_url=service.url, tracker_token="op://Vault/tracker/key"
    )
    with Core(settings) as core, pytest.raises(TrackerAuthError, match="1Password") as caught:
        core.tracker.send(record())
    assert isinstance(caught.value.__cause__, ConfigError)


def test_the_key_fingerprint_tells_keys_apart_without_showing_them() -> None:
    one = HttpTracker("https://t.example", "key-one-abcdef").credential_fingerprint()
    two = HttpTracker("https://t.example", "key-two-abcdef").credential_fingerprint()
    assert one and two and one != two
    assert "key" not in one
    assert HttpTracker("https://t.example", None).credential_fingerprint() is None


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://t.example", "t.example", "https://", "https://t.example/?a=1"]
)
def test_a_url_that_is_not_a_tracker_base_address_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="CLAUDE_SESSION_TRACKER_URL"):
        HttpTracker(url, "k")


def test_plain_http_to_another_host_warns_that_the_key_travels_unencrypted() -> None:
    for url, warned in (
        ("http://tracker.example", True),
        ("http://127.0.0.1:9", False),
        ("https://tracker.example", False),
    ):
        with flow.begin() as current:
            HttpTracker(url, "k")
        assert bool(current.warnings) is warned, url
        assert all("unencrypted" in w for w in current.warnings)


def test_credentials_in_the_url_are_not_shown_in_the_description() -> None:
    client = HttpTracker("https://user:pw@tracker.example/x", "k")
    assert "pw" not in client.description and "pw" not in repr(client)


def test_open_tracker_picks_http_when_a_url_is_set(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    remote = open_tracker(
        Settings(home=tmp_path, tracker_url="https://t.example", tracker_token="k"), paths
    )
    local = open_tracker(Settings(home=tmp_path), paths)
    assert isinstance(remote, HttpTracker) and remote.kind == "remote"
    assert isinstance(local, LocalTracker)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# --- telling a record's failure from the tracker's -------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "specific"),
    [
        (500, {}, True),  # the service failed on this request: maybe the record
        (500, {"Retry-After": "1"}, False),
        (502, {}, False),
        (503, {}, False),
        (504, {}, False),
        (429, {}, False),
    ],
)
def test_only_a_plain_500_may_be_the_records_fault(
    service: Service, status: int, headers: dict[str, str], specific: bool
) -> None:
    service.faults.always(Fault(status, headers=headers))
    with (
        HttpTracker(service.url, service.key, attempts=1) as client,
        pytest.raises(TrackerUnavailable) as caught,
    ):
        client.send(record())
    assert caught.value.status == status and caught.value.record_specific is specific


def test_attempts_per_call_override_the_trackers(service: Service) -> None:
    service.faults.always(Fault(500))
    with (
        HttpTracker(service.url, service.key, backoff=0.01) as client,
        pytest.raises(TrackerUnavailable),
    ):
        client.send(record(), attempts=1)
    assert service.faults.posts() == 1


def test_answers_is_a_single_authenticated_read(service: Service) -> None:
    with HttpTracker(service.url, service.key) as client:
        assert client.answers()
        service.faults.always(Fault(500))
        assert not client.answers()
    assert service.faults.hits[-1] == ("GET", "/api/sessions")
    with HttpTracker(f"http://127.0.0.1:{closed_port()}", "k") as dead:
        assert not dead.answers(budget=0.5)
