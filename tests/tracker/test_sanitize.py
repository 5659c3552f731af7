"""Making a record storable before it is queued (``tracker/sanitize.py``), against what the store
holds (``store/limits.py``)."""

from __future__ import annotations

import sys

from claude_session.models import MaintenanceRun
from claude_session.tracker.sanitize import BODY_TARGET, FREE_DEPTH, sanitize_record
from claude_session.tracker.store.limits import LATEST, MAX_DEPTH, MAX_INT, check_document
from helpers.records import awkward_record, record


def test_sanitize_removes_nul_everywhere_and_bounds_numbers_and_dates() -> None:
    clean, changes = sanitize_record(awkward_record())
    text = clean.model_dump_json()
    assert "\\u0000" not in text and "\x00" not in text
    assert clean.summary == "ab \ufffd c" and clean.application_name == "app"
    assert clean.security_findings == [{"key": ["v", {"deep": "x"}], "n": None, "big": str(10**30)}]
    assert clean.maintenance_runs[0].results == {"snippet": "PK\x03"}
    assert clean.duration_minutes == MAX_INT and clean.commits_count == 0
    assert clean.tokens_input == 2**63 - 1  # bigint: kept
    assert clean.ended_at == LATEST and clean.started_at.year == 1970
    said = " ".join(changes)
    for words in (
        "NUL characters removed from application_name",
        "summary",
        "more",
        "unpaired surrogates",
        "duration_minutes 18446744073709551616",
        "commits_count",
        "ended_at 9999-12-31T23:00:00-12:00",
        "NaN",
        "past 64 bits",
    ):
        assert words in said, words


def test_sanitize_is_idempotent_and_leaves_a_clean_record_alone() -> None:
    clean, changes = sanitize_record(awkward_record())
    assert changes
    assert sanitize_record(clean) == (clean, [])
    plain = record(accomplishments=["ü ✓ 😀"], summary="line\nline")
    assert sanitize_record(plain) == (plain, [])


def test_sanitize_keeps_a_huge_record_under_the_body_limit_and_counts_what_it_cut() -> None:
    big = record(
        summary="s" * 200_000,
        files_changed=[f"f{n}" for n in range(50_000)],
        maintenance_runs=[
            MaintenanceRun(command="c", status="s", results={"rows": ["r" * 5_000] * 2_000})
            for _ in range(20)
        ],
    )
    clean, changes = sanitize_record(big)
    size = len(clean.model_dump_json().encode())
    assert size <= BODY_TARGET
    assert clean.summary.endswith("characters cut]") and len(clean.summary) <= 20_000
    assert clean.files_changed[-1].endswith("more entries cut]")
    said = " ".join(changes)
    assert "long texts cut" in said and "long lists cut" in said and "files_changed" in said


def test_sanitize_cuts_deep_nesting_and_turns_non_json_into_text() -> None:
    deep: object = "bottom"
    for _ in range(sys.getrecursionlimit() // 4):
        deep = [deep]
    run = MaintenanceRun(
        command="c", status="s", results={"deep": deep, "b": b"\xff\x00", "s": {1}}
    )
    clean, changes = sanitize_record(record(maintenance_runs=[run]))
    clean.model_dump_json()  # serializable now
    assert f"nested deeper than {FREE_DEPTH} levels" in " ".join(changes)
    assert clean.maintenance_runs[0].results["b"] == "\ufffd" and clean.maintenance_runs[0].results[
        "s"
    ] == [1]


def test_what_sanitize_keeps_the_store_holds() -> None:
    """One definition of what the tracker can hold (store/limits.py): nothing the client's
    cleaning lets through is refused by the store's check."""
    deep: object = "bottom"
    for _ in range(MAX_DEPTH * 2):
        deep = {"k": deep}
    run = MaintenanceRun(command="c", status="s", results={"deep": deep})
    for raw in (awkward_record(), record(maintenance_runs=[run], security_findings=[deep])):
        clean, changes = sanitize_record(raw)
        assert changes
        check_document(clean)
