"""The plugin as a user installs it: from the one-plugin marketplace with the real Claude Code,
and the launcher making its own environment on a Python that has none of our dependencies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from helpers.claude_code import (  # noqa: F401 - fixtures
    ON_EVERY_VERSION,
    claude_bin,
    claude_env,
    claude_version,
    run_claude,
)
from helpers.conversation import command_result
from helpers.e2e_world import last_user_text
from helpers.fake_anthropic import FakeAnthropic, request_text, text, tool_results, tool_use
from helpers.gitrepo import make_repo

ROOT = Path(__file__).resolve().parents[2]
STATUS_TOOL = "mcp__plugin_session_session__session_status"


def claude(bin_: Path, *args: str, config: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = claude_env(config_dir=config, home=home, base_url="http://127.0.0.1:9")
    return subprocess.run(
        [str(bin_), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@ON_EVERY_VERSION  # the smoke set on the oldest Claude Code of the window: plugin install
def test_marketplace_install_runs_hooks_and_tools(
    tmp_path: Path,
    isolated_home: Path,
    claude_version: str,  # noqa: F811 - the fixture
    claude_bin: Path,  # noqa: F811 - the fixture
) -> None:
    home = isolated_home.parent
    for step in (
        ("plugin", "marketplace", "add", str(ROOT)),
        ("plugin", "install", "session@claude-session"),
    ):
        proc = claude(claude_bin, *step, config=isolated_home, home=home)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = claude(claude_bin, "plugin", "list", config=isolated_home, home=home)
    assert "session@claude-session" in listed.stdout

    repo = make_repo(tmp_path / "market")
    context = isolated_home / "contexts" / "market-pause.md"
    context.parent.mkdir(parents=True, exist_ok=True)
    context.write_text("---\nproject: market\n---\n")
    (isolated_home / "pause-state.json").write_text(
        json.dumps(
            {
                "version": 1,
                "projects": {
                    str(repo): {
                        "project": "market",
                        "project_root": str(repo),
                        "branch": "main",
                        "context_file": str(context),
                        "paused_at": "2026-11-24T10:00:00+00:00",
                        "summary": "MARKET-PAUSE summary",
                    }
                },
            }
        )
    )

    def status_call(body: dict[str, Any]) -> Any:
        return tool_use(STATUS_TOOL, {"cwd": str(repo)})

    with FakeAnthropic([status_call, text("done")]) as api:
        proc = run_claude(
            "check the session",
            cwd=repo,
            config_dir=isolated_home,
            home=home,
            base_url=api.base_url,
            allowed_tools=[STATUS_TOOL],
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        first, second = api.turn_requests[0], api.turn_requests[1]
    # the installed copy's SessionStart hook told the model about the pause
    assert "MARKET-PAUSE summary" in request_text(first)
    # and the installed copy's MCP server answered the tool call
    results = tool_results(second)
    assert results and "market" in json.dumps(results)
    installed = list((isolated_home / "plugins" / "cache").rglob("launch_mcp.py"))
    assert installed, "the plugin was not copied into Claude Code's plugin cache"

    # /session:remind status runs the installed copy's CLI launcher in its ! line (the cache
    # path, ${CLAUDE_PLUGIN_ROOT}): the quoted settings are in the first and only request
    with FakeAnthropic([text("Reminders are off.")]) as api:
        proc = run_claude(
            "/session:remind status",
            cwd=repo,
            config_dir=isolated_home,
            home=home,
            base_url=api.base_url,
            allowed_tools=[STATUS_TOOL],
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(api.turn_requests) == 1, api.errors
    shown = command_result(last_user_text(api.turn_requests[0]), "remind")
    assert shown["project_root"] == str(repo) and shown["settings"]["enabled"] is False, shown


@pytest.mark.slow
def test_launcher_makes_its_environment_on_a_bare_python(tmp_path: Path) -> None:
    """A marketplace install on a machine where nothing was pip-installed: the launcher makes
    a virtualenv under CLAUDE_PLUGIN_DATA (from the package registry) and then serves."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import mcp"], capture_output=True)
    assert probe.returncode != 0  # really bare
    data = tmp_path / "plugin-data"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(CLAUDE_PLUGIN_DATA=str(data))
    launcher = [str(python), str(ROOT / "server" / "launch_mcp.py")]
    first = subprocess.run(launcher, input="", capture_output=True, text=True, env=env, timeout=120)
    stamp = data / "venv" / ".claude-session-stamp"
    deadline = time.monotonic() + 600
    while not stamp.exists() and time.monotonic() < deadline:
        time.sleep(2)
    log = (data / "venv-install.log").read_text() if (data / "venv-install.log").exists() else ""
    if not stamp.exists():
        pytest.fail(f"the environment was not made in 10 minutes: {first.stderr}\n{log[-2000:]}")
    if first.returncode != 0:
        assert "reconnect with /mcp" in first.stderr  # said clearly what is happening
    init = (
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"},
                },
            }
        )
        + "\n"
    )
    proc = subprocess.Popen(
        launcher,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(init)
    proc.stdin.flush()
    line = proc.stdout.readline()
    proc.stdin.close()
    proc.wait(30)
    assert '"serverInfo"' in line and '"session"' in line, line
