"""The MCP server as Claude Code starts it (``python -m claude_session.edges.cli mcp`` over
stdio, in the test's isolated HOME), for the mcp package's own client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent

ROOT = Path(__file__).resolve().parents[2]
SERVER_DIR = ROOT / "server"
_PASSED_ENV = (
    "HOME",
    "CLAUDE_CONFIG_DIR",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_GLOBAL",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
)


def server_env(**extra: str) -> dict[str, str]:
    """The isolated test environment for the server process (HOME, config dir, git identity)."""
    env = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
    env["PYTHONPATH"] = str(SERVER_DIR)
    env.update(extra)
    return env


def cli_server(cwd: Path, **extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "claude_session.edges.cli", "mcp"],
        env=server_env(**extra),
        cwd=cwd,
    )


async def call(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    """A tool call that must succeed: its structured result."""
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    data: dict[str, Any] | None = result.structured_content
    assert data is not None
    return data


def error_text(result: CallToolResult) -> str:
    """The text of a tool error (``isError`` set, one text block)."""
    assert result.is_error, result.structured_content
    [content] = result.content
    assert isinstance(content, TextContent)
    return content.text


def raw_calls(
    cwd: Path, calls: list[tuple[str, dict[str, Any]]], *, protocol: str = "2025-06-18"
) -> tuple[list[dict[str, Any]], str]:
    """Tool calls over raw stdio, as an ``initialize``-era client (Claude Code 2.1.197) makes
    them after ``tools/list``: each call's JSON-RPC answer, and the server's stderr. Every
    stdout line must be JSON-RPC."""
    requests: list[dict[str, Any]] = [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": protocol,
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "tools", "method": "tools/list"},
    ]
    requests += [
        {
            "jsonrpc": "2.0",
            "id": n,
            "method": "tools/call",
            "params": {"name": name, "arguments": args},
        }
        for n, (name, args) in enumerate(calls, 1)
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "claude_session.edges.cli", "mcp"],
        cwd=cwd,
        env={**server_env(), "PATH": os.environ["PATH"]},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    answers: dict[int | str, dict[str, Any]] = {}
    try:
        for request in requests:
            proc.stdin.write((json.dumps(request) + "\n").encode())
            proc.stdin.flush()
            while "id" in request and request["id"] not in answers:
                line = proc.stdout.readline()
                assert line, "the server closed stdout"
                message = json.loads(line)  # a stray print would fail here
                assert message["jsonrpc"] == "2.0", line
                if "id" in message:
                    answers[message["id"]] = message
        rest, stderr = proc.communicate(timeout=30)  # closes stdin: the server exits
    finally:
        if proc.poll() is None:
            proc.kill()
    for line in rest.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0", line
    assert answers[0]["result"]["serverInfo"]["version"], answers[0]
    assert answers["tools"]["result"]["tools"], answers["tools"]
    return [answers[n] for n in range(1, len(calls) + 1)], stderr.decode(errors="replace")
