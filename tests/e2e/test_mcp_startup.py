"""The plugin's tools are offered in the first model request of `claude -p`, with one CPU busy.

`claude -p` connects MCP servers in the background and sends its first request about 2 s after
it starts, with the tools of the servers that have answered by then: a server slower than that
is missing from the turn, and `/session:pause` fails. Here the real Claude Code runs with its
own default MCP timing (the harness's `MCP_CONNECTION_NONBLOCKING=0` removed) while another
process spins one of the machine's CPUs, and the first request the scripted API receives must
list every `mcp__plugin_session_session__` tool. The plugin is started once before, as a user's
first session does (bytecode written, the MCP server's answer cache made).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.claude_code import claude_bin, claude_command, claude_env, mcp_logs, requires_claude
from helpers.fake_anthropic import FakeAnthropic, text, tool_names
from helpers.gitrepo import make_repo

__all__ = ["claude_bin"]

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
RUNS = int(os.environ.get("CLAUDE_SESSION_BUSY_RUNS", "3"))
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


def first_request_tools(
    repo: Path,
    config: Path,
    home: Path,
    *,
    default_mcp_timing: bool,
    plugin_dir: Path | None = ROOT,
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The session tools offered in the first model request of `claude -p` (``plugin_dir``
    None: the plugin installed in ``config``)."""
    with FakeAnthropic([text("ok")]) as api:
        env = claude_env(config_dir=config, home=home, base_url=api.base_url)
        if default_mcp_timing:
            for name in WAITING:
                env.pop(name, None)
        done = subprocess.run(
            claude_command("hello", plugin_dir=plugin_dir, allowed_tools=[f"{TOOL}*"]),
            cwd=repo,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        turns = api.turn_requests
    assert turns, f"no model request: {done.stdout[-500:]} {done.stderr[-500:]}"
    names = {name[len(TOOL) :] for name in tool_names(turns[0]) if name.startswith(TOOL)}
    return names, done


def test_tools_are_in_the_first_request_while_another_process_keeps_a_cpu_busy(
    tmp_path: Path, claude_bin: Path, busy_cpu: subprocess.Popen[bytes]
) -> None:
    repo = make_repo(tmp_path / "proj")
    config, home = tmp_path / "config", tmp_path / "home"
    warm, done = first_request_tools(repo, config, home, default_mcp_timing=False)
    assert warm == TOOLS, mcp_logs(home) or done.stderr
    assert (config / "claude-session" / "mcp-answers.json").is_file()
    for run in range(RUNS):
        offered, done = first_request_tools(repo, config, home, default_mcp_timing=True)
        assert busy_cpu.poll() is None, "the busy loop stopped"
        assert offered == TOOLS, f"run {run + 1}: offered {sorted(offered)}\n{mcp_logs(home)}"


def test_the_first_session_after_install_offers_the_tools_while_a_cpu_is_busy(
    tmp_path: Path, claude_bin: Path, busy_cpu: subprocess.Popen[bytes]
) -> None:
    """`claude-session install` makes the server's start-up answers (``mcp_front.warm``), so the
    very first session after it, with no earlier start to have made them, offers the tools in
    its first request. Each run is a fresh install into a fresh Claude Code config."""
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
        assert (config / "claude-session" / "mcp-answers.json").is_file()
        offered, done = first_request_tools(
            repo, config, home, default_mcp_timing=True, plugin_dir=None
        )
        assert busy_cpu.poll() is None, "the busy loop stopped"
        assert offered == TOOLS, f"run {run + 1}: offered {sorted(offered)}\n{mcp_logs(home)}"
