"""What the MCP tools take (edges/mcp/inputs.py), through the mcp package's client over stdio:
strict types, bounded text, refusals that name each argument, and no secret override.

Issue 23 item 6 (findings B1, B6 of claude-code-versions.md) and issue 25 item 2 (N33).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from helpers.gitrepo import git, make_remote, make_repo
from helpers.mcp_stdio import ROOT, call, cli_server, error_text
from helpers.redact_samples import GH

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "inputs-proj")
    make_remote(r, tmp_path / "remote.git")
    return r


def ledger_files() -> list[str]:
    ledger = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "claude-session" / "ledger"
    return sorted(p.name for p in ledger.glob("*.json")) if ledger.is_dir() else []


async def refused(client: Client, tool: str, **args: Any) -> str:
    return error_text(await client.call_tool(tool, args))


# --- strict types (B1) ----------------------------------------------------------------------


async def test_a_string_is_not_taken_for_a_boolean(repo: Path) -> None:
    async with Client(cli_server(repo)) as client:
        for value in ("yes", "true", 1):
            text = await refused(client, "start_session", cwd=str(repo), no_import=value)
            assert "no_import" in text and "true or false" in text, text
            assert "start_session was not run" in text
    assert ledger_files() == []  # nothing was started


async def test_a_string_or_a_boolean_is_not_taken_for_a_number(repo: Path) -> None:
    async with Client(cli_server(repo)) as client:
        for value in ("20", True, 2.5):
            text = await refused(
                client, "set_reminder", action="on", every_minutes=value, cwd=str(repo)
            )
            assert "every_minutes" in text and "whole number" in text, text
        settings = (await call(client, "set_reminder", cwd=str(repo)))["settings"]
    assert settings["enabled"] is False  # no 1-minute (or 20-minute) reminder was set


async def test_a_number_is_not_taken_for_text(repo: Path) -> None:
    async with Client(cli_server(repo)) as client:
        text = await refused(client, "pause_session", cwd=str(repo), summary=5)
        assert "summary" in text and "give a string" in text, text
        text = await refused(client, "pause_session", cwd=str(repo), summary="s", next_steps="x")
        assert "next_steps" in text, text


async def test_an_argument_the_tool_does_not_have_is_refused(repo: Path) -> None:
    async with Client(cli_server(repo)) as client:
        text = await refused(client, "session_status", cwd=str(repo), bogus=1)
    assert "bogus: session_status has no such argument" in text


async def test_the_advertised_schemas_are_closed_and_bounded(repo: Path) -> None:
    async with Client(cli_server(repo)) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    for name, tool in tools.items():
        schema = tool.input_schema
        assert schema["additionalProperties"] is False, name
        if "session_id" in schema["properties"]:
            assert schema["properties"]["session_id"]["maxLength"] == 200, name
    end = tools["end_session"].input_schema["properties"]
    assert end["summary"]["maxLength"] == 20_000 and end["next_steps"]["maxItems"] == 100
    assert end["commit_message"]["maxLength"] == 20_000


# --- bounded text (B6) ----------------------------------------------------------------------


async def test_a_huge_session_id_is_refused_and_not_stored(repo: Path) -> None:
    async with Client(cli_server(repo)) as client:
        text = await refused(client, "start_session", cwd=str(repo), session_id="A" * 120_000)
    assert "session_id" in text and "200 characters" in text
    assert len(text) < 1_000  # the value is not echoed
    assert ledger_files() == []


@pytest.mark.parametrize("bad", ["a\x00b", "a/b", "../../etc/x", "..", "two words", "-rf"])
async def test_a_session_id_that_could_not_name_a_file_is_refused(repo: Path, bad: str) -> None:
    async with Client(cli_server(repo)) as client:
        text = await refused(client, "start_session", cwd=str(repo), session_id=bad)
    assert "session_id: must be the session id Claude Code gives" in text
    assert "leave it out" in text
    assert ledger_files() == []


async def test_a_session_id_like_claude_codes_is_taken(repo: Path) -> None:
    sid = "0b4f6a0e-3c1d-4e8a-9f2b-7d5c1a2e3f40"
    async with Client(cli_server(repo)) as client:
        started = await call(client, "start_session", cwd=str(repo), session_id=sid)
    assert started["session_id"] == sid


@pytest.mark.parametrize("kind", ["missing", "file", "nul", "huge"])
async def test_cwd_must_be_an_existing_folder(repo: Path, tmp_path: Path, kind: str) -> None:
    cwd = {
        "missing": str(tmp_path / "nonexistent" / "dir"),
        "file": str(repo / "README.md"),
        "nul": f"{repo}\x00x",
        "huge": "/" + "a" * 120_000,
    }[kind]
    async with Client(cli_server(repo)) as client:
        text = await refused(client, "session_status", cwd=cwd)
    assert text.startswith("session_status was not run") and "- cwd: " in text, text
    assert "give the project's folder, or leave cwd out" in text and len(text) < 1_000


async def test_texts_over_their_bound_are_refused_without_echoing_them(repo: Path) -> None:
    marker = "MARKER-" + "x" * 20_000
    async with Client(cli_server(repo)) as client:
        await call(client, "start_session", cwd=str(repo), session_id="b1")
        (repo / "work.txt").write_text("work")
        texts = [
            await refused(client, "pause_session", cwd=str(repo), summary=marker),
            await refused(client, "pause_session", cwd=str(repo), summary="s", note=marker),
            await refused(
                client, "pause_session", cwd=str(repo), summary="s", next_steps=["a"] * 101
            ),
            await refused(
                client, "pause_session", cwd=str(repo), summary="s", accomplishments=[marker]
            ),
            await refused(
                client, "end_session", cwd=str(repo), summary="s", commit_message=marker * 2
            ),
        ]
    for text in texts:
        assert "at most" in text or "over 2,000" in text, text[:300]
        assert "MARKER" not in text, text[:300]
    assert git(repo, "status", "--porcelain") == "?? work.txt"  # nothing committed


async def test_maintenance_results_over_their_bound_are_refused_with_what_to_do(
    repo: Path,
) -> None:
    findings = [{"id": n, "text": "f" * 100} for n in range(12_000)]
    async with Client(cli_server(repo)) as client:
        text = await refused(
            client,
            "record_maintenance_run",
            cwd=str(repo),
            command="security-scan",
            status="warnings",
            results={"findings": findings},
        )
    assert "results: is 1," in text and "over the 1,000,000" in text
    assert "name the file with the full report in notes" in text


# --- no secret override for the model (N33) -------------------------------------------------


async def test_N33_the_tools_take_no_secret_override(repo: Path) -> None:
    """N33: nothing the model sees offers ``allow_secret``: no schema, description or
    instruction names it."""
    async with Client(cli_server(repo)) as client:
        tools = (await client.list_tools()).tools
        said = [client.instructions or ""]
    for tool in tools:
        assert "allow_secret" not in tool.input_schema["properties"], tool.name
        said += [tool.description or "", json.dumps(tool.input_schema)]
    for text in said:
        assert "allow_secret" not in text and "allow-secret" not in text


def test_N33_no_command_file_mentions_the_override() -> None:
    """N33: the plugin's and the classic install's commands never suggest the override."""
    files = sorted((ROOT / "commands").glob("*.md"))
    assert files
    for path in files:
        text = path.read_text()
        assert "allow_secret" not in text and "allow-secret" not in text, path.name


async def test_N33_end_with_a_secret_in_the_message_is_refused_and_retrying_with_the_override_too(
    repo: Path, tmp_path: Path
) -> None:
    """N33: the model's retry with ``allow_secret: true`` commits and pushes nothing; the
    refusal tells the person what they can do, and never names the secret."""
    remote = tmp_path / "remote.git"
    head = git(repo, "rev-parse", "HEAD")
    async with Client(cli_server(repo)) as client:
        await call(client, "start_session", cwd=str(repo), session_id="n33")
        (repo / "deploy.txt").write_text("deploy")
        args = {"cwd": str(repo), "summary": "deploy", "commit_message": f"deploy with {GH}"}
        first = error_text(await client.call_tool("end_session", args))
        retries = [
            error_text(await client.call_tool("end_session", {**args, "allow_secret": value}))
            for value in (True, "true", False)
        ]
    assert "github-token" in first and "nothing was committed or pushed" in first
    assert "`claude-session end --allow-secret" in first and "commit it yourself" in first
    assert "do not run an override yourself" in first
    assert "allow_secret" not in first  # nothing suggests the tool could take it
    for text in retries:
        assert "end_session was not run" in text and "no allow_secret argument" in text
        assert "`claude-session end --allow-secret" in text
    for text in (first, *retries):
        assert GH not in text
    assert git(repo, "rev-parse", "HEAD") == head  # nothing committed
    assert git(remote, "rev-parse", "main") == head  # nothing pushed
    assert git(repo, "status", "--porcelain") == "?? deploy.txt"
    async with Client(cli_server(repo)) as client:  # the session is still open: a clean end
        ended = await call(client, "end_session", **{**args, "commit_message": "deploy"})
    assert ended["pushed"] is True and git(remote, "log", "-1", "--format=%s", "main") == "deploy"


async def test_N33_a_wip_commit_holding_a_secret_is_refused_and_retrying_with_the_override_too(
    repo: Path,
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    async with Client(cli_server(repo)) as client:
        (repo / "wip.txt").write_text("wip")
        args = {"cwd": str(repo), "summary": f"wip {GH}", "wip_commit": True}
        first = error_text(await client.call_tool("pause_session", args))
        retry = error_text(await client.call_tool("pause_session", {**args, "allow_secret": True}))
    assert "WIP commit message" in first and "nothing was committed" in first
    assert "`claude-session pause --wip-commit --allow-secret" in first
    assert "pause_session was not run" in retry and "no allow_secret argument" in retry
    assert GH not in first + retry
    assert git(repo, "rev-parse", "HEAD") == head


async def test_maintenance_results_nesting_deeper_than_the_tracker_stores_are_refused(
    repo: Path,
) -> None:
    deep: Any = "leaf"
    for _ in range(100):
        deep = [deep]
    async with Client(cli_server(repo)) as client:
        text = await refused(
            client, "record_maintenance_run", cwd=str(repo), command="c", status="ok", results=deep
        )
        ok = await call(
            client, "record_maintenance_run", cwd=str(repo), command="c", status="ok", results=[[1]]
        )
    assert "results: nests deeper than 60 levels" in text
    assert ok["run"]["results"] == [[1]]


async def test_text_is_taken_as_given_and_only_arrays_may_come_as_json_text(repo: Path) -> None:
    """The SDK's pre-parse made "null" an omitted argument; an array sent as JSON text (some
    clients do) is still an array."""
    async with Client(cli_server(repo)) as client:
        text = await refused(client, "session_status", cwd="null")
        assert "- cwd: 'null' is not an existing folder" in text
        text = await refused(client, "pause_session", cwd=str(repo), summary="s", next_steps="null")
        assert "next_steps" in text and "give an array" in text
        paused = await call(
            client,
            "pause_session",
            cwd=str(repo),
            summary="s",
            next_steps='["first", "second"]',
            note='["kept as written"]',
        )
    context = Path(paused["context_file"]).read_text()
    assert "first" in context and "second" in context
    assert '["kept as written"]' in context
