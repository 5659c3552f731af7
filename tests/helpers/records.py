"""The session records tests send: ``record()`` with the fields a test names (a new id each
time, validated as the tracker validates), ``full_record()`` with every field set, ``body()``
as JSON, ``awkward_record()`` with what no tracker stores, ``chain_records()`` for one logical
session in three records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from claude_session.models import MaintenanceRun, SessionRecord

START = datetime(2025, 3, 14, 9, 0, tzinfo=timezone.utc)
REPO = "github.com/acme/widgets"


def record(**overrides: Any) -> SessionRecord:
    """A record of the application ``widgets`` started at ``START``, with ``overrides``."""
    fields: dict[str, Any] = {
        "application_name": "widgets",
        "repository_url": REPO,
        "started_at": START,
        "ended_at": START + timedelta(minutes=42),
    }
    fields.update(overrides)
    return SessionRecord.model_validate(fields)


def full_record(**overrides: Any) -> SessionRecord:
    fields: dict[str, Any] = dict(
        claude_session_id="cc-123",
        duration_minutes=42,
        starting_branch="main",
        ending_branch="feature/ü",
        commits_count=3,
        context_id="ctx-9",
        session_source="mcp",
        tokens_input=1200,
        tokens_output=340,
        tokens_cache_creation=55,
        tokens_cache_read=7000,
        summary="Fixed the parser.\nSecond line ✓",
        accomplishments=["parser", "tests"],
        next_steps=["release"],
        files_changed=["src/a.py", "docs/ü.md"],
        maintenance_runs=[
            MaintenanceRun(
                command="audit",
                status="ok",
                results={"issues": 0, "list": [1, 2]},
                notes="clean",
                run_at=START + timedelta(minutes=5),
            ),
            MaintenanceRun(
                command="security-scan",
                status="failed",
                results=None,
                run_at=START + timedelta(minutes=9),
            ),
        ],
        security_findings=[{"severity": "high", "id": "CVE-1", "nested": {"a": [1]}}],
        machine="laptop",
        end_mode="handoff",
    )
    fields.update(overrides)
    return record(**fields)


def body(rec: SessionRecord) -> dict[str, Any]:
    """The record as the client POSTs it."""
    data: dict[str, Any] = rec.model_dump(mode="json")
    return data


def awkward_record() -> SessionRecord:
    """A record with what the tracker cannot store in every kind of field (NUL, a lone
    surrogate, counts past 64 bits and below zero, dates past 9999 and before 1970, NaN): made
    without validation, as an older client version could queue it."""
    far = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-12)))
    return record().model_copy(
        update=dict(
            summary="a\x00b \ud800 c",
            application_name="app\x00",
            starting_branch="feat/\x00x",
            duration_minutes=2**64,
            commits_count=-5,
            tokens_input=2**63 - 1,
            ended_at=far,
            started_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
            accomplishments=["one\x00", "two"],
            security_findings=[
                {"k\x00ey": ["v\x00", {"deep\x00": "x\x00"}], "n": float("nan"), "big": 10**30}
            ],
            maintenance_runs=[
                MaintenanceRun(command="scan\x00", status="ok", results={"snippet": "PK\x00\x03"})
            ],
        )
    )


CHAIN = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(4)]


def chain_records(**extra: Any) -> list[SessionRecord]:
    """Three parts of one session (the middle one sent first) and an unrelated record."""
    parts = []
    for n in range(3):
        start = START + timedelta(hours=n)
        parts.append(
            record(
                id=CHAIN[n],
                started_at=start,
                ended_at=start + timedelta(minutes=5),
                continues=CHAIN[n - 1] if n else None,
                end_mode="paused" if n < 2 else "standard",
                **extra,
            )
        )
    return [parts[1], parts[0], parts[2], record(id=CHAIN[3])]


def runs(*commands: str) -> list[MaintenanceRun]:
    return [
        MaintenanceRun(
            command=c, status="ok" if n % 2 else "failed", run_at=START + timedelta(minutes=n)
        )
        for n, c in enumerate(commands)
    ]
