"""The plugin's MCP server under a slow start, with the real Claude Code's own MCP timing.

`claude -p` connects MCP servers in the background and sends its first request about 2 s after
it starts, with the tools of the servers that have answered by then; the plugin's server is
``alwaysLoad`` (`.mcp.json`), which makes Claude Code wait for it (up to 5 s on 2.1.332) and keeps
its tools out of tool search. Here the harness's `MCP_CONNECTION_NONBLOCKING=0` is removed, so the
client times the connection as it does for a user, while other processes keep CPUs busy, or the
server is made to start 5 s late (``CLAUDE_SESSION_MCP_START_DELAY``): long enough for 2.1.332's
`server/discover` probe to time out and fall back to `initialize` on the same process, the case
where an early answer in the old protocol once split the connection (every tool call refused
with "params._meta is missing the required envelope key(s)").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from helpers.claude_code import (
    NEWEST,
    OLDEST,
    claude_bin,
    claude_command,
    claude_env,
    claude_version,
    find_claude,
    mcp_logs,
    requires_claude,
)
from helpers.fake_anthropic import JSON, FakeAnthropic, text, tool_names, tool_results, tool_use
from helpers.gitrepo import make_repo

__all__ = ["claude_bin", "claude_version"]

pytestmark = [requires_claude, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TOOL = "mcp__plugin_session_session__"
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
#: the harness's settings that make `claude -p` wait for MCP servers: removed here
WAITING = ("MCP_CONNECTION_NONBLOCKING", "MCP_CONNECT_TIMEOUT_MS", "MCP_TIMEOUT")
RUNS = int(os.environ.get("CLAUDE_SESSION_BUSY_RUNS", "2"))
#: fresh installs, each followed by its first session (an install takes most of the time)
INSTALL_RUNS = int(os.environ.get("CLAUDE_SESSION_INSTALL_RUNS", "2"))


@pytest.fixture
def busy_cpu() -> Iterator[subprocess.Popen[bytes]]:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield spinner
    finally:
        spinner.kill()
        spinner.wait()


class FirstCall(NamedTuple):
    """What the first `claude -p` of a test saw: the session tools its first model request
    offered, the result of its first tool call (``session_status``), Claude Code's MCP log."""

    offered: set[str]
    result: JSON
    logs: str


def first_tool_call(
    repo: Path,
    config: Path,
    home: Path,
    *,
    default_mcp_timing: bool = True,
    plugin_dir: Path | None = ROOT,
    binary: Path | None = None,
    env: dict[str, str] | None = None,
) -> FirstCall:
    """`claude -p "/session:start"` whose model calls ``session_status`` first (``plugin_dir``
    None: the plugin installed in ``config``; ``binary``: another Claude Code than the test's)."""
    with FakeAnthropic([tool_use(f"{TOOL}session_status", {}), text("ok")]) as api:
        run_env = claude_env(config_dir=config, home=home, base_url=api.base_url, env=env)
        if default_mcp_timing:
            for name in WAITING:
                run_env.pop(name, None)
        done = subprocess.run(
            claude_command(
                "/session:start", plugin_dir=plugin_dir, allowed_tools=[f"{TOOL}*"], binary=binary
            ),
            cwd=repo,
            env=run_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        turns = api.turn_requests
    logs = mcp_logs(home)
    assert done.returncode == 0 and len(turns) >= 2, f"{done.stdout[-500:]} {done.stderr}\n{logs}"
    offered = {name[len(TOOL) :] for name in tool_names(turns[0]) if name.startswith(TOOL)}
    [result] = tool_results(turns[1])
    return FirstCall(offered, result, logs)


def assert_answered(call: FirstCall, what: str) -> None:
    """The tool call got the SDK's result (not "still connecting", not a protocol refusal)."""
    assert call.result.get("is_error") is not True, f"{what}: {call.result}\n{call.logs}"
    assert json.loads(call.result["content"])["branch"] == "main", f"{what}\n{call.logs}"


def test_the_first_tool_call_works_while_another_process_keeps_a_cpu_busy(
    tmp_path: Path, claude_bin: Path, busy_cpu: subprocess.Popen[bytes]
) -> None:
    repo = make_repo(tmp_path / "proj")
    config, home = tmp_path / "config", tmp_path / "home"
    warm = first_tool_call(repo, config, home, default_mcp_timing=False)
    assert warm.offered == TOOLS, warm.logs  # alwaysLoad: in the first request, never deferred
    assert_answered(warm, "harness timing")
    for run in range(RUNS):
        call = first_tool_call(repo, config, home)
        assert busy_cpu.poll() is None, "the busy loop stopped"
        assert_answered(call, f"run {run + 1}")


def test_the_first_session_after_install_gets_its_tool_call_while_a_cpu_is_busy(
    tmp_path: Path, claude_bin: Path, busy_cpu: subprocess.Popen[bytes]
) -> None:
    """The very first session after `claude-session install`, with no earlier start to have
    written bytecode, gets its first tool call answered. Each run is a fresh install into a
    fresh Claude Code config."""
    repo = make_repo(tmp_path / "proj")
    for run in range(INSTALL_RUNS):
        config, home = tmp_path / f"config-{run}", tmp_path / f"home-{run}"
        env = claude_env(config_dir=config, home=home, base_url="http://127.0.0.1:9")
        env["PATH"] = f"{claude_bin.parent}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONPATH"] = str(ROOT / "server")
        installed = subprocess.run(
            [sys.executable, "-m", "claude_session.edges.cli", "install", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr
        assert json.loads(installed.stdout)["warnings"] == []
        call = first_tool_call(repo, config, home, plugin_dir=None)
        assert busy_cpu.poll() is None, "the busy loop stopped"
        assert_answered(call, f"run {run + 1}")


SLOW_START = {"CLAUDE_SESSION_MCP_START_DELAY": "5"}


@pytest.mark.parametrize(
    ("claude_version", "earlier_session", "busy"),
    [(NEWEST, True, 0), (NEWEST, False, 0), (NEWEST, False, 2), (OLDEST, True, 0)],
    ids=["newest-warm", "newest-cold", "newest-both-cpus-busy", "oldest-warm"],
    indirect=["claude_version"],
)
def test_a_first_tool_call_works_when_the_server_starts_5_s_late(
    tmp_path: Path, claude_version: str, claude_bin: Path, earlier_session: bool, busy: int
) -> None:
    """A first `claude -p` calling a session tool gets its result, however late the server
    comes up: warm (an earlier session of the oldest version ran, as before an upgrade of Claude
    Code: bytecode written, the server's answer cache made in 2025-11-25), cold, and with both
    CPUs kept busy; the client's own MCP timing. The newest opens with `server/discover` and gets
    the SDK's answers only (never the cached 2025-11-25 ones); the oldest, which gives a slow
    server only ~2 s, gets its tools from the cache in time."""
    repo = make_repo(tmp_path / "proj")
    config, home = tmp_path / "config", tmp_path / "home"
    if earlier_session:
        oldest = find_claude(OLDEST)
        assert oldest is not None, f"Claude Code {OLDEST} not installed"
        earlier = first_tool_call(repo, config, home, binary=oldest, default_mcp_timing=False)
        assert_answered(earlier, "earlier session")
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        call = first_tool_call(repo, config, home, env=SLOW_START)
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    assert_answered(call, "5 s late")
    if claude_version == NEWEST:  # the 2026-07-28 protocol, agreed through server/discover
        assert '\\"protocolEra\\":\\"modern\\"' in call.logs.split("== ")[-1], call.logs
