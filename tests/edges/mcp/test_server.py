"""The MCP tools through the mcp package's own client, in process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from claude_session.edges.mcp.server import build_server
from helpers.gitrepo import git, make_remote, make_repo

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
