"""The MCP stdio server ``session``: each tool is a thin call into ``core.facade.Core``.

Nothing but protocol on stdout; logs go to stderr and the log file. Refusals become tool errors
(``ToolError``) carrying the same message as the CLI, because the SDK hides the text of any
other exception from the model.

Start-up is kept to what ``initialize`` and ``tools/list`` need (the SDK and the result models,
whose schemas are the tools' output schemas): ``Core`` (git, the backends) is made on the first
tool call, and the delivery of spooled records waits until the client has listed the tools.
Claude Code sends every tool definition with every request, so the input schemas are sent
compact (``compact_schema``) and what several tools share is said once, in ``INSTRUCTIONS``.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, TypeVar

from pydantic import BaseModel, Field

from claude_session import __version__
from claude_session.base import quoting
from claude_session.edges.mcp import bounds, inputs
from claude_session.edges.mcp import stdio as mcp_stdio
from claude_session.edges.mcp.inputs import (
    CommitMessage,
    Cwd,
    Done,
    Name,
    Note,
    Results,
    SessionId,
    Steps,
    Summary,
)
from claude_session.edges.mcp.quoted import QUOTED, as_data
from claude_session.errors import ClaudeSessionError, SecretInCommit
from claude_session.models import (
    EndResult,
    ImportResult,
    MaintenanceResult,
    PauseResult,
    RemindResult,
    StartResult,
    StatusResult,
)
from claude_session.vocab import EndMode, MismatchChoice, RemindAction

if TYPE_CHECKING:  # git, the vault and the tracker: imported on the first tool call
    from claude_session.config import Settings
    from claude_session.core.facade import Core

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

INSTRUCTIONS = (
    "Session continuity for this project: start_session to begin work, pause_session for a "
    "break, resume_session to pick up, end_session when the work is done. You write the "
    "summary, next steps and accomplishments (and, to end, the commit message) from the "
    "conversation. Pass session_id as the command text gives it; cwd defaults to the project. "
    "On status branch_mismatch, ask the user: switch (check out the paused branch), stay (keep "
    "this branch, clear the pause) or cancel; then call again with on_mismatch set."
)

Mismatch = Annotated[
    MismatchChoice | None, Field(description="The user's choice after branch_mismatch.")
]


def _clean_session_id(value: str | None) -> str | None:
    """Drop an unexpanded placeholder (older clients leave ``${CLAUDE_SESSION_ID}`` as is)."""
    if not value or inputs.PLACEHOLDER in value or not value.strip():
        return None
    return value.strip()


class LazyCore:
    """The server's ``Core``, made on first use (under a lock: tool calls run in parallel
    worker threads)."""

    def __init__(self, core: Core | None = None, settings: Settings | None = None) -> None:
        self._core = core
        self._settings = settings
        self._lock = threading.Lock()

    def get(self) -> Core:
        if self._core is None:
            with self._lock:
                if self._core is None:
                    from claude_session.core.facade import Core

                    self._core = Core(self._settings)
        return self._core

    def settings(self) -> Settings:
        if self._core is not None:
            return self._core.settings
        if self._settings is None:
            from claude_session.config import Settings

            self._settings = Settings.from_env()
        return self._settings

    def close(self) -> None:
        if self._core is not None:
            self._core.close()


class Hints(NamedTuple):
    """A tool's annotations for the client (MCP ``ToolAnnotations``)."""

    title: str
    read_only: bool = False
    destructive: bool = False
    idempotent: bool = False
    open_world: bool = False


#: every tool: its name (a method of ``SessionTools``, which calls the ``Core`` method of the
#: same flow and returns its result model) and its annotations. ``open_world``: the call may
#: reach 1Password (start imports claude.ai's answer, pause may make a hand-off item, status
#: looks for an answer) or the tracker (end).
TOOLS: dict[str, Hints] = {
    "start_session": Hints("Start session", idempotent=True, open_world=True),
    "pause_session": Hints("Pause session", open_world=True),
    "resume_session": Hints("Resume session", idempotent=True),
    "end_session": Hints("End session", destructive=True, open_world=True),
    "import_handoff": Hints("Import claude.ai answer", idempotent=True, open_world=True),
    "session_status": Hints("Session status", read_only=True, idempotent=True, open_world=True),
    "record_maintenance_run": Hints("Record maintenance run"),
    "set_reminder": Hints("Set reminder", idempotent=True),
}


class SessionTools:
    """The tools' bodies: ``cwd`` defaults to the project Claude Code runs in, the session id
    placeholder is dropped, and a refusal becomes a tool error with the CLI's message."""

    def __init__(self, core: LazyCore) -> None:
        self._core = core
        #: set once a tool call has been answered, its result converted for the client
        #: (``SessionServer.call_tool``; the startup sync waits for the first)
        self.answered = threading.Event()

    def _project(self, cwd: str | None) -> str:
        return cwd or self._core.settings().project_dir or os.getcwd()

    def _call(self, fn: Callable[..., M], *args: Any, **kwargs: Any) -> M:
        """Run a flow; a refusal becomes a tool error, a result too big is cut."""
        from mcp.server.mcpserver.exceptions import ToolError

        try:
            # cut to the budget first, then quoted: a block is never cut open
            quoted: M = as_data(self._bounded(fn(*args, **kwargs)))
            return quoted
        except SecretInCommit as exc:
            tool = "pause_session" if "WIP" in exc.what else "end_session"
            raise ToolError(inputs.secret_refused(tool, exc.what, list(exc.kinds))) from exc
        except ClaudeSessionError as exc:
            raise ToolError(quoting.visible(str(exc))) from exc

    def _bounded(self, result: M) -> M:
        """The result within ``bounds.BUDGET``, naming the session's ledger file (and the
        tracker record of an ended session) as where the whole is kept."""
        session = getattr(result, "session_id", None)
        active = getattr(result, "active_session", None)
        session = session or (active.session_id if active is not None else None)
        paths = self._core.get().paths
        where = str(paths.ledger_entry(session)) if session else str(paths.ledger)
        record = getattr(result, "record", None)
        if record is not None:
            where = f"the tracker's record {record.id} (`claude-session history`) and {where}"
        return bounds.bound(result, where)

    def start_session(
        self,
        cwd: Cwd = None,
        session_id: SessionId = None,
        on_mismatch: Mismatch = None,
        no_import: bool = False,
    ) -> StartResult:
        """Start or rejoin the session; returns the context (imports claude.ai's answer)."""
        return self._call(
            self._core.get().start,
            self._project(cwd),
            session_id=_clean_session_id(session_id),
            on_mismatch=on_mismatch,
            no_import=no_import,
            source="claude-code",
        )

    def pause_session(
        self,
        summary: Summary,
        next_steps: Steps = None,
        accomplishments: Done = None,
        note: Note = None,
        wip_commit: Annotated[
            bool, Field(description="Also commit the work as a WIP commit.")
        ] = False,
        handoff: Annotated[
            bool, Field(description="Also make the ClaudeSync item for claude.ai.")
        ] = False,
        cwd: Cwd = None,
        session_id: SessionId = None,
    ) -> PauseResult:
        """Save the work in flight: context file, pause entry."""
        return self._call(
            self._core.get().pause,
            self._project(cwd),
            session_id=_clean_session_id(session_id),
            summary=summary,
            next_steps=next_steps,
            accomplishments=accomplishments,
            note=note,
            wip_commit=wip_commit,
            handoff=handoff,
        )

    def resume_session(
        self, cwd: Cwd = None, session_id: SessionId = None, on_mismatch: Mismatch = None
    ) -> StartResult:
        """Pick up the paused session; returns its saved context."""
        return self._call(
            self._core.get().resume,
            self._project(cwd),
            session_id=_clean_session_id(session_id),
            on_mismatch=on_mismatch,
        )

    def end_session(
        self,
        summary: Summary,
        accomplishments: Done = None,
        next_steps: Steps = None,
        commit_message: CommitMessage = None,
        push: bool = True,
        mode: Annotated[
            EndMode, Field(description="handoff: continue on claude.ai; sync: on another machine.")
        ] = "standard",
        keep_wip: Annotated[
            bool,
            Field(description="Keep unpushed WIP commits as made (default: squashed into this)."),
        ] = False,
        cwd: Cwd = None,
        session_id: SessionId = None,
    ) -> EndResult:
        """End the session: commit, push, record it in the tracker."""
        return self._call(
            self._core.get().end,
            self._project(cwd),
            session_id=_clean_session_id(session_id),
            summary=summary,
            accomplishments=accomplishments,
            next_steps=next_steps,
            message=commit_message,
            push=push,
            mode=mode,
            keep_wip=keep_wip,
        )

    def import_handoff(
        self,
        item: Annotated[
            Name | None, Field(description="Item id or title; default: newest answered.")
        ] = None,
        cwd: Cwd = None,
        session_id: SessionId = None,
    ) -> ImportResult:
        """Merge claude.ai's answer from a ClaudeSync item into the context."""
        return self._call(
            self._core.get().import_handoff,
            self._project(cwd),
            item=item,
            session_id=_clean_session_id(session_id),
        )

    def session_status(self, cwd: Cwd = None, session_id: SessionId = None) -> StatusResult:
        """Active session, pause, reminders, outbox, vault, tracker."""
        return self._call(
            self._core.get().status,
            self._project(cwd),
            session_id=_clean_session_id(session_id),
        )

    def record_maintenance_run(
        self,
        command: Annotated[Name, Field(description="e.g. security-scan, deps-update")],
        status: Annotated[Name, Field(description="ok, failed, warnings, ...")],
        results: Annotated[Results, Field(description="JSON; scans: {findings: [...]}")] = None,
        notes: Note = None,
        cwd: Cwd = None,
        session_id: SessionId = None,
    ) -> MaintenanceResult:
        """Record an audit, dependency update or security scan in this session."""
        return self._call(
            self._core.get().record_maintenance,
            self._project(cwd),
            command=command,
            status=status,
            results=results,
            notes=notes,
            session_id=_clean_session_id(session_id),
        )

    def set_reminder(
        self,
        action: RemindAction = "status",
        every_minutes: Annotated[
            int | None, Field(ge=1, description="Minutes without a pause or commit.")
        ] = None,
        dirty_files: Annotated[int | None, Field(ge=1, description="Uncommitted files.")] = None,
        all_projects: bool = False,
        cwd: Cwd = None,
    ) -> RemindResult:
        """Turn pause/commit reminders on or off, or show them."""
        return self._call(
            self._core.get().remind,
            self._project(cwd),
            action=action,
            every=every_minutes,
            dirty_files=dirty_files,
            global_default=all_projects,
        )

    # --- resources: the saved context files -----------------------------------------------

    def list_contexts(self) -> list[dict[str, Any]]:
        return [
            {"name": p.name, "uri": f"session://contexts/{p.name}", "size": p.stat().st_size}
            for p in self._core.get().contexts()
        ]

    def read_context(self, name: str) -> str:
        """One context file; a name that is none is the client's ``-32602``, with our words."""
        from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

        try:
            return quoting.block(self._core.get().context(name), QUOTED["context"])
        except ClaudeSessionError as exc:
            raise ResourceNotFoundError(f"{exc} session://contexts lists them.") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ResourceError(f"The context file {name} cannot be read: {exc}") from exc


def build_server(
    core: Core | None = None,
    *,
    on_tools_listed: Callable[[], None] | None = None,
    settings: Settings | None = None,
) -> Any:
    """The server; without ``core``, one is made (from ``settings``) on the first tool call.
    ``on_tools_listed`` runs once, after the first ``tools/list`` is answered."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.shared.exceptions import MCPError
    from mcp.types import INVALID_PARAMS, Tool, ToolAnnotations
    from pydantic import ValidationError

    class SessionServer(MCPServer):
        session_core: LazyCore
        session_tools: SessionTools

        async def list_tools(self) -> list[Tool]:
            tools = [
                t.model_copy(update={"input_schema": inputs.compact_schema(t.input_schema)})
                for t in await super().list_tools()
            ]
            if on_tools_listed is not None:
                on_tools_listed()
            return tools

        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            """Refused arguments are explained in words (``inputs.explain``)."""
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as exc:
                if isinstance(exc.__cause__, ValidationError):
                    raise ToolError(inputs.explain(name, exc.__cause__)) from exc.__cause__
                raise
            finally:  # the result is converted: the startup sync no longer competes with it
                self.session_tools.answered.set()

        async def get_prompt(
            self, name: str, arguments: dict[str, Any] | None = None, context: Any = None
        ) -> Any:
            """The server has no prompts: an unknown name is the client's mistake (-32602),
            where the SDK would answer with error code 0."""
            if self._prompt_manager.get_prompt(name) is None:
                raise MCPError(INVALID_PARAMS, f"Unknown prompt: {name[:200]!r}.")
            return await super().get_prompt(name, arguments, context)

    server = SessionServer("session", version=__version__, instructions=INSTRUCTIONS)
    server.session_core = lazy = LazyCore(core, settings)
    server.session_tools = tools = SessionTools(lazy)
    for name, hints in TOOLS.items():
        server.add_tool(
            getattr(tools, name),
            annotations=ToolAnnotations(
                title=hints.title,
                read_only_hint=hints.read_only,
                destructive_hint=hints.destructive,
                idempotent_hint=hints.idempotent,
                open_world_hint=hints.open_world,
            ),
        )
        _make_strict(server._tool_manager.get_tool(name))
    server.resource(
        "session://contexts",
        name="contexts",
        mime_type="application/json",
        description="Saved session context files, newest first.",
    )(tools.list_contexts)
    server.resource(
        "session://contexts/{name}",
        mime_type="text/markdown",
        description="One saved session context file.",
    )(tools.read_context)
    return server


def _make_strict(tool: Any) -> None:
    """Validate ``tool``'s arguments in strict mode (``inputs.strict_metadata``) and advertise
    the schema of that model (the same, plus ``additionalProperties: false``)."""
    tool.fn_metadata = inputs.strict_metadata(tool.fn_metadata)
    # what strict mode adds to the schema, without generating it again (start-up time)
    tool.parameters = {**tool.parameters, "additionalProperties": False}


#: seconds to wait for the first tools/list before the startup sync runs anyway
SYNC_AT_LATEST = 20.0
#: seconds to wait after tools/list for a first tool call to be answered: a session's first
#: command (``/session:start``) comes at once, and the sync would only compete with it for the
#: CPU (paired runs of bench_claude_code.py: spawn to a first tool call answered)
FIRST_CALL_GRACE = 5.0


def _startup_sync(core: LazyCore, listed: threading.Event, answered: threading.Event) -> None:
    """Send what the hooks spooled (sessions that ended without /end) once the client has what
    it needs from us: after ``tools/list`` is answered and the first tool call (or a few
    seconds without one)."""
    listed_in_time = listed.wait(SYNC_AT_LATEST)
    answered.wait(FIRST_CALL_GRACE)
    # logged from here: a log line imports the redaction rules, which initialize does not need
    log.info(
        "MCP server starting (pid %d): %s",
        os.getpid(),
        "tools listed" if listed_in_time else f"no tools/list within {SYNC_AT_LATEST:.0f} s",
    )
    try:
        report = core.get().startup_sync()
        log.info("startup sync: %d sent, %d waiting", report.sent, report.remaining)
    except Exception:  # noqa: BLE001 - a background nicety must never take the server down
        log.exception("startup sync failed")


def _migrations_to_log_file() -> None:
    """Alembic's lines (the local tracker's database is made or migrated on first use) go to
    our log file only: the SDK gives the root logger a stderr handler, and Claude Code keeps
    the server's stderr in its MCP log, where they read like a problem."""
    alembic = logging.getLogger("alembic")
    alembic.propagate = False
    ours: list[logging.Handler] = [
        h
        for h in logging.getLogger("claude_session").handlers
        if isinstance(h, logging.FileHandler)
    ]
    for handler in ours or [logging.NullHandler()]:
        alembic.addHandler(handler)


def serve(settings: Settings, front: Any = None) -> None:
    """Serve over stdio: behind ``front`` when given (``front.serve`` makes it)."""
    listed = threading.Event()
    server = build_server(settings=settings, on_tools_listed=listed.set)
    _migrations_to_log_file()
    # the collector back on (``front.serve`` turned it off: scanning the ~90,000 objects the SDK
    # and the tools make, again and again, was a tenth of the time to a first tool result,
    # issue 23), with them kept out of its scans: they live as long as the server
    gc.freeze()
    gc.enable()
    worker = threading.Thread(
        target=_startup_sync,
        args=(server.session_core, listed, server.session_tools.answered),
        name="startup-sync",
        daemon=True,
    )
    worker.start()
    try:
        mcp_stdio.run(server, front)  # the SDK's transport with a reader that drops nothing
    finally:
        server.session_core.close()
