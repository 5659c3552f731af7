"""Maintenance runs (seed: ``maintenance_runs``): an audit, a dependency update or a security
scan another command ran reports its result here; it lands in the session's context and record
(and, for security scans, in ``security_findings``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from claude_session.base import flow
from claude_session.base.redact import count_markers, redact_data
from claude_session.core import records, steps
from claude_session.core.project import resolve
from claude_session.core.services import Services
from claude_session.errors import ClaudeSessionError
from claude_session.models import MaintenanceResult, MaintenanceRun


def record_maintenance(
    services: Services,
    cwd: Path | str,
    *,
    command: str,
    status: str,
    results: Any = None,
    notes: str | None = None,
    session_id: str | None = None,
) -> MaintenanceResult:
    if not command.strip() or not status.strip():
        raise ClaudeSessionError("A maintenance run needs a command name and a status.")
    with services.call():
        project = resolve(cwd)
        sid = steps.session_id(services, session_id, project, create=True)
        assert sid is not None
        state = steps.working_state(project)
        entry = steps.open_entry(services, project, sid, source="cli", state=state)
        run = MaintenanceRun(
            command=command.strip(),
            status=status.strip(),
            results=redact_data(results),
            notes=redact_data(notes),
        )
        flow.current().saw_redactions(count_markers(run.model_dump_json()))
        entry.maintenance_runs.append(run)
        entry.security_findings.extend(records.security_findings(run))
        steps.save_ledger(services, entry)
        return steps.result(MaintenanceResult, project, session_id=sid, run=run)
