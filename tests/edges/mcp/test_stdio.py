"""The MCP server as Claude Code runs it: a subprocess speaking JSON-RPC over stdio.

Spawned as `python -m claude_session.edges.cli mcp` (what `claude-session mcp` runs) and through the
plugin's `server/launch_mcp.py`, and driven by the mcp package's own client. A raw test reads
the server's stdout line by line, because the client only logs a stray line and carries on:
without it, a `print` in the server would go unnoticed here and break Claude Code.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.types import ReadResourceResult, TextContent, TextResourceContents

from helpers.gitrepo import git, make_remote, make_repo
from helpers.mcp_stdio import ROOT, SERVER_DIR, call, cli_server, raw_calls, server_env
from helpers.quoted import unquoted

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
READ_ONLY = {"session_status"}
DESTRUCTIVE = {"end_session"}
#: tools that may reach 1Password (claude.ai's answer, hand-off items) or the tracker
OPEN_WORLD = {"start_session", "pause_session", "end_session", "import_handoff", "session_status"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "stdio-proj")
    make_remote(r, tmp_path / "remote.git")
    return r


def resource_text(result: ReadResourceResult) -> str:
    [content] = result.contents
    assert isinstance(content, TextResourceContents), content
    return content.text


async def test_stdio_server_offers_all_tools_with_truthful_annotations_and_output_schemas(
    repo: Path,
) -> None:
    async with Client(cli_server(repo)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for name, tool in tools.items():
        assert tool.description, name
        assert tool.output_schema and tool.output_schema.get("properties"), name
        assert tool.annotations is not None, name
        assert tool.annotations.read_only_hint is (name in READ_ONLY), name
        assert tool.annotations.destructive_hint is (name in DESTRUCTIVE), name
        assert tool.annotations.open_world_hint is (name in OPEN_WORLD), name
    start, pause, end = tools["start_session"], tools["pause_session"], tools["end_session"]
    assert start.annotations and start.annotations.idempotent_hint is True
    assert pause.annotations and pause.annotations.idempotent_hint is False
    assert start.output_schema and "status" in start.output_schema["properties"]
    assert end.output_schema and "record" in end.output_schema["properties"]


async def test_stdio_status_start_pause_and_the_contexts_resource(repo: Path) -> None:
    async with Client(cli_server(repo)) as client:
        status = await call(client, "session_status", cwd=str(repo))
        assert status["project"] == "stdio-proj" and status["branch"] == "main"
        assert status["active_session"] is None and status["pause"] is None

        started = await call(client, "start_session", cwd=str(repo), session_id="stdio-1")
        assert (started["status"], started["session_id"]) == ("ready", "stdio-1")
        paused = await call(
            client,
            "pause_session",
            cwd=str(repo),
            session_id="stdio-1",
            summary="Halfway through the stdio test.",
            next_steps=["Finish"],
        )
        context_file = Path(paused["context_file"])

        listing = await client.read_resource("session://contexts")
        entries = json.loads(resource_text(listing))
        assert entries[0]["name"] == context_file.name
        assert entries[0]["uri"] == f"session://contexts/{context_file.name}"
        one = await client.read_resource(entries[0]["uri"])
        assert unquoted(resource_text(one)) == context_file.read_text()
        assert "Halfway through the stdio test." in resource_text(one)

        status = await call(client, "session_status", cwd=str(repo), session_id="stdio-1")
        assert status["pause"]["context_file"] == str(context_file)
    assert context_file.parent == Path(os.environ["CLAUDE_CONFIG_DIR"]) / "contexts"


async def test_session_id_falls_back_to_claude_code_env_when_the_placeholder_is_unexpanded(
    repo: Path,
) -> None:
    """Older clients pass `${CLAUDE_SESSION_ID}` literally: the server uses
    CLAUDE_CODE_SESSION_ID (set by Claude Code for the server process) instead."""
    server = cli_server(repo, CLAUDE_CODE_SESSION_ID="env-session-7", CLAUDE_PROJECT_DIR=str(repo))
    async with Client(server) as client:
        started = await call(client, "start_session", session_id="${CLAUDE_SESSION_ID}")
    assert started["session_id"] == "env-session-7"
    assert started["project_root"] == str(repo)  # no cwd argument: CLAUDE_PROJECT_DIR


async def test_refusal_reaches_the_client_as_a_tool_error_saying_what_to_do(repo: Path) -> None:
    """A ClaudeSessionError becomes a tool error whose text the model can act on (the SDK
    would hide the text of any other exception)."""
    async with Client(cli_server(repo)) as client:  # end with nothing started is refused
        result = await client.call_tool(
            "end_session", {"cwd": str(repo), "session_id": "s-err", "summary": "x"}
        )
    assert result.is_error
    [content] = result.content
    assert isinstance(content, TextContent)
    assert "No session is open" in content.text and "claude-session start" in content.text


def test_stdout_carries_only_json_rpc_and_logs_go_to_stderr(repo: Path) -> None:
    """Every byte the server writes on stdout is a JSON-RPC message, even while it starts,
    works in git and shuts down (``raw_calls`` parses each line); its log lines go to
    stderr."""
    answers, stderr = raw_calls(
        repo,
        [
            ("start_session", {"cwd": str(repo), "session_id": "raw-1"}),
            (
                "end_session",
                {
                    "cwd": str(repo),
                    "session_id": "raw-1",
                    "summary": "raw",
                    "commit_message": "Raw test",
                },
            ),
        ],
    )
    assert answers[0]["result"]["structuredContent"]["status"] == "ready"
    assert answers[1]["result"]["structuredContent"]["status"] == "ended"
    assert "MCP server starting" in stderr


async def test_plugin_launcher_runs_the_server_in_place_when_python_has_the_dependencies(
    repo: Path,
    tmp_path: Path,
) -> None:
    """`.mcp.json` starts `python3 server/launch_mcp.py`: with the dependencies importable it
    serves at once, from this checkout, without making a virtualenv."""
    plugin_data = tmp_path / "plugin-data"
    plugin_data.mkdir()
    env = server_env(CLAUDE_PLUGIN_DATA=str(plugin_data), CLAUDE_PLUGIN_ROOT=str(ROOT))
    del env["PYTHONPATH"]  # the launcher finds the package by itself
    params = StdioServerParameters(
        command=sys.executable, args=[str(SERVER_DIR / "launch_mcp.py")], env=env, cwd=repo
    )
    started = time.monotonic()
    async with Client(params) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        status = await call(client, "session_status", cwd=str(repo))
    elapsed = time.monotonic() - started
    assert tools == TOOLS and status["project"] == "stdio-proj"
    assert list(plugin_data.iterdir()) == []  # no venv made, nothing installed
    assert elapsed < 15, f"launcher took {elapsed:.1f} s"


async def test_parallel_tool_calls_each_get_their_own_result_and_warnings(tmp_path: Path) -> None:
    """The SDK runs tool calls concurrently in worker threads over one Core: each call's
    warnings must be its own (issue 9 part 5)."""
    import anyio

    merging = make_repo(tmp_path / "merging")  # pause: a merge in progress refuses the WIP commit
    (merging / ".git" / "MERGE_HEAD").write_text((merging / ".git" / "HEAD").read_text())
    (merging / "dirty.txt").write_text("x")
    scanned = make_repo(tmp_path / "scanned")  # a run whose notes hold a secret: 'Redaction'
    quiet = make_repo(tmp_path / "quiet")  # status: nothing to say
    token = "ghp_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
    results: dict[str, list[dict[str, Any]]] = {"pause": [], "end": [], "status": []}

    async with Client(cli_server(quiet)) as client:

        async def pause(n: int) -> None:
            results["pause"].append(
                await call(
                    client,
                    "pause_session",
                    cwd=str(merging),
                    session_id=f"p{n}",
                    summary=f"pause {n}",
                    wip_commit=True,
                )
            )

        async def end(n: int) -> None:
            results["end"].append(
                await call(
                    client,
                    "record_maintenance_run",
                    cwd=str(scanned),
                    session_id=f"e{n}",
                    command="audit",
                    status="ok",
                    notes=f"run {n} found {token}",
                )
            )

        async def status(n: int) -> None:
            results["status"].append(await call(client, "session_status", cwd=str(quiet)))

        async with anyio.create_task_group() as group:
            for n in range(6):
                group.start_soon(pause, n)
                group.start_soon(end, n)
                group.start_soon(status, n)

    assert [len(v) for v in results.values()] == [6, 6, 6]
    for paused in results["pause"]:
        assert paused["project"] == "merging" and paused["wip_commit"] is None
        assert any("merge" in w for w in paused["warnings"]), paused["warnings"]
        assert not any("Redaction" in w for w in paused["warnings"])
    for ran in results["end"]:
        assert ran["project"] == "scanned" and ran["redacted"] == {"github-token": 1}
        assert any("1 secret removed" in w for w in ran["warnings"]), ran["warnings"]
        assert not any("merge" in w for w in ran["warnings"])
    for stat in results["status"]:
        assert stat["project"] == "quiet" and stat["warnings"] == [], stat["warnings"]


@pytest.mark.parametrize("keep", [True, False])
async def test_end_session_keeps_wip_commits_when_asked_like_the_clis_end(
    repo: Path, keep: bool
) -> None:
    """newcomer-2 / issue 28: the CLI's ``end --keep-wip`` as the tool's ``keep_wip``, shown in
    its schema; left out, the unpushed WIP commit is squashed into the end commit."""
    async with Client(cli_server(repo)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        option = tools["end_session"].input_schema["properties"]["keep_wip"]
        assert option["type"] == "boolean" and option["default"] is False
        assert "WIP" in option["description"]
        await call(client, "start_session", cwd=str(repo), session_id="w1")
        (repo / "half.txt").write_text("half\n")
        paused = await call(
            client, "pause_session", cwd=str(repo), session_id="w1", summary="half", wip_commit=True
        )
        await call(client, "resume_session", cwd=str(repo), session_id="w2")
        (repo / "rest.txt").write_text("rest\n")
        args = {"summary": "done", "commit_message": "Finish", "push": False}
        ended = await call(
            client, "end_session", cwd=str(repo), session_id="w2", **args, keep_wip=keep
        )
    subjects = git(repo, "log", "--format=%s", "-3").splitlines()
    if keep:
        assert subjects[:2] == ["Finish", "WIP: half"]
        assert paused["wip_commit"] in git(repo, "log", "--format=%H")
        assert any("kept as made" in w for w in ended["warnings"])
        assert not ended.get("squashed_wip")
    else:
        assert subjects[:2] == ["Finish", "initial"]
        assert ended["squashed_wip"] == [paused["wip_commit"]]
