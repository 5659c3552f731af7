"""Run the real Claude Code client (`claude`) offline against the scripted API in fake_anthropic.

The product supports a window of Claude Code versions (:data:`WINDOW`, oldest first; the README
says it). `.ci/install_claude_code.sh` installs each one into its own cache folder,
``~/.cache/claude-session/claude-code-<version>``, and :func:`find_claude` finds each version's
binary there itself. A test runs on the newest unless it asks for a version through the
``claude_version`` fixture, parametrized with :data:`ON_EVERY_VERSION` (the smoke set that also
runs on the oldest). What differs between the versions is in :mod:`helpers.claude_screens`.
Tests that need the client use the ``requires_claude`` marker or the ``claude_bin`` fixture and
are skipped, with the reason, when it is missing.
"""

from __future__ import annotations

import functools
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

#: the Claude Code versions the product supports and tests, oldest first
WINDOW = ("2.1.197", "2.1.332")
OLDEST, NEWEST = WINDOW[0], WINDOW[-1]
CLAUDE_CODE_VERSION = NEWEST  # what a test runs on unless it asks for another
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

# What keeps the client quiet, offline and deterministic (names found in the binaries of the
# window; tool search is left as each version has it: the scripted model loads deferred tools).
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

#: the version the running test asked for (``claude_version`` fixture); None: the newest
_selected: str | None = None


def _real_home() -> Path:
    home = _IMPORT_ENV.get("HOME")
    return Path(home) if home else Path(pwd.getpwuid(os.getuid()).pw_dir)


def claude_cache_dir(version: str | None = None) -> Path:
    """Where `.ci/install_claude_code.sh` installs ``version`` (default: the selected one):
    ``$CLAUDE_SESSION_CLAUDE_DIR`` (or ``~/.cache/claude-session``) ``/claude-code-<version>``."""
    configured = _IMPORT_ENV.get("CLAUDE_SESSION_CLAUDE_DIR")
    base = Path(configured) if configured else _real_home() / ".cache" / "claude-session"
    return base / f"claude-code-{version or selected_version()}"


def selected_version() -> str:
    """The version the running test uses: the one it asked for, else the newest."""
    return _selected or NEWEST


@functools.cache
def binary_version(binary: Path) -> str | None:
    """What ``binary --version`` says (``2.1.332``), None if it does not run."""
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    words = done.stdout.split()
    return words[0] if done.returncode == 0 and words else None


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_claude(version: str | None = None) -> Path | None:
    """The `claude` binary of ``version`` (default: the selected one): $CLAUDE_SESSION_CLAUDE_BIN
    (only that, when set, whatever its version), its cache folder, or a `claude` on PATH that
    says it is that version."""
    configured = os.environ.get("CLAUDE_SESSION_CLAUDE_BIN") or _IMPORT_ENV.get(
        "CLAUDE_SESSION_CLAUDE_BIN"
    )
    if configured:
        return Path(configured) if _runnable(Path(configured)) else None
    wanted = version or selected_version()
    cached = claude_cache_dir(wanted) / "node_modules" / ".bin" / "claude"
    if _runnable(cached):
        return cached
    on_path = shutil.which("claude")
    if on_path and binary_version(Path(on_path)) == wanted:
        return Path(on_path)
    return None


def running_version() -> str:
    """The version of the binary the running test drives (an override may be any version)."""
    found = find_claude()
    return (binary_version(found) if found else None) or selected_version()


requires_claude = pytest.mark.skipif(
    find_claude(NEWEST) is None, reason=f"Claude Code client not installed: {INSTALL_HINT}"
)

#: parametrize a smoke test over the whole window: ``@ON_EVERY_VERSION`` with the
#: ``claude_version`` fixture among the test's arguments (the rest run on the newest only)
ON_EVERY_VERSION = pytest.mark.parametrize("claude_version", WINDOW, indirect=True)


@pytest.fixture
def claude_version(request: pytest.FixtureRequest) -> Iterator[str]:
    """The Claude Code version this test drives (parametrized: ``ON_EVERY_VERSION``); every
    helper here uses its binary until the test ends. Skips, saying how, when it is missing."""
    global _selected
    version = str(getattr(request, "param", NEWEST))
    if find_claude(version) is None:
        pytest.skip(f"Claude Code {version} not installed: {INSTALL_HINT}")
    _selected = version
    try:
        yield version
    finally:
        _selected = None


@pytest.fixture
def claude_bin(request: pytest.FixtureRequest) -> Path:
    """The `claude` binary (of the test's ``claude_version`` when it asks for one, else the
    newest), or skip the test saying how to install it."""
    if "claude_version" in request.fixturenames:
        request.getfixturevalue("claude_version")  # selected before anything runs the client
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
