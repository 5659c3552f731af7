"""The tracker's JSON API (``service/api.py``) over real HTTP (uvicorn in a thread), on SQLite
and on PostgreSQL: writing and reading records, isolation between users, paging by cursor,
command types of runs."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from claude_session.models import MaintenanceRun, SessionRecord
from claude_session.tracker.store.database import (
    create_engine,
)
from helpers.records import REPO, START, body, full_record, record, runs
from helpers.tracker_service import Tracker, many_sessions

# --- helpers shared with test_tracker_postgres, test_tracker_ui and bench/ ----------------------


# --- writing ----------------------------------------------------------------------------------


def test_health_answers_ok(tracker: Tracker) -> None:
    response = tracker.anonymous.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_post_creates_the_session_and_get_returns_every_field(tracker: Tracker) -> None:
    sent = full_record()
    response = tracker.alice.post("/api/sessions", json=body(sent))
    assert response.status_code == 201 and response.json() == {"id": sent.id}
    got = tracker.alice.get(f"/api/sessions/{sent.id}")
    assert got.status_code == 200
    assert SessionRecord.model_validate(got.json()) == sent
    assert tracker.count("maintenance_runs") == 2


def test_resending_a_known_id_updates_it_and_replaces_its_runs(tracker: Tracker) -> None:
    first = full_record()
    assert tracker.alice.post("/api/sessions", json=body(first)).status_code == 201
    assert tracker.alice.post("/api/sessions", json=body(first)).status_code == 200
    only = MaintenanceRun(command="deps", status="ok", run_at=START)
    second = first.model_copy(update={"summary": "Updated", "maintenance_runs": [only]})
    response = tracker.alice.post("/api/sessions", json=body(second))
    assert response.status_code == 200 and response.json() == {"id": first.id}
    assert (
        tracker.count("claude_sessions"),
        tracker.count("maintenance_runs"),
        tracker.count("applications"),
    ) == (1, 1, 1)
    got = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{first.id}").json())
    assert got.summary == "Updated" and got.maintenance_runs == [only]


def test_one_application_per_repository_and_user_named_after_the_latest(tracker: Tracker) -> None:
    tracker.alice.post("/api/sessions", json=body(record(application_name="widgets")))
    tracker.alice.post("/api/sessions", json=body(record(application_name="widgets-2")))
    tracker.alice.post(
        "/api/sessions", json=body(record(application_name="x", repository_url=None))
    )
    tracker.bob.post("/api/sessions", json=body(record(application_name="widgets")))
    apps = tracker.alice.get("/api/applications").json()["applications"]
    assert sorted((a["name"], a["repository_url"]) for a in apps) == [
        ("widgets-2", REPO),
        ("x", None),
    ]
    assert set(apps[0]) == {"id", "name", "repository_url"}
    assert [a["name"] for a in tracker.bob.get("/api/applications").json()["applications"]] == [
        "widgets"
    ]
    assert tracker.count("applications") == 3


def test_a_record_without_an_id_gets_one(tracker: Tracker) -> None:
    data = body(record())
    del data["id"]
    response = tracker.alice.post("/api/sessions", json=data)
    assert response.status_code == 201 and uuid.UUID(response.json()["id"])


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"started_at": "yesterday-ish"}, "started_at"),
        ({"application_name": None}, "application_name"),
        ({"commits_count": "many"}, "commits_count"),
        ({"maintenance_runs": [{"status": "ok"}]}, "maintenance_runs.0.command"),
        ({"id": "not-a-uuid"}, "id"),
    ],
)
def test_an_invalid_record_is_422_naming_the_field(
    tracker: Tracker, change: dict[str, Any], field: str
) -> None:
    data = body(record()) | change
    response = tracker.alice.post("/api/sessions", json=data)
    assert response.status_code == 422
    assert response.json()["field"] == field and response.json()["error"]
    assert tracker.count("claude_sessions") == 0


def test_a_missing_field_is_422_naming_it(tracker: Tracker) -> None:
    data = body(record())
    del data["ended_at"]
    response = tracker.alice.post("/api/sessions", json=data)
    assert response.status_code == 422 and response.json()["field"] == "ended_at"


def test_a_body_that_is_not_json_is_400(tracker: Tracker) -> None:
    response = tracker.alice.post(
        "/api/sessions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    assert tracker.alice.post("/api/sessions", json=[1, 2]).status_code == 422


def test_a_body_over_the_limit_is_413(tracker: Tracker) -> None:
    big = record(summary="x" * (1024 * 1024 + 10))
    response = tracker.alice.post("/api/sessions", json=body(big))
    assert response.status_code == 413 and response.json()["error"]
    assert tracker.count("claude_sessions") == 0


def test_missing_or_unknown_keys_are_401(tracker: Tracker) -> None:
    for headers in ({}, {"Authorization": "Bearer cst_nope"}, {"Authorization": "Basic abc"}):
        response = tracker.anonymous.post("/api/sessions", json=body(record()), headers=headers)
        assert response.status_code == 401 and response.json()["error"], headers
        assert tracker.anonymous.get("/api/sessions", headers=headers).status_code == 401
    assert tracker.count("claude_sessions") == 0


def test_unknown_api_routes_answer_json(tracker: Tracker) -> None:
    response = tracker.alice.get("/api/nothing-here")
    assert response.status_code == 404 and response.json() == {"error": "Not Found"}


# --- isolation --------------------------------------------------------------------------------


def test_another_users_session_answers_404_and_is_not_listed(tracker: Tracker) -> None:
    mine = full_record()
    tracker.alice.post("/api/sessions", json=body(mine))
    response = tracker.bob.get(f"/api/sessions/{mine.id}")
    assert response.status_code == 404 and response.json()["error"]
    assert tracker.bob.get("/api/sessions").json() == {
        "sessions": [],
        "total": 0,
        "total_capped": False,
        "next_cursor": None,
    }
    assert tracker.bob.get("/api/applications").json() == {"applications": []}
    assert tracker.alice.get(f"/api/sessions/{mine.id}").status_code == 200


def test_another_user_cannot_overwrite_a_session_by_its_id(tracker: Tracker) -> None:
    mine = full_record()
    tracker.alice.post("/api/sessions", json=body(mine))
    theirs = mine.model_copy(update={"summary": "hijacked", "maintenance_runs": []})
    response = tracker.bob.post("/api/sessions", json=body(theirs))
    assert response.status_code == 409 and response.json()["field"] == "id"
    got = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{mine.id}").json())
    assert got == mine


def test_another_user_cannot_take_a_maintenance_run_by_its_id(tracker: Tracker) -> None:
    mine = full_record()
    tracker.alice.post("/api/sessions", json=body(mine))
    theirs = record(maintenance_runs=[mine.maintenance_runs[0]])
    assert tracker.bob.post("/api/sessions", json=body(theirs)).status_code == 409
    got = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{mine.id}").json())
    assert got.maintenance_runs == mine.maintenance_runs


def test_a_run_sent_again_under_another_session_of_the_same_user_moves_there(
    tracker: Tracker,
) -> None:
    first = full_record()
    assert tracker.alice.post("/api/sessions", json=body(first)).status_code == 201
    moved, new = first.maintenance_runs[0], MaintenanceRun(command="lint", status="ok")
    second = record(maintenance_runs=[new, moved])
    assert tracker.alice.post("/api/sessions", json=body(second)).status_code == 201
    there = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{second.id}").json())
    left = SessionRecord.model_validate(tracker.alice.get(f"/api/sessions/{first.id}").json())
    assert {r.id for r in there.maintenance_runs} == {new.id, moved.id}
    assert moved.id not in {r.id for r in left.maintenance_runs}
    assert tracker.count("maintenance_runs") == len(first.maintenance_runs) + 1


def test_unknown_or_malformed_ids_answer_404(tracker: Tracker) -> None:
    for session_id in (str(uuid.uuid4()), "not-a-uuid", "1; DROP TABLE users"):
        assert tracker.alice.get(f"/api/sessions/{session_id}").status_code == 404


# --- listing ----------------------------------------------------------------------------------


def _seven(tracker: Tracker) -> list[SessionRecord]:
    sent = [
        record(
            application_name="widgets" if h % 2 else "gears",
            repository_url=REPO if h % 2 else "github.com/acme/gears",
            started_at=START + timedelta(days=h),
            ended_at=START + timedelta(days=h, hours=1),
        )
        for h in (3, 0, 5, 1, 4, 2, 6)
    ]
    for rec in sent:
        assert tracker.alice.post("/api/sessions", json=body(rec)).status_code == 201
    return sorted(sent, key=lambda r: r.started_at, reverse=True)


def test_list_pages_newest_first_with_total_and_next_cursor(tracker: Tracker) -> None:
    newest = _seven(tracker)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        page = tracker.alice.get("/api/sessions", params=params).json()
        assert page["total"] == 7
        seen += [s["id"] for s in page["sessions"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 3, "cursor": page["next_cursor"]}
    assert seen == [r.id for r in newest]
    assert len(page["sessions"]) == 1
    SessionRecord.model_validate(page["sessions"][0])  # the client reads pages as records


def test_list_filters_by_application_and_dates(tracker: Tracker) -> None:
    newest = _seven(tracker)
    widgets = tracker.alice.get("/api/sessions", params={"application": "widgets"}).json()
    assert [s["id"] for s in widgets["sessions"]] == [
        r.id for r in newest if r.application_name == "widgets"
    ]
    window = {
        "since": (START + timedelta(days=2)).isoformat(),
        "until": (START + timedelta(days=5)).isoformat(),
    }
    dated = tracker.alice.get("/api/sessions", params=window).json()
    assert [s["started_at"][:10] for s in dated["sessions"]] == [
        "2025-03-18",
        "2025-03-17",
        "2025-03-16",
    ]
    both = tracker.alice.get("/api/sessions", params={**window, "application": "gears"}).json()
    assert both["total"] == 2
    assert tracker.alice.get("/api/sessions", params={"since": "2025-03-19"}).json()["total"] == 2
    assert (
        tracker.alice.get("/api/sessions", params={"application": "nothing"}).json()["total"] == 0
    )


@pytest.mark.parametrize(
    "params", [{"limit": "ten"}, {"limit": "100000"}, {"since": "the other day"}]
)
def test_bad_list_parameters_are_400_naming_them(tracker: Tracker, params: dict[str, str]) -> None:
    response = tracker.alice.get("/api/sessions", params=params)
    assert response.status_code == 400 and response.json()["field"] == next(iter(params))


# --- database ---------------------------------------------------------------------------------


def test_concurrent_first_sends_of_one_record_make_one_row(tracker: Tracker) -> None:
    sent = [full_record(id=str(uuid.uuid4())) for _ in range(4)]
    statuses: list[int] = []

    def send(rec: SessionRecord) -> None:
        with httpx.Client(base_url=tracker.base, headers=tracker.alice.headers) as client:
            for _ in range(3):
                statuses.append(client.post("/api/sessions", json=body(rec)).status_code)

    threads = [threading.Thread(target=send, args=(rec,)) for rec in sent for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(statuses) <= {200, 201} and len(statuses) == 36
    assert tracker.count("claude_sessions") == 4 and tracker.count("applications") == 1
    assert tracker.count("maintenance_runs") == 8


# --- API keys a team can manage ---------------------------------------------------------------


# --- command types (the seed's maintenance_runs.command_type_id) -------------------------------


def test_runs_get_a_command_type_from_their_command(tracker: Tracker) -> None:
    first = record(maintenance_runs=runs("npm audit", "npm audit --json", "./scan.sh --deep"))
    second = record(maintenance_runs=runs("NPM audit", "make lint FOO=1"))
    for rec in (first, second):
        assert tracker.alice.post("/api/sessions", json=body(rec)).status_code == 201
    got = tracker.alice.get(f"/api/sessions/{first.id}").json()
    assert [r["command_type"] for r in got["maintenance_runs"]] == [
        "npm audit",
        "npm audit",
        "scan.sh",
    ]
    assert tracker.count("command_types") == 3  # npm audit, scan.sh, make lint
    engine = create_engine(tracker.url)
    try:
        with engine.connect() as conn:
            orphans = conn.execute(
                sa.text(
                    "SELECT count(*) FROM maintenance_runs r LEFT JOIN command_types t "
                    "ON t.id = r.command_type_id WHERE t.id IS NULL"
                )
            ).scalar_one()
        keys = sa.inspect(engine).get_foreign_keys("maintenance_runs")
    finally:
        engine.dispose()
    assert orphans == 0
    assert any(
        k["referred_table"] == "command_types" and k["constrained_columns"] == ["command_type_id"]
        for k in keys
    )


# --- a service a team can run: workers, environment, migrations that cannot race ---------------


# --- keyset pagination -------------------------------------------------------------------------


def test_cursor_pages_walk_every_session_once_in_order(tracker: Tracker) -> None:
    newest_first = many_sessions(tracker, 23)
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 5}
    while True:
        page = tracker.alice.get("/api/sessions", params=params).json()
        assert page["total"] == 23
        seen += [s["id"] for s in page["sessions"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 5, "cursor": page["next_cursor"]}
    assert seen == newest_first


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "junk"},
        {"cursor": "W10", "limit": "5"},
        {"cursor": "x" * 3000},
        {"cursor": "a%00"},
    ],
)
def test_a_cursor_the_tracker_did_not_make_is_400(tracker: Tracker, params: dict[str, str]) -> None:
    answer = tracker.alice.get("/api/sessions", params=params)
    assert answer.status_code == 400 and answer.json()["field"] == "cursor"


# --- SQLite writers ----------------------------------------------------------------------------
