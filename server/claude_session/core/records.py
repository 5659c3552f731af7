"""The session record (seed: ``claude_sessions``), computed from the ledger, git and the
transcript rather than guessed."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from claude_session.base.redact import redact_data
from claude_session.base.sessions import record_fields
from claude_session.base.tokens import Usage, usage_from_transcript
from claude_session.models import (
    LedgerEntry,
    MaintenanceRun,
    SecurityFinding,
    SessionRecord,
    new_id,
)

SECURITY_WORDS = ("security", "audit", "scan", "vuln", "secret", "sast", "cve")


def machine_name() -> str:
    return socket.gethostname() or "unknown"


def transcript_usage(path: str | None, session_id: str | None) -> Usage | None:
    if not path:
        return None
    return usage_from_transcript(Path(path), session_id=session_id)


def security_findings(run: MaintenanceRun) -> list[SecurityFinding]:
    """Findings a security-type maintenance run reports: its ``findings`` list, or the run
    itself as one finding when it failed without a list."""
    if not any(word in run.command.lower() for word in SECURITY_WORDS):
        return []
    results: Any = run.results
    if isinstance(results, dict):
        found = results.get("findings") or results.get("vulnerabilities") or results.get("issues")
        if isinstance(found, list):
            return [f if isinstance(f, dict) else {"finding": str(f)} for f in found]
    if isinstance(results, list):
        return [f if isinstance(f, dict) else {"finding": str(f)} for f in results]
    if run.status not in ("ok", "passed", "success", "clean"):
        return [{"command": run.command, "status": run.status, "notes": run.notes or ""}]
    return []


def redacted(record: SessionRecord) -> SessionRecord:
    """The record as it may leave the machine: every free-text field redacted."""
    data = record.model_dump(mode="json")
    for key in (
        "summary",
        "accomplishments",
        "next_steps",
        "files_changed",
        "maintenance_runs",
        "security_findings",
        "starting_branch",
        "ending_branch",
        "repository_url",
    ):
        data[key] = redact_data(data[key])
    return SessionRecord.model_validate(data)


def build_record(
    entry: LedgerEntry,
    *,
    application: str,
    repository_url: str | None,
    ended_at: datetime,
    ending_branch: str | None,
    commits_count: int,
    files_changed: list[str],
    usage: Usage | None,
    summary: str,
    accomplishments: list[str],
    next_steps: list[str],
    mode: str,
    record_id: str | None,
) -> SessionRecord:
    raw = entry.model_dump(mode="json")
    raw["project"] = application
    fields = record_fields(
        raw,
        record_id=record_id or new_id(),
        ended_at=ended_at.isoformat(),
        repository_url=repository_url,
        ending_branch=ending_branch,
        commits_count=commits_count,
        files_changed=files_changed,
        usage=usage,
        summary=summary,
        accomplishments=accomplishments,
        next_steps=next_steps,
        mode=mode,
        machine=machine_name(),
    )
    return redacted(SessionRecord.model_validate(fields))
