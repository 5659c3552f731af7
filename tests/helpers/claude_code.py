"""Run the real Claude Code client (`claude`) offline against the scripted API in fake_anthropic.

The binary comes from `.ci/install_claude_code.sh` (pinned version, cached under the user's
home). Tests that need it use the ``requires_claude`` marker or the ``claude_bin`` fixture and
are skipped, with the reason, when it is missing.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

CLAUDE_CODE_VERSION = "2.1.197"
T = TypeVar("T")
INSTALL_HINT = "run `bash .ci/install_claude_code.sh` (or set CLAUDE_SESSION_CLAUDE_BIN)"

# conftest's autouse fixture points HOME at a temp folder and drops CLAUDE_SESSION_* before each
# test, so the real locations are taken once, when this module is imported at collection time.
_IMPORT_ENV = {
    k: v
    for k, v in os.environ.items()
    if k in {"HOME", "CLAUDE_SESSION_CLAUDE_BIN", "CLAUDE_SESSION_CLAUDE_DIR"}
}

# Variables of an outer Claude Code (or the developer's shell) that would steer the client
# under test: another endpoint, another credential, telemetry exporters, a parent session.
_DROPPED_PREFIXES = ("ANTHROPIC_", "CLAUDE_CODE_", "CLAUDE_PLUGIN_", "OTEL_", "CLAUDE_SESSION_")
_DROPPED_NAMES = {
    "CLAUDECODE",
    "CLAUDE_PROJECT_DIR",
    "CLAUDE_ENV_FILE",
    "CLAUDE_CONFIG_DIR",
    "MCP_TIMEOUT",
}

# What keeps the client quiet, offline and deterministic (names found in the 2.1.197 binary).
QUIET_ENV: dict[str, str] = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "MCP_CONNECTION_NONBLOCKING": "0",  # -p would otherwise not wait for the MCP server
    "MCP_CONNECT_TIMEOUT_MS": "30000",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_GROWTHBOOK": "1",
    "DISABLE_INSTALLATION_CHECKS": "1",
    "CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL": "1",
    "CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY": "1",
    "CLAUDE_CODE_DISABLE_TERMINAL_TITLE": "1",
    "CLAUDE_CODE_DISABLE_AUTO_MEMORY": "1",
    "NO_COLOR": "1",
    # Plugin MCP servers written in Python take ~0.7 s to start; a loaded CI machine needs slack.
    "MCP_TIMEOUT": "30000",
}

#: the API key the tests give Claude Code (the scripted model API takes any)
API_KEY = "sk-ant-test-0000000000000000"


def _real_home() -> Path:
    home = _IMPORT_ENV.get("HOME")
    return Path(home) if home else Path(pwd.getpwuid(os.getuid()).pw_dir)


def claude_cache_dir() -> Path:
    """Where `.ci/install_claude_code.sh` installs the client."""
    configured = _IMPORT_ENV.get("CLAUDE_SESSION_CLAUDE_DIR")
    return (
        Path(configured)
        if configured
        else _real_home() / ".cache" / "claude-session" / "claude-code"
    )


def find_claude() -> Path | None:
    """The `claude` binary: $CLAUDE_SESSION_CLAUDE_BIN (only that, when set), the cache, or PATH."""
    configured = os.environ.get("CLAUDE_SESSION_CLAUDE_BIN") or _IMPORT_ENV.get(
        "CLAUDE_SESSION_CLAUDE_BIN"
    )
    if configured:
        candidates = [Path(configured)]
    else:
        on_path = shutil.which("claude")
        candidates = [claude_cache_dir() / "node_modules" / ".bin" / "claude"]
        candidates += [Path(on_path)] if on_path else []
    return next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


requires_claude = pytest.mark.skipif(
    find_claude() is None, reason=f"Claude Code client not installed: {INSTALL_HINT}"
)


@pytest.fixture
def claude_bin() -> Path:
    """The `claude` binary, or skip the test saying how to install it."""
    found = find_claude()
    if found is None:
        pytest.skip(f"Claude Code client not installed: {INSTALL_HINT}")
    return found


def claude_env(
    *, config_dir: Path, home: Path, base_url: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for a client that talks only to ``base_url`` and keeps state in tmp."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_DROPPED_PREFIXES) and k not in _DROPPED_NAMES
    }
    base.update(QUIET_ENV)
    base.update(
        {
            "ANTHROPIC_BASE_URL": base_url,
            "ANTHROPIC_API_KEY": API_KEY,
            "HOME": str(home),
            "CLAUDE_CONFIG_DIR": str(config_dir),
        }
    )
    if os.geteuid() == 0:
        # Root may only skip permission prompts inside a declared sandbox.
        base["IS_SANDBOX"] = "1"
    # The plugin's commands run `python3` from PATH: the interpreter running the tests, which
    # has the dependencies (as after the README's install). A fresh machine's own python3
    # has none, and the launcher would spend the test building its venv (tested on its own).
    bin_dir = os.path.dirname(sys.executable)
    base["PATH"] = os.pathsep.join([bin_dir, base.get("PATH", "")])
    base.update(env or {})
    return base


def claude_command(
    prompt: str,
    *,
    plugin_dir: Path | None = None,
    allowed_tools: Iterable[str] = (),
    extra_args: Sequence[str] = (),
    binary: Path | None = None,
) -> list[str]:
    """The argv of a `claude -p` run; the prompt goes last, after ``--``."""
    found = binary or find_claude()
    if found is None:
        raise FileNotFoundError(f"Claude Code client not installed: {INSTALL_HINT}")
    argv = [str(found), "-p"]
    if plugin_dir is not None:
        argv += ["--plugin-dir", str(plugin_dir)]
    tools = list(allowed_tools)
    if tools:
        # One comma-joined value: the option is variadic and would swallow a later prompt.
        argv += ["--allowedTools", ",".join(tools)]
    argv += [*extra_args, "--", prompt]
    return argv


def run_claude(
    prompt: str,
    *,
    cwd: Path,
    config_dir: Path,
    home: Path,
    base_url: str,
    plugin_dir: Path | None = None,
    allowed_tools: Iterable[str] = (),
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `claude -p prompt` to completion and return its output (not checked)."""
    return subprocess.run(
        claude_command(
            prompt, plugin_dir=plugin_dir, allowed_tools=allowed_tools, extra_args=extra_args
        ),
        cwd=cwd,
        env=claude_env(config_dir=config_dir, home=home, base_url=base_url, env=env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_claude(
    prompt: str,
    *,
    cwd: Path,
    config_dir: Path,
    home: Path,
    base_url: str,
    plugin_dir: Path | None = None,
    allowed_tools: Iterable[str] = (),
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start `claude -p prompt` without waiting; in its own process group so a test can kill it."""
    return subprocess.Popen(
        claude_command(
            prompt, plugin_dir=plugin_dir, allowed_tools=allowed_tools, extra_args=extra_args
        ),
        cwd=cwd,
        env=claude_env(config_dir=config_dir, home=home, base_url=base_url, env=env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def transcripts(config_dir: Path) -> list[Path]:
    """The session transcripts Claude Code wrote under ``config_dir/projects``."""
    return sorted((config_dir / "projects").glob("*/*.jsonl"))


def live_sessions(config_dir: Path) -> list[dict[str, object]]:
    """Claude Code's own per-process records (``sessions/<pid>.json``): removed on a clean exit,
    left behind when the process is killed."""
    found: list[dict[str, object]] = []
    for path in sorted((config_dir / "sessions").glob("*.json")):
        found.append(json.loads(path.read_text()))
    return found


def wait_for(
    predicate: Callable[[], T | None], *, timeout: float = 10.0, interval: float = 0.05
) -> T:
    """Poll until ``predicate`` returns something truthy (Claude Code writes files late)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)


def mcp_logs(home: Path) -> str:
    """Claude Code's MCP connection logs (they live under HOME, not CLAUDE_CONFIG_DIR): what to
    print when a plugin's MCP server did not start or a tool call failed."""
    logs = sorted((home / ".cache" / "claude-cli-nodejs").glob("*/mcp-logs-*/*.jsonl"))
    return "\n".join(f"== {log}\n{log.read_text(errors='replace')}" for log in logs)


def accept_onboarding_and_trust(config_dir: Path, repo: Path) -> None:
    """What the client writes after a person finished onboarding, approved the API key (by its
    last 20 characters) and trusted the folder; without the trust, plugin hooks are held back."""
    path = config_dir / ".claude.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data["hasCompletedOnboarding"] = True
    data["customApiKeyResponses"] = {"approved": [API_KEY[-20:]], "rejected": []}
    data.setdefault("projects", {})[str(repo.resolve())] = {"hasTrustDialogAccepted": True}
    path.write_text(json.dumps(data, indent=2))
