"""The API's search, filters and export (``GET /api/sessions`` with ``q``, ``branch``,
``machine``, ``end_mode``, ``since``, ``until``, ``format=csv``) over real HTTP, on SQLite and
PostgreSQL: the results carry the outcome (summary, next steps, cost), never another user's."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from helpers.records import START, body, record
from helpers.tracker_service import Tracker


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
