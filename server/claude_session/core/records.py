"""The session record (seed: ``claude_sessions``), computed from the ledger, git and the
transcript rather than guessed; made storable for the tracker, and delivered."""

from __future__ import annotations

import socket
from datetime import datetime
from typing import Any

from claude_session.base import flow, stretch
from claude_session.base.clock import new_id
from claude_session.base.redact import count_markers, redact_data
from claude_session.base.sessions import record_fields
from claude_session.base.state import ledger
from claude_session.base.tokens import Usage
from claude_session.core.project import Project
from claude_session.core.services import Services
from claude_session.models import (
    LedgerEntry,
    MaintenanceRun,
    SecurityFinding,
    SessionRecord,
)
from claude_session.paths import Paths
from claude_session.vocab import RecordEnd, TrackerOutcome

SECURITY_WORDS = ("security", "audit", "scan", "vuln", "secret", "sast", "cve")


def machine_name() -> str:
    return socket.gethostname() or "unknown"


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
    keys = (
        "summary",
        "accomplishments",
        "next_steps",
        "files_changed",
        "maintenance_runs",
        "security_findings",
        "starting_branch",
        "ending_branch",
        "repository_url",
    )
    # one call for all fields: a secret found in one field is removed from the others too
    data.update(redact_data({key: data[key] for key in keys}))
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
    mode: RecordEnd,
    record_id: str | None,
    continues: str | None = None,
    paths: Paths | None = None,
) -> SessionRecord:
    raw = entry.model_dump(mode="json")
    raw["project"] = application
    raw["continues"] = continues or entry.continues
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
        paths=paths,
    )
    return redacted(SessionRecord.model_validate(fields))


def make(
    services: Services,
    project: Project,
    entry: LedgerEntry,
    *,
    ending_branch: str | None,
    commits_count: int,
    files_changed: list[str],
    summary: str,
    accomplishments: list[str],
    next_steps: list[str],
    mode: RecordEnd,
) -> SessionRecord:
    """The stretch's record, as the tracker can store it (what had to change is warned): its
    own tokens, those no earlier record billed (``stretch``), kept as billed by this one."""
    record_id = entry.record_id or new_id()
    usage, continues = stretch.count(
        services.paths, entry.model_dump(mode="json"), record_id=record_id
    )
    record = build_record(
        entry,
        application=project.name,
        repository_url=project.record_url,
        ended_at=services.now(),
        ending_branch=ending_branch,
        commits_count=commits_count,
        files_changed=files_changed,
        usage=usage,
        summary=summary,
        accomplishments=accomplishments,
        next_steps=next_steps,
        mode=mode,
        record_id=record_id,
        continues=continues,
        paths=services.paths,
    )
    stretch.bill(services.paths, entry.session_id, record.id, usage)
    from claude_session.tracker.delivery import Delivery

    record, changes = Delivery.sanitize(record)
    for change in changes:
        flow.warn(change)
    flow.current().saw_redactions(count_markers(record.model_dump_json()))
    return record


def deliver(services: Services, record: SessionRecord) -> tuple[TrackerOutcome, str | None]:
    """Hand the record to the tracker through the outbox, which keeps what fails; while the
    tracker answers, older records waiting there go too (if no other drain is at it: end never
    waits for one)."""
    delivery = services.delivery
    result = delivery.deliver(record)
    if result.warning:
        flow.warn(result.warning)
    if result.outcome in ("sent", "local"):
        for warning in delivery.drain(limit=20, budget=2.0, wait=0.0).warnings:
            flow.warn(warning)
    return result.outcome, result.detail


def send_paused(
    services: Services,
    project: Project,
    entry: LedgerEntry,
    *,
    ending_branch: str | None,
    commits_count: int,
    files_changed: list[str],
    summary: str,
    accomplishments: list[str],
    next_steps: list[str],
    head: str | None,
) -> tuple[TrackerOutcome, str | None]:
    """The record of the stretch a pause closes, sent now (not when the session is finalized
    hours later). The entry then starts the next stretch, which continues this record: in
    Claude Code the conversation may go on (a quiet tail, as the pause turn's own answer, is
    folded into this record when the session ends), and a CLI session may end later."""
    record = make(
        services,
        project,
        entry,
        ending_branch=ending_branch,
        commits_count=commits_count,
        files_changed=files_changed,
        summary=summary,
        accomplishments=accomplishments,
        next_steps=next_steps,
        mode="paused",
    )
    outcome, detail = deliver(services, record)
    now = services.now()
    entry.record = record.model_dump(mode="json")
    entry.started_at, entry.starting_head = now, head or entry.starting_head
    entry.starting_branch = ending_branch or entry.starting_branch
    entry.maintenance_runs, entry.security_findings = [], []
    entry.summary, entry.paused_at = "", None
    entry.record_id, entry.continues = None, record.id
    for key, value in ledger.stretch_start(entry.transcript_path).items():
        setattr(entry, key, value)  # the next stretch's digest reads from here
    return outcome, detail
