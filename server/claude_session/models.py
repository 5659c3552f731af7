"""Records that cross a boundary: state entries, the session record, flow results.

One model serves the CLI's ``--json``, the MCP tools' structured output, the state files and the
tracker API. Hooks do not import this module (pydantic is not on their path); they read and
write the same JSON shapes as plain dicts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from claude_session.base.clock import new_id, now
from claude_session.vocab import (
    EndMode,
    ItemKind,
    LedgerStatus,
    RecordEnd,
    StartStatus,
    TrackerOutcome,
)


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- state entries ---------------------------------------------------------------------------


class PauseEntry(Model):
    """One project's entry in ``pause-state.json`` (key: absolute project root)."""

    project: str
    project_root: str
    repository_url: str | None = None
    repository: str | None = None  # origin normalised: finds the pause after the folder moved
    branch: str | None = None
    head: str | None = None
    context_file: str
    paused_at: datetime
    session_id: str | None = None
    wip_commit: str | None = None
    note: str | None = None
    summary: str = ""
    resumed_at: datetime | None = None
    resumed_by: str | None = None
    record_id: str | None = None  # the record of the paused session: a resume continues it
    handoff_item: str | None = (
        None  # the ClaudeSync item made with this pause: resume asks for its answer
    )
    unended: bool = False  # written by the finalization of a session that ended without /end


class MaintenanceRun(Model):
    id: str = Field(default_factory=new_id)
    command: str
    status: str
    results: Any = None
    notes: str | None = None
    run_at: datetime = Field(default_factory=now)


SecurityFinding = dict[str, Any]


class LedgerEntry(Model):
    """An active (or recently closed) session, one file per session under ``ledger/``."""

    session_id: str
    project: str
    project_root: str
    repository_url: str | None = None
    started_at: datetime
    starting_branch: str | None = None
    starting_head: str | None = None
    source: str = "cli"
    status: LedgerStatus = "active"
    start_done: bool = False
    last_activity: datetime | None = None
    transcript_path: str | None = None
    claude_pid: int | None = None
    context_id: str | None = None
    summary: str = ""
    maintenance_runs: list[MaintenanceRun] = Field(default_factory=list)
    security_findings: list[SecurityFinding] = Field(default_factory=list)
    ended_at: datetime | None = None
    paused_at: datetime | None = None
    record_id: str | None = None
    compact_context: str | None = None
    continues: str | None = None  # the record id of the session this one resumed
    record: dict[str, Any] | None = None  # the /end record as delivered (completed later)
    tokens_settled: bool = False  # the record's tokens were completed from the final transcript
    wip_commits: list[str] = Field(default_factory=list)  # made or picked up: end squashes them
    # where this stretch starts in its transcript (its digest reads from there)
    stretch_transcript: str | None = None
    stretch_offset: int | None = None
    # another session resumed this CLI session's pause, which closed this part (core/continued)
    continued_by: str | None = None
    continued_at: datetime | None = None


#: What a ClaudeSync item is for: claude.ai (``handoff``) or another machine (``sync``).


class PendingHandoff(Model):
    """A ClaudeSync item that could not be created yet, kept under ``pending-handoffs/``.

    ``id`` is stored in the item (``creation_id``), so a create that timed out after the vault
    stored it is found, not made twice; ``now`` is the hand-off's own time (title date and
    timestamp), whenever the item is made. ``failed`` (with ``reason``): the vault refused it
    for good; it is kept for the user and never retried."""

    id: str = Field(default_factory=new_id)
    project: str
    branch: str | None = None
    session_id: str | None = None
    machine: str | None = None
    repository: str | None = None
    context: str
    transfer_prompt: str = ""
    kind: ItemKind = "handoff"
    now: datetime = Field(default_factory=now)
    title: str | None = None  # the title it was meant to have (``session-{project}-{date}``)
    state: Literal["pending", "failed"] = "pending"
    reason: str | None = None
    attempts: int = 0


class PendingAnswer(Model):
    """A claude.ai answer ``handoff receive`` could not store yet, under ``pending-answers/``."""

    project: str
    project_root: str
    repository: str | None = None
    item: str | None = None
    #: the delayed hand-off (its request id, the item's ``creation_id``) it answers
    for_request: str | None = None
    answer: str
    received_at: datetime


# --- the session record (seed: claude_sessions) -----------------------------------------------


BigInt = Annotated[int, Field(ge=0, le=2**63 - 1)]  # what a database integer column holds


class SessionRecord(Model):
    """The seed's ``claude_sessions`` row plus its application; ``id`` makes sends idempotent."""

    id: str = Field(default_factory=new_id)
    application_name: str
    repository_url: str | None = None
    claude_session_id: str | None = None
    started_at: datetime
    ended_at: datetime
    duration_minutes: BigInt = 0
    starting_branch: str | None = None
    ending_branch: str | None = None
    commits_count: BigInt = 0
    context_id: str | None = None
    session_source: str = "cli"
    tokens_input: BigInt = 0
    tokens_output: BigInt = 0
    tokens_cache_creation: BigInt = 0
    tokens_cache_read: BigInt = 0
    summary: str = ""
    accomplishments: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    files_changed: list[str] = Field(default_factory=list)
    maintenance_runs: list[MaintenanceRun] = Field(default_factory=list)
    security_findings: list[SecurityFinding] = Field(default_factory=list)
    machine: str | None = None
    end_mode: RecordEnd = "standard"
    continues: str | None = None  # the id of the record this session continues (a resume)
    cost_usd: float | None = Field(default=None, ge=0)  # None: a model without a known price
    models: list[str] = Field(default_factory=list)  # the models of its responses, most used first


# --- flow results (CLI --json == MCP structured output) ---------------------------------------


class FlowResult(Model):
    """What every flow's result carries: the project it worked in, and what the person should
    hear about the call (state files moved aside, steps skipped, secrets removed)."""

    project: str
    project_root: str
    warnings: list[str] = Field(default_factory=list)


class StartResult(FlowResult):
    status: StartStatus
    branch: str | None = None
    session_id: str
    context: str = ""
    paused_branch: str | None = None
    choices: list[str] | None = None
    imported_item: str | None = None
    switched_branch: bool = False
    cleared_pause: bool = False
    already_started: bool = False
    vault: str | None = None


class PauseResult(FlowResult):
    status: Literal["paused"] = "paused"
    branch: str | None = None
    session_id: str
    context_file: str
    wip_commit: str | None = None
    handoff_item: str | None = None
    transfer_prompt: str | None = None
    redacted: dict[str, int] = Field(default_factory=dict)  # secrets removed, by kind


class EndResult(FlowResult):
    status: Literal["ended"] = "ended"
    session_id: str
    mode: EndMode
    record: SessionRecord
    context_file: str | None = None
    commit: str | None = None
    pushed: bool = False
    push_detail: str | None = None
    #: pushed, up_to_date, no_remote, no_upstream, rejected, failed, detached, not_wanted
    push_status: str | None = None
    tracker: TrackerOutcome
    tracker_detail: str | None = None
    handoff_item: str | None = None
    transfer_prompt: str | None = None
    redacted: dict[str, int] = Field(default_factory=dict)  # secrets removed, by kind
    squashed_wip: list[str] = Field(default_factory=list)  # WIP commits the end commit replaced


class ImportResult(FlowResult):
    status: Literal["imported", "nothing_to_import"]
    item: str | None = None
    context_file: str | None = None
    insights: str = ""


class HandoffPromptResult(FlowResult):
    """``handoff prompt``: the transfer prompt of the project's newest context."""

    context_file: str
    prompt: str
    copied_with: str | None = None  # the clipboard tool the CLI used, if any


class HandoffReceiveResult(FlowResult):
    """``handoff receive``: where claude.ai's answer went (an item, or kept on disk)."""

    item: str | None = None
    kept: str | None = None
    vault: str
    next: str


class ReminderSettings(Model):
    enabled: bool = False
    every_minutes: int = 30
    dirty_files: int = 10


class RemindResult(FlowResult):
    settings: ReminderSettings
    scope: Literal["project", "default"] = "project"
    last_reminded: datetime | None = None


class MaintenanceResult(FlowResult):
    session_id: str | None
    run: MaintenanceRun
    redacted: dict[str, int] = Field(default_factory=dict)  # secrets removed, by kind


class DeadLetterInfo(Model):
    """A record the outbox keeps but does not simply retry: refused by the tracker (with its
    answer) or waiting for a valid key."""

    id: str
    state: str
    error: str | None = None
    field: str | None = None
    failures: int = 0
    application: str | None = None
    ended_at: str | None = None


class PendingHandoffInfo(Model):
    """A hand-off waiting for the vault, or refused by it, or a claude.ai answer kept until it
    can be stored (``kind`` answer) (``status``)."""

    title: str
    kind: Literal["handoff", "answer"] = "handoff"
    state: Literal["pending", "failed"]
    reason: str | None = None
    file: str


class StatusResult(FlowResult):
    branch: str | None = None
    active_session: LedgerEntry | None = None
    pause: PauseEntry | None = None
    reminders: ReminderSettings
    outbox_depth: int = 0
    outbox_last_error: str | None = None
    outbox: dict[str, int] = Field(default_factory=dict)
    dead_letters: list[DeadLetterInfo] = Field(default_factory=list)
    vault: str
    tracker: str
    handoff_waiting: bool = False
    pending_handoffs: list[PendingHandoffInfo] = Field(default_factory=list)


class HistoryTotals(Model):
    """What a list of records adds up to (``cost_unknown``: records whose cost is unknown,
    not counted in ``cost_usd``)."""

    sessions: int = 0
    minutes: int = 0
    commits: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    cost_unknown: int = 0


class HistoryResult(Model):
    records: list[SessionRecord]
    tracker: str
    totals: HistoryTotals = Field(default_factory=HistoryTotals)


class SyncResult(Model):
    sent: int = 0
    remaining: int = 0
    auth_failed: int = 0
    rejected: int = 0
    finalized: list[str] = Field(default_factory=list)
    retried_handoffs: int = 0
    last_error: str | None = None
    skipped: str | None = None
    tracker: str
    warnings: list[str] = Field(default_factory=list)
