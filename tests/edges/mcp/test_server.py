"""The MCP tools through the mcp package's own client, in process."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS
from pydantic import ValidationError

from claude_session import __version__
from claude_session.edges.mcp.server import build_server
from helpers.gitrepo import git, make_remote, make_repo
from helpers.mcp_stdio import cli_server, raw_calls

pytestmark = pytest.mark.anyio

TOOLS = {
    "start_session",
    "pause_session",
    "resume_session",
    "end_session",
    "import_handoff",
    "session_status",
    "record_maintenance_run",
    "set_reminder",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "api")
    make_remote(r, tmp_path / "remote.git")
    return r


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def test_tools_are_listed_with_schemas_and_truthful_annotations() -> None:
    async with Client(build_server()) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and tool.output_schema and tool.annotations
    assert tools["session_status"].annotations.read_only_hint is True
    assert tools["end_session"].annotations.destructive_hint is True
    assert tools["start_session"].annotations.read_only_hint is False
    assert tools["start_session"].annotations.idempotent_hint is True
    assert tools["start_session"].annotations.open_world_hint is True  # imports from 1Password
    assert tools["session_status"].annotations.open_world_hint is True  # looks in 1Password
    assert tools["set_reminder"].annotations.open_world_hint is False
    props = tools["pause_session"].input_schema["properties"]
    assert {"summary", "next_steps", "wip_commit", "handoff", "session_id", "cwd"} <= set(props)
    assert "description" in props["summary"]
    assert tools["pause_session"].input_schema["required"] == ["summary"]


async def test_full_session_through_the_tools(repo: Path) -> None:
    async with Client(build_server()) as client:
        started = await call(client, "start_session", cwd=str(repo), session_id="mcp-1")
        assert started["status"] == "ready" and started["session_id"] == "mcp-1"
        (repo / "feature.py").write_text("x = 1\n")
        paused = await call(
            client,
            "pause_session",
            cwd=str(repo),
            session_id="mcp-1",
            summary="Feature half done",
            next_steps=["finish feature"],
        )
        assert Path(paused["context_file"]).exists()
        resumed = await call(client, "resume_session", cwd=str(repo), session_id="mcp-1")
        assert "finish feature" in resumed["context"]
        await call(
            client,
            "record_maintenance_run",
            cwd=str(repo),
            session_id="mcp-1",
            command="deps-audit",
            status="ok",
            results={"outdated": 0},
        )
        ended = await call(
            client,
            "end_session",
            cwd=str(repo),
            session_id="mcp-1",
            summary="Feature done",
            accomplishments=["feature"],
            commit_message="Add feature",
        )
        assert ended["tracker"] == "local" and ended["pushed"] is True
        assert ended["record"]["maintenance_runs"][0]["command"] == "deps-audit"
        status = await call(client, "session_status", cwd=str(repo), session_id="mcp-1")
        assert status["active_session"] is None and status["pause"] is None
    assert git(repo, "log", "-1", "--format=%s") == "Add feature"


async def test_branch_mismatch_is_a_result_with_choices_then_a_second_call(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    async with Client(build_server()) as client:
        await call(client, "pause_session", cwd=str(repo), summary="on feature")
        git(repo, "checkout", "-q", "main")
        first = await call(client, "start_session", cwd=str(repo), session_id="s2")
        assert first["status"] == "branch_mismatch"
        assert first["choices"] == ["switch", "stay", "cancel"]
        second = await call(
            client, "start_session", cwd=str(repo), session_id="s2", on_mismatch="switch"
        )
        assert second["status"] == "ready" and second["branch"] == "feature"


async def test_refusal_is_a_tool_error_with_the_message(repo: Path) -> None:
    async with Client(build_server()) as client:  # end with nothing started is refused
        result = await client.call_tool("end_session", {"cwd": str(repo), "summary": "x"})
    assert result.is_error
    text = result.content[0].text
    assert f"No session is open in {repo}" in text and "claude-session start" in text


async def test_bad_arguments_are_rejected_by_the_schema(repo: Path) -> None:
    async with Client(build_server()) as client:
        result = await client.call_tool("start_session", {"cwd": str(repo), "on_mismatch": "maybe"})
        assert result.is_error
        result = await client.call_tool(
            "set_reminder", {"action": "on", "every_minutes": 0, "cwd": str(repo)}
        )
        assert result.is_error


async def test_unexpanded_session_id_placeholder_is_ignored(repo: Path) -> None:
    async with Client(build_server()) as client:
        started = await call(
            client, "start_session", cwd=str(repo), session_id="${CLAUDE_SESSION_ID}"
        )
    assert "CLAUDE_SESSION_ID" not in started["session_id"]


async def test_set_reminder_round_trip(repo: Path) -> None:
    async with Client(build_server()) as client:
        on = await call(client, "set_reminder", action="on", every_minutes=20, cwd=str(repo))
        assert on["settings"]["enabled"] is True and on["settings"]["every_minutes"] == 20
        status = await call(client, "set_reminder", cwd=str(repo))
        assert status["settings"]["every_minutes"] == 20


async def test_context_files_are_readable_as_resources(repo: Path) -> None:
    async with Client(build_server()) as client:
        paused = await call(client, "pause_session", cwd=str(repo), summary="resource check")
        name = Path(paused["context_file"]).name
        listing = await client.read_resource("session://contexts")
        entries = json.loads(listing.contents[0].text)
        assert entries[0]["name"] == name
        body = await client.read_resource(f"session://contexts/{name}")
        assert "resource check" in body.contents[0].text


async def test_import_without_answer_says_nothing_to_import(repo: Path) -> None:
    async with Client(build_server()) as client:
        result = await call(client, "import_handoff", cwd=str(repo))
    assert result["status"] == "nothing_to_import"


# --- the interface as clients expect it (issue 23 item 6), over stdio -----------------------


async def test_a_missing_context_file_is_a_not_found_error_with_our_message(repo: Path) -> None:
    """B2: -32602 (the SDK's ResourceNotFoundError) saying what to do, not -32603."""
    async with Client(cli_server(repo)) as client:
        with pytest.raises(MCPError) as raised:
            await client.read_resource("session://contexts/nope.md")
    assert raised.value.code == INVALID_PARAMS
    assert raised.value.message == "No context file named nope.md. session://contexts lists them."


async def test_an_unknown_prompt_is_an_invalid_params_error(repo: Path) -> None:
    """B3: the SDK answered with error code 0."""
    async with Client(cli_server(repo)) as client:
        assert (await client.list_prompts()).prompts == []
        with pytest.raises(MCPError) as raised:
            await client.get_prompt("nope")
    assert raised.value.code == INVALID_PARAMS and "Unknown prompt" in raised.value.message


async def test_server_info_carries_the_package_version(repo: Path) -> None:
    """B5: serverInfo.version was empty."""
    async with Client(cli_server(repo)) as client:
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == ("session", __version__)


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "objects" not in p.parts
    }


async def test_session_status_writes_nothing(repo: Path) -> None:
    """B8: readOnlyHint is true, so no file of the home or the project changes (it wrote
    handoff-cache.json and its lock)."""
    home = Path(os.environ["HOME"])
    log = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "claude-session" / "logs" / "claude-session.log"
    async with Client(cli_server(repo)) as client:
        await call(client, "start_session", cwd=str(repo), session_id="ro-1")
        await call(client, "pause_session", cwd=str(repo), session_id="ro-1", summary="half")
        for _ in range(100):  # the startup sync, a background writer, is over
            if "startup sync:" in log.read_text():
                break
            await anyio.sleep(0.1)
        before = _files(home), _files(repo)
        for _ in range(2):
            status = await call(client, "session_status", cwd=str(repo), session_id="ro-1")
            assert status["pause"] is not None
        after = _files(home), _files(repo)
    assert _state(after[0]) == _state(before[0]) and after[1] == before[1]


async def test_session_status_on_a_fresh_home_creates_nothing(repo: Path) -> None:
    """B8 on a first run: status does not create the outbox (or anything else) to say it is
    empty. In process: the stdio server's startup sync would make the outbox meanwhile."""
    home = Path(os.environ["HOME"])
    before = _files(home), _files(repo)
    async with Client(build_server()) as client:
        status = await call(client, "session_status", cwd=str(repo))
    assert status["outbox_depth"] == 0 and status["active_session"] is None
    assert (_files(home), _files(repo)) == before


def _state(files: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    return {name: seen for name, seen in files.items() if not name.endswith(".log")}


def test_migration_messages_stay_out_of_stderr(repo: Path) -> None:
    """B9: the local tracker's first use migrates its database; alembic's lines go to our log
    file, not to the stderr Claude Code keeps in its MCP log."""
    requests = [
        ("start_session", {"cwd": str(repo), "session_id": "mig-1"}),
        ("end_session", {"cwd": str(repo), "session_id": "mig-1", "summary": "done"}),
    ]
    answers, stderr = raw_calls(repo, requests)
    assert [a["result"]["structuredContent"]["status"] for a in answers] == ["ready", "ended"]
    assert answers[1]["result"]["structuredContent"]["tracker"] == "local"
    assert "alembic" not in stderr and "Running upgrade" not in stderr, stderr
    log = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "claude-session" / "logs" / "claude-session.log"
    assert "alembic.runtime.migration: Running upgrade  -> 0001" in log.read_text()


def test_the_advertised_input_schemas_are_those_of_the_strict_argument_models() -> None:
    """What the client is told is what the server checks (build_server sets the schema
    without generating it again): the argument model's schema, no argument beyond it, and
    each value of its JSON type (strict: no ``"yes"`` for a boolean)."""
    for tool in build_server()._tool_manager.list_tools():
        model = tool.fn_metadata.arg_model
        schema = model.model_json_schema(by_alias=True)
        assert {**schema, "additionalProperties": False} == tool.parameters, tool.name
        with pytest.raises(ValidationError) as refused:
            tool.fn_metadata.validate_arguments({"not_an_argument": 1})
        assert "extra_forbidden" in {e["type"] for e in refused.value.errors()}, tool.name
    start = build_server()._tool_manager.get_tool("start_session")
    with pytest.raises(ValidationError, match="bool_type"):
        start.fn_metadata.validate_arguments({"no_import": "yes"})
