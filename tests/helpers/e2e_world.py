"""The end-to-end world: the real Claude Code in a temp git repository against the scripted
model API, and what the tests read from the requests it sent."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.claude_code import (
    mcp_logs,
    run_claude,
    transcripts,
)
from helpers.conversation import Conversation
from helpers.fake_anthropic import (
    JSON,
    FakeAnthropic,
    Turn,
    tool_results,
    tool_use,
)
from helpers.gitrepo import make_remote, make_repo

ROOT = Path(__file__).resolve().parents[2]
TOOL = "mcp__plugin_session_session__"
ALLOWED = [f"{TOOL}*"]
# `claude -p` connects MCP servers in the background and sends the first request after ~2 s
# whatever their state: a server slower than that (a loaded CI machine) makes the scripted
# tool call fail with "still connecting". Blocking, with a long deadline, keeps these tests
# about the flows; the start-up time itself is measured by bench/.
WAIT_FOR_MCP = {"MCP_CONNECTION_NONBLOCKING": "0", "MCP_CONNECT_TIMEOUT_MS": "30000"}
HOOK_CONTEXT = "SessionStart hook additional context:"

# What the command files show the model: `session_id` "<id>" or `session_id`: "<id>".
_SESSION_ID = re.compile(r'`session_id`:? "([^"]+)"')

SUMMARY = "The parser reads headers; body parsing is half done in parser.py."
NEXT_STEPS = ["Finish body parsing", "Add tests for chunked bodies"]
COMMIT_SUBJECT = "Add the body parser"


# --- what the scripted model reads ----------------------------------------------------------


def last_user_text(body: JSON) -> str:
    """The text of the newest user message (the expanded command of this turn)."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [
            b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"
        ]
        if texts:
            return "\n".join(texts)
    return ""


def command_session_id(body: JSON) -> str:
    """The session id Claude Code put into the newest command text (what a model would use)."""
    found = _SESSION_ID.findall(last_user_text(body))
    if not found:
        raise ValueError("no `session_id` in the command text")
    return str(found[-1])


def last_result(body: JSON) -> JSON:
    """The newest tool result of a request, decoded (Claude Code sends structured output)."""
    results = tool_results(body)
    if not results:
        raise ValueError("no tool_result in the request")
    content = results[-1]["content"]
    if isinstance(content, list):
        content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    try:
        decoded = json.loads(content)
    except ValueError:
        raise ValueError(f"the tool result is not JSON: {content!r}"[:600]) from None
    assert isinstance(decoded, dict)
    return decoded


def calls(tool: str, preamble: str = "", **args: Any) -> Callable[[JSON], Turn]:
    """A scripted step: call ``tool`` with the session id read from the command text."""

    def step(body: JSON) -> Turn:
        return tool_use(
            f"{TOOL}{tool}", {"session_id": command_session_id(body), **args}, preamble=preamble
        )

    return step


def result_of(api: FakeAnthropic, turn: int) -> JSON:
    """The tool result the model got back in request number ``turn`` (0-based)."""
    return last_result(api.turn_requests[turn])


# --- the world of one test ------------------------------------------------------------------


class World:
    """A project with a bare remote, the isolated Claude home, and ways to run Claude Code."""

    def __init__(self, tmp_path: Path, config_dir: Path) -> None:
        self.repo = make_repo(tmp_path / "webparser")
        self.remote = make_remote(self.repo, tmp_path / "remote" / "webparser.git")
        self.config = config_dir
        self.home = config_dir.parent
        self.timings: dict[str, float] = {}

    def kwargs(self, api: FakeAnthropic) -> dict[str, Any]:
        return {
            "cwd": self.repo,
            "config_dir": self.config,
            "home": self.home,
            "base_url": api.base_url,
            "plugin_dir": ROOT,
            "allowed_tools": ALLOWED,
            "env": WAIT_FOR_MCP,
        }

    def conversation(self, api: FakeAnthropic) -> Conversation:
        return Conversation.start(**self.kwargs(api))

    def run(self, api: FakeAnthropic, prompt: str) -> subprocess.CompletedProcess[str]:
        result = run_claude(prompt, timeout=60, **self.kwargs(api))
        assert result.returncode == 0, self.explain(api, result.stderr)
        return result

    def explain(self, api: FakeAnthropic, stderr: str = "") -> str:
        """What to print when a run went wrong: server errors, MCP log, client stderr."""
        return (
            f"api errors: {api.errors}\nstderr: {stderr[-3000:]}\n"
            f"mcp logs:\n{mcp_logs(self.home)[-4000:]}"
        )

    def cli(self, *args: str) -> JSON:
        """`claude-session <args> --json` as a separate process, on the same state home."""
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT / "server")
        proc = subprocess.run(
            [sys.executable, "-m", "claude_session.edges.cli", *args, "--json"],
            cwd=self.repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        data = json.loads(proc.stdout)
        assert isinstance(data, dict)
        return data

    def history(self) -> list[JSON]:
        records = self.cli("history", "--limit", "50")["records"]
        assert isinstance(records, list)
        return records

    def pause_state(self) -> JSON:
        path = self.config / "pause-state.json"
        if not path.exists():
            return {}
        projects = json.loads(path.read_text())["projects"]
        assert isinstance(projects, dict)
        return projects

    def ledger(self, session_id: str) -> JSON:
        data = json.loads(
            (self.config / "claude-session" / "ledger" / f"{session_id}.json").read_text()
        )
        assert isinstance(data, dict)
        return data

    def transcript(self, session_id: str) -> Path:
        [found] = [t for t in transcripts(self.config) if t.stem == session_id]
        return found


@pytest.fixture
def world(tmp_path: Path, isolated_home: Path, claude_bin: Path) -> Iterator[World]:
    yield World(tmp_path, isolated_home)


def in_order(text: str, *parts: str) -> bool:
    """Every part occurs in ``text``, in this order."""
    at = 0
    for part in parts:
        at = text.find(part, at)
        if at < 0:
            return False
    return True


def transcript_has(path_of: Callable[[], Path], needle: str) -> bool:
    try:
        return needle in path_of().read_text()
    except (OSError, ValueError):
        return False


# --- the tests --------------------------------------------------------------------------------
