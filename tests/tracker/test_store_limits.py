"""What the tracker's columns can hold (``store/limits.py``), checked through the API on SQLite
and PostgreSQL: NUL and lone surrogates in any field, integers past 64 bits, non-finite numbers,
dates past year 9999 or before 1970, deep nesting. A value no column can hold gets a 4xx naming
its field, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers.records import body, full_record
from helpers.tracker_service import Tracker, post


@pytest.mark.parametrize("field", ["tokens_input", "commits_count", "duration_minutes"])
def test_integers_past_64_bits_get_422_not_500(shared: Tracker, field: str) -> None:
    data = body(full_record())
    data[field] = 10**40
    assert post(shared.alice, data).status_code == 422


def test_deeply_nested_json_gets_400_not_500(shared: Tracker) -> None:
    answer = shared.alice.post("/api/sessions", content=b'{"a": ' * 100_000)
    assert answer.status_code in (400, 422)


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
def test_nul_in_any_field_is_422_naming_it(shared: Tracker, path: str) -> None:
    answer = post(shared.alice, _with(path, "a\x00b"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == path and "NUL" in answer.json()["error"]


@pytest.mark.parametrize("mode", ["unended\x00", "finished", ""])
def test_an_end_mode_the_product_does_not_have_is_422_naming_it(shared: Tracker, mode: str) -> None:
    """``end_mode`` is one of ``vocab.RecordEnd``: anything else (a NUL included) is refused."""
    answer = post(shared.alice, _with("end_mode", mode))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "end_mode"


def test_nul_in_a_key_of_results_is_422_naming_it(shared: Tracker) -> None:
    answer = post(shared.alice, _with("maintenance_runs.0.results", {"k\x00": 1}))
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
def test_a_lone_surrogate_is_422_naming_the_field(shared: Tracker, path: str) -> None:
    raw = json.dumps(_with(path, "x\ud800y"))  # ensure_ascii: sent as the escape \\ud800
    answer = shared.alice.post(
        "/api/sessions", content=raw, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == path and "surrogate" in answer.json()["error"]


@pytest.mark.parametrize("param", ["application", "application_id", "since", "until", "limit"])
def test_nul_in_a_query_parameter_is_400_naming_it(shared: Tracker, param: str) -> None:
    answer = shared.alice.get("/api/sessions?" + param + "=a%00b")
    assert answer.status_code == 400 and answer.json()["field"] == param


@pytest.mark.parametrize(
    "field", ["duration_minutes", "commits_count", "tokens_input", "tokens_cache_read"]
)
def test_integers_up_to_64_bits_are_stored_and_read_back(shared: Tracker, field: str) -> None:
    for value in (2**31, 2**63 - 1):
        rec = full_record(**{field: value})
        assert post(shared.alice, body(rec)).status_code == 201
        assert shared.alice.get(f"/api/sessions/{rec.id}").json()[field] == value
    answer = post(shared.alice, _with(field, 2**63))
    assert answer.status_code == 422 and answer.json()["field"] == field


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_past_64_bits_inside_results_are_422(shared: Tracker, value: int) -> None:
    answer = post(shared.alice, _with("maintenance_runs.0.results.issues", value))
    assert answer.status_code == 422
    assert answer.json()["field"] == "maintenance_runs.0.results.issues"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999999"])
def test_non_finite_numbers_inside_results_are_422(shared: Tracker, literal: str) -> None:
    raw = json.dumps(_with("maintenance_runs.0.results.issues", 0)).replace(
        '"issues": 0', f'"issues": {literal}'
    )
    answer = shared.alice.post("/api/sessions", content=raw)
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
    shared: Tracker, moment: str, path: str
) -> None:
    answer = post(shared.alice, _with(path, moment))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == path and "1970" in answer.json()["error"]
    assert shared.alice.get("/api/sessions").status_code == 200


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
@pytest.mark.parametrize("param", ["since", "until"])
def test_list_dates_outside_the_range_are_400_naming_them(
    shared: Tracker, moment: str, param: str
) -> None:
    answer = shared.alice.get("/api/sessions", params={param: moment})
    assert answer.status_code == 400 and answer.json()["field"] == param


def test_the_edges_of_the_date_range_are_stored_and_listed(shared: Tracker) -> None:
    early = full_record(started_at="1970-01-01T00:00:00Z", ended_at="9999-12-30T23:00:00-01:00")
    assert post(shared.alice, body(early)).status_code == 201
    listed = shared.alice.get(
        "/api/sessions", params={"since": "1970-01-01T00:00:00Z", "limit": 500}
    )
    assert listed.status_code == 200 and early.id in [s["id"] for s in listed.json()["sessions"]]
    assert shared.alice.get(f"/api/sessions/{early.id}").json()["ended_at"].startswith("9999")


def test_results_nested_900_deep_are_422_not_500(shared: Tracker) -> None:
    deep: Any = 0
    for _ in range(900):
        deep = [deep]
    answer = post(shared.alice, _with("maintenance_runs.0.results", deep))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"].startswith("maintenance_runs.0.results.0.0")
    assert "deeper" in answer.json()["error"]


def test_findings_nested_40_deep_are_stored(shared: Tracker) -> None:
    deep: Any = "leaf"
    for n in range(40):
        deep = {f"k{n}": deep}
    rec = full_record(security_findings=[deep])
    assert post(shared.alice, body(rec)).status_code == 201
    got = shared.alice.get(f"/api/sessions/{rec.id}").json()
    assert got["security_findings"] == [deep]


# --- hardening: headers, Origin, body limits and deadlines, log-in rate limit -----------------
