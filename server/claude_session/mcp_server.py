"""The MCP stdio server ``session``: each tool is a thin call into ``lifecycle.Core``.

Nothing but protocol on stdout; logs go to stderr and the log file. Refusals become tool errors
(``ToolError``) carrying the same message as the CLI, because the SDK hides the text of any
other exception from the model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field

from claude_session import mcp_stdio
from claude_session.errors import ClaudeSessionError
from claude_session.lifecycle import Core
from claude_session.logs import setup_logging
from claude_session.models import (
    EndResult,
    ImportResult,
    MaintenanceResult,
    PauseResult,
    RemindResult,
    StartResult,
    StatusResult,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

INSTRUCTIONS = (
    "Session continuity for this project. start_session at the beginning of work, "
    "pause_session for a break (you write the summary and next steps), resume_session to pick "
    "up, end_session when the day's work is done (you write the summary, accomplishments, "
    "next steps and commit message). On status 'branch_mismatch' ask the user which of the "
    "choices to take and call again with on_mismatch set."
)

AllowSecret = Annotated[bool, Field(
    description="Commit even if the message looks like it holds a secret (refused otherwise).")]
Cwd = Annotated[str | None, Field(description="Absolute path of the project folder; default: "
                                              "the folder Claude Code was started in.")]
SessionId = Annotated[str | None, Field(description="Claude Code session id, as given in the "
                                                    "command text; omit if unknown.")]
Mismatch = Annotated[Literal["switch", "stay", "cancel"] | None, Field(
    description="Only after the user chose, when a previous call returned branch_mismatch: "
                "switch = check out the paused branch, stay = keep this branch and clear the "
                "pause, cancel = do nothing.")]
Summary = Annotated[str, Field(description="Where the work stands, in a few sentences.")]
Steps = Annotated[list[str] | None, Field(description="Concrete next steps, one per item.")]
Done = Annotated[list[str] | None, Field(description="What was accomplished, one per item.")]


def _clean_session_id(value: str | None) -> str | None:
    """Drop an unexpanded placeholder (older clients leave ``${CLAUDE_SESSION_ID}`` as is)."""
    if not value or "CLAUDE_SESSION_ID" in value or not value.strip():
        return None
    return value.strip()


def build_server(core: Core | None = None) -> Any:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations

    core = core or Core()
    server = MCPServer("session", instructions=INSTRUCTIONS)

    def project(cwd: str | None) -> str:
        return cwd or core.settings.project_dir or os.getcwd()

    def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except ClaudeSessionError as exc:
            raise ToolError(str(exc)) from exc

    @server.tool(annotations=ToolAnnotations(title="Start session", read_only_hint=False,
                                             destructive_hint=False, idempotent_hint=True,
                                             open_world_hint=False))
    def start_session(cwd: Cwd = None, session_id: SessionId = None,
                      on_mismatch: Mismatch = None, no_import: bool = False) -> StartResult:
        """Start (or rejoin) the work session: checks the paused branch, imports a waiting
        claude.ai answer and returns the context to work from."""
        return call(core.start, project(cwd), session_id=_clean_session_id(session_id),
                    on_mismatch=on_mismatch, no_import=no_import, source="claude-code")

    @server.tool(annotations=ToolAnnotations(title="Pause session", read_only_hint=False,
                                             destructive_hint=False, idempotent_hint=False,
                                             open_world_hint=False))
    def pause_session(summary: Summary, next_steps: Steps = None, accomplishments: Done = None,
                      note: str | None = None, wip_commit: Annotated[bool, Field(
                          description="Also commit the uncommitted work as a WIP commit.")] = False,
                      handoff: Annotated[bool, Field(
                          description="Also create the ClaudeSync item for claude.ai.")] = False,
                      allow_secret: AllowSecret = False,
                      cwd: Cwd = None, session_id: SessionId = None) -> PauseResult:
        """Save the work in flight (context file, pause entry, optional WIP commit)."""
        return call(core.pause, project(cwd), session_id=_clean_session_id(session_id),
                    summary=summary, next_steps=next_steps, accomplishments=accomplishments,
                    note=note, wip_commit=wip_commit, handoff=handoff, allow_secret=allow_secret)

    @server.tool(annotations=ToolAnnotations(title="Resume session", read_only_hint=False,
                                             destructive_hint=False, idempotent_hint=True,
                                             open_world_hint=False))
    def resume_session(cwd: Cwd = None, session_id: SessionId = None,
                       on_mismatch: Mismatch = None) -> StartResult:
        """Pick up this project's paused session and return its saved context."""
        return call(core.resume, project(cwd), session_id=_clean_session_id(session_id),
                    on_mismatch=on_mismatch)

    @server.tool(annotations=ToolAnnotations(title="End session", read_only_hint=False,
                                             destructive_hint=True, idempotent_hint=False,
                                             open_world_hint=True))
    def end_session(summary: Summary, accomplishments: Done = None, next_steps: Steps = None,
                    commit_message: Annotated[str | None, Field(
                        description="Commit message for the uncommitted work.")] = None,
                    push: bool = True,
                    mode: Annotated[Literal["standard", "handoff", "sync"], Field(
                        description="standard: same machine later; handoff: continue on "
                                    "claude.ai; sync: continue on another machine.")] = "standard",
                    allow_secret: AllowSecret = False,
                    cwd: Cwd = None, session_id: SessionId = None) -> EndResult:
        """End the session: commit, push, record it in the tracker (and hand off or sync)."""
        sid = _clean_session_id(session_id)
        return call(core.end, project(cwd), session_id=sid, summary=summary,
                    accomplishments=accomplishments, next_steps=next_steps,
                    message=commit_message, push=push, mode=mode, allow_secret=allow_secret)

    @server.tool(annotations=ToolAnnotations(title="Import claude.ai answer", read_only_hint=False,
                                             destructive_hint=False, idempotent_hint=True,
                                             open_world_hint=True))
    def import_handoff(item: Annotated[str | None, Field(
                           description="Item id or title; default: newest with an answer.")] = None,
                       cwd: Cwd = None, session_id: SessionId = None) -> ImportResult:
        """Merge claude.ai's answer from a ClaudeSync item into this project's context."""
        return call(core.import_handoff, project(cwd), item=item,
                    session_id=_clean_session_id(session_id))

    @server.tool(annotations=ToolAnnotations(title="Session status", read_only_hint=True,
                                             destructive_hint=False, idempotent_hint=True,
                                             open_world_hint=False))
    def session_status(cwd: Cwd = None, session_id: SessionId = None) -> StatusResult:
        """Active session, pause entry, reminders, outbox, vault and tracker in use."""
        return call(core.status, project(cwd), session_id=_clean_session_id(session_id))

    @server.tool(annotations=ToolAnnotations(title="Record maintenance run", read_only_hint=False,
                                             destructive_hint=False, idempotent_hint=False,
                                             open_world_hint=False))
    def record_maintenance_run(command: Annotated[str, Field(
                                   description="Name of the maintenance command, e.g. "
                                               "'security-scan', 'deps-update'.")],
                               status: Annotated[str, Field(
                                   description="ok, failed, warnings, ...")],
                               results: Annotated[Any, Field(
                                   description="Results as JSON (for scans: {'findings': "
                                               "[...]}).")] = None,
                               notes: str | None = None, cwd: Cwd = None,
                               session_id: SessionId = None) -> MaintenanceResult:
        """Record an audit, dependency update or security scan in this session."""
        return call(core.record_maintenance, project(cwd), command=command, status=status,
                    results=results, notes=notes, session_id=_clean_session_id(session_id))

    @server.tool(annotations=ToolAnnotations(title="Set reminder", read_only_hint=False,
                                             destructive_hint=False, idempotent_hint=True,
                                             open_world_hint=False))
    def set_reminder(action: Literal["on", "off", "status"] = "status",
                     every_minutes: Annotated[int | None, Field(
                         ge=1, description="Remind after this many minutes without a pause "
                                           "or commit.")] = None,
                     dirty_files: Annotated[int | None, Field(
                         ge=1, description="Remind when this many files are uncommitted.")] = None,
                     all_projects: bool = False, cwd: Cwd = None) -> RemindResult:
        """Turn automatic pause/commit reminders on or off, or show them."""
        return call(core.remind, project(cwd), action=action, every=every_minutes,
                    dirty_files=dirty_files, global_default=all_projects)

    @server.resource("session://contexts", name="contexts", mime_type="application/json",
                     description="Saved session context files, newest first.")
    def list_contexts() -> list[dict[str, Any]]:
        folder = core.paths.contexts
        files = sorted(folder.glob("*.md"), key=lambda p: p.stat().st_mtime, reverse=True) \
            if folder.is_dir() else []
        return [{"name": p.name, "uri": f"session://contexts/{p.name}",
                 "size": p.stat().st_size} for p in files[:200]]

    @server.resource("session://contexts/{name}", mime_type="text/markdown",
                     description="One saved session context file.")
    def read_context(name: str) -> str:
        path = core.paths.contexts / Path(name).name
        if not path.is_file() or path.suffix != ".md":
            raise ValueError(f"No context file named {name}.")
        return path.read_text("utf-8")

    return server


def _deliver_waiting_records() -> None:
    """Send what the hooks spooled (sessions that ended without /end) once the server is up."""
    try:
        with Core() as core:
            report = core.sync(force=False)
        log.info("startup sync: %d sent, %d waiting", report.sent, report.remaining)
    except Exception:  # noqa: BLE001 - a background nicety must never take the server down
        log.exception("startup sync failed")


def main() -> None:
    import threading

    core = Core()
    setup_logging(core.paths, core.settings.log_level, stderr=True)
    log.info("MCP server starting (pid %d)", os.getpid())
    timer = threading.Timer(2.0, _deliver_waiting_records)
    timer.daemon = True
    timer.start()
    try:
        mcp_stdio.run(build_server(core))  # the SDK's transport with a reader that drops nothing
    finally:
        core.close()
