"""The API's search, filters and export (``GET /api/sessions`` with ``q``, ``branch``,
``machine``, ``end_mode``, ``since``, ``until``, ``format=csv``) over real HTTP, on SQLite and
PostgreSQL: the results carry the outcome (summary, next steps, cost), never another user's."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from claude_session.tracker.service.app import create_api_key
from claude_session.tracker.store import listing
from helpers.records import START, body, record
from helpers.tracker_service import Tracker, signed_in


def test_search_filters_and_csv_export(tracker: Tracker) -> None:
    gzip = record(
        summary="Gzip bodies decoded",
        next_steps=['=HYPERLINK("http://evil")'],
        ending_branch="feature/gzip",
        machine="laptop",
        end_mode="paused",
        cost_usd=0.1234,
        models=["claude-opus-4-5"],
    )
    other = record(
        summary="Docs", started_at=START + timedelta(days=2), ended_at=START + timedelta(days=2)
    )
    for item in (gzip, other):
        assert tracker.alice.post("/api/sessions", json=body(item)).status_code == 201
    assert (
        tracker.bob.post("/api/sessions", json=body(record(summary="gzip too"))).status_code == 201
    )

    def ids(**params: str) -> list[str]:
        answer = tracker.alice.get("/api/sessions", params=params)
        assert answer.status_code == 200, answer.text
        return [s["id"] for s in answer.json()["sessions"]]

    assert ids(q="gzip") == [gzip.id]
    assert ids(q="gzip", machine="desktop") == []
    assert ids(branch="feature/gzip") == [gzip.id] and ids(end_mode="paused") == [gzip.id]
    assert ids(since=(START + timedelta(days=1)).isoformat()) == [other.id]
    found = tracker.alice.get("/api/sessions", params={"q": "decoded"}).json()["sessions"][0]
    assert found["summary"] == "Gzip bodies decoded" and found["cost_usd"] == 0.1234
    assert tracker.alice.get("/api/sessions", params={"end_mode": "nope"}).status_code == 400

    exported = tracker.alice.get("/api/sessions", params={"q": "gzip", "format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    [header, row] = list(csv.reader(io.StringIO(exported.text)))
    line = dict(zip(header, row, strict=True))
    assert line["id"] == gzip.id and line["cost_usd"] == "0.1234"
    assert line["next_steps"].startswith("'=")  # never a formula in a spreadsheet


def test_a_total_past_the_count_limit_says_more_than(
    tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The total is counted up to a limit (1,000; 2 here): past it the API says
    ``total_capped`` and the list page "More than 2 sessions"; every match is still listed,
    page after page."""
    monkeypatch.setattr(listing, "COUNT_LIMIT", 2)
    gzips = [
        record(
            summary=f"Gzip part {n}",
            started_at=START + timedelta(hours=n),
            ended_at=START + timedelta(hours=n, minutes=30),
        )
        for n in range(3)
    ]
    for item in [*gzips, record(summary="Docs", started_at=START - timedelta(days=1))]:
        assert tracker.alice.post("/api/sessions", json=body(item)).status_code == 201
    first = tracker.alice.get("/api/sessions", params={"q": "gzip", "limit": 1}).json()
    assert (first["total"], first["total_capped"], len(first["sessions"])) == (2, True, 1)
    seen = [first["sessions"][0]["id"]]
    cursor = first["next_cursor"]
    while cursor:
        more = tracker.alice.get(
            "/api/sessions", params={"q": "gzip", "limit": 1, "cursor": cursor}
        ).json()
        seen += [s["id"] for s in more["sessions"]]
        cursor = more["next_cursor"]
    assert seen == [g.id for g in reversed(gzips)]
    exact = tracker.alice.get("/api/sessions", params={"q": "docs"}).json()
    assert (exact["total"], exact["total_capped"]) == (1, False)
    with signed_in(tracker, create_api_key(tracker.url, "alice")) as browser:
        assert "More than 2 sessions found" in browser.get("/", params={"q": "gzip"}).text
        assert "1 session found" in browser.get("/", params={"q": "docs"}).text
        assert "More than 2 sessions" in browser.get("/").text
