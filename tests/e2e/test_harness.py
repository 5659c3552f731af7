"""The harness itself: the real Claude Code client against the scripted API, with a throwaway
plugin (`probe`) that records what its hooks and its MCP server see."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.claude_code import (
    OLDEST,
    claude_bin,
    live_sessions,
    mcp_logs,
    requires_claude,
    run_claude,
    running_version,
    start_claude,
    transcripts,
    wait_for,
)
from helpers.claude_screens import screen
from helpers.fake_anthropic import (
    FakeAnthropic,
    hold,
    request_text,
    text,
    tool_names,
    tool_results,
    tool_use,
)
from helpers.gitrepo import make_repo

__all__ = ["claude_bin"]  # the fixture, re-exported so pytest finds it here

ECHO_TOOL = "mcp__plugin_probe_probe__echo"

_RECORDER = '''\
"""Probe hook and MCP server: append what this process sees to $PROBE_LOG."""
import json, os, sys, time

def record(event, stdin):
    entry = {"event": event, "t": time.time(), "pid": os.getpid(), "ppid": os.getppid(),
             "cwd": os.getcwd(), "argv": sys.argv, "stdin": stdin, "env": dict(os.environ)}
    with open(os.environ["PROBE_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\\n")
'''

_HOOK = """\
import json, sys
sys.path.insert(0, __import__("os").path.dirname(__file__))
from recorder import record
event = sys.argv[1]
raw = sys.stdin.read()
record(event, json.loads(raw) if raw.strip() else None)
if event == "SessionStart":
    print(json.dumps({"hookSpecificOutput": {"hookEventName": "SessionStart",
                                             "additionalContext": "PROBE-CONTEXT"}}))
"""

_SERVER = '''\
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "hooks"))
from recorder import record
from mcp.server.mcpserver import MCPServer

server = MCPServer("probe")

@server.tool()
def echo(text: str) -> str:
    """Return the text, prefixed, so a test can find it in the next request."""
    record("mcp-echo", {"text": text})
    return "ECHOED:" + text

record("mcp-start", None)
server.run()
'''

_COMMAND = """\
---
description: Greet the probe
---
PROBE-HELLO session=${CLAUDE_SESSION_ID} args=$ARGUMENTS
"""


def _hook(event: str) -> dict[str, Any]:
    command = f'"{sys.executable}" "${{CLAUDE_PLUGIN_ROOT}}/hooks/hook.py" {event}'
    return {"hooks": [{"type": "command", "command": command, "timeout": 20}]}


def write_probe_plugin(root: Path, *, always_load: bool = True) -> Path:
    """A minimal plugin `probe`: recording hooks, an MCP server with `echo`, `/probe:hello`.
    ``always_load``: its tools in every request (as our plugin has them), else deferred behind
    tool search on the versions that defer MCP tools."""
    (root / ".claude-plugin").mkdir(parents=True)
    (root / "hooks").mkdir()
    (root / "commands").mkdir()
    (root / ".claude-plugin" / "plugin.json").write_text(
        json.dumps({"name": "probe", "version": "0.0.1", "description": "harness probe"})
    )
    (root / "hooks" / "recorder.py").write_text(_RECORDER)
    (root / "hooks" / "hook.py").write_text(_HOOK)
    events = ["SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"]
    (root / "hooks" / "hooks.json").write_text(
        json.dumps({"hooks": {e: [_hook(e)] for e in events}})
    )
    (root / "server.py").write_text(_SERVER)
    server = {
        "command": sys.executable,
        "args": ["${CLAUDE_PLUGIN_ROOT}/server.py"],
        "alwaysLoad": always_load,
    }
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": {"probe": server}}))
    (root / "commands" / "hello.md").write_text(_COMMAND)
    return root


class Probe:
    """One test's world: a git project, a probe plugin, a fake API, and where records land."""

    def __init__(self, tmp_path: Path, config_dir: Path, *, always_load: bool = True) -> None:
        self.project = make_repo(tmp_path / "project")
        self.plugin = write_probe_plugin(tmp_path / "probe-plugin", always_load=always_load)
        self.config_dir = config_dir
        self.home = config_dir.parent
        self.log = tmp_path / "probe-log.jsonl"
        self.api: FakeAnthropic | None = None

    def serve(self, *script: Any) -> FakeAnthropic:
        self.api = FakeAnthropic(script).start()
        return self.api

    def kwargs(self) -> dict[str, Any]:
        assert self.api is not None
        return {
            "cwd": self.project,
            "config_dir": self.config_dir,
            "home": self.home,
            "base_url": self.api.base_url,
            "plugin_dir": self.plugin,
            "allowed_tools": [ECHO_TOOL],
            "env": {"PROBE_LOG": str(self.log)},
        }

    def run(self, prompt: str) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = run_claude(prompt, timeout=60, **self.kwargs())
        self.wall = time.monotonic() - started
        assert result.returncode == 0, (
            f"claude failed ({result.returncode}): {result.stderr}{result.stdout}\n"
            f"{mcp_logs(self.home)}"
        )
        return result

    def records(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        entries = [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]
        return [e for e in entries if event is None or e["event"] == event]


@pytest.fixture
def probe(tmp_path: Path, isolated_home: Path, claude_bin: Path) -> Iterator[Probe]:
    world = Probe(tmp_path, isolated_home)
    yield world
    if world.api is not None:
        world.api.close()
        assert not world.api.errors, world.api.errors


@requires_claude
@pytest.mark.claude_code
class TestRealClient:
    """The real `claude -p` with the probe plugin, against the scripted API."""

    def test_session_start_context_reaches_first_request(self, probe: Probe) -> None:
        api = probe.serve(text("hello"))
        result = probe.run("hi")
        assert "hello" in result.stdout
        first = api.turn_requests[0]
        assert "PROBE-CONTEXT" in request_text(first)
        assert probe.records("SessionStart")[0]["stdin"]["source"] == "startup"

    def test_plugin_command_expands_with_session_id_and_arguments(self, probe: Probe) -> None:
        api = probe.serve(text("hi back"))
        probe.run("/probe:hello world")
        session_id = probe.records("SessionStart")[0]["stdin"]["session_id"]
        seen = request_text(api.turn_requests[0])
        assert f"PROBE-HELLO session={session_id} args=world" in seen
        assert "${CLAUDE_SESSION_ID}" not in seen

    def test_scripted_tool_call_runs_on_plugin_mcp_server_and_result_returns(
        self, probe: Probe
    ) -> None:
        api = probe.serve(tool_use(ECHO_TOOL, {"text": "ping-42"}), text("echo worked"))
        result = probe.run("please echo")
        assert ECHO_TOOL in tool_names(api.turn_requests[0])
        results = tool_results(api.turn_requests[1])
        assert len(results) == 1 and results[0].get("is_error") is not True
        # The model is shown the tool's structured output, not its text content.
        assert json.loads(results[0]["content"]) == {"result": "ECHOED:ping-42"}
        assert [r["stdin"]["text"] for r in probe.records("mcp-echo")] == ["ping-42"]
        assert "echo worked" in result.stdout

    def test_a_deferred_tool_is_loaded_through_tool_search_before_it_is_called(
        self, tmp_path: Path, isolated_home: Path, claude_bin: Path
    ) -> None:
        """Without ``alwaysLoad`` the versions that defer MCP tools list the tool by name only;
        the scripted model loads it with ``ToolSearch`` first, as a real model must."""
        probe = Probe(tmp_path, isolated_home, always_load=False)
        with probe.serve(tool_use(ECHO_TOOL, {"text": "late"}), text("ok")) as api:
            probe.run("please echo")
        first, *_ = api.turn_requests
        if screen().defers_mcp_tools:
            assert ECHO_TOOL not in tool_names(first) and ECHO_TOOL in request_text(first)
            assert api.tool_searches == [ECHO_TOOL]
            assert ECHO_TOOL in tool_names(api.turn_requests[1])
        else:
            assert ECHO_TOOL in tool_names(first) and api.tool_searches == []
        assert [r["stdin"]["text"] for r in probe.records("mcp-echo")] == ["late"]
        assert len(api.turn_requests) == 2 + len(api.tool_searches)
        assert not api.errors

    def test_tool_input_can_be_chosen_from_what_the_model_saw(self, probe: Probe) -> None:
        def echo_session_id(body: dict[str, Any]) -> Any:
            line = next(ln for ln in request_text(body).splitlines() if "PROBE-HELLO" in ln)
            return tool_use(ECHO_TOOL, {"text": line.split("session=")[1].split()[0]})

        probe.serve(echo_session_id, text("ok"))
        probe.run("/probe:hello again")
        session_id = probe.records("SessionStart")[0]["stdin"]["session_id"]
        assert [r["stdin"]["text"] for r in probe.records("mcp-echo")] == [session_id]

    def test_transcript_is_written_under_config_dir_with_usage(self, probe: Probe) -> None:
        step = tool_use(ECHO_TOOL, {"text": "t"}, preamble="Let me echo.")
        api = probe.serve(step, text("fin"))
        probe.run("go")
        session_id = probe.records("SessionStart")[0]["stdin"]["session_id"]
        [transcript] = transcripts(probe.config_dir)
        assert transcript.parent.parent == probe.config_dir / "projects"
        assert transcript.name == f"{session_id}.jsonl"
        lines = [json.loads(line) for line in transcript.read_text().splitlines()]
        assistant = [ln for ln in lines if ln.get("type") == "assistant"]
        sent = {r.message_id: r for r in api.responses if not r.side}
        # One line per content block: the two-block message is written twice, same id and usage,
        # which is why token accounting must count each (message id, request id) once.
        ids = [ln["message"]["id"] for ln in assistant]
        assert sorted(ids) == sorted([*sent, next(iter(sent))])
        for line in assistant:
            response = sent[line["message"]["id"]]
            usage = line["message"]["usage"]
            assert usage["input_tokens"] == response.usage.input_tokens
            assert usage["output_tokens"] == response.usage.output_tokens
            assert usage["cache_read_input_tokens"] == response.usage.cache_read_input_tokens
            assert line["requestId"] == response.request_id

    def test_hooks_fire_in_order_and_session_end_gets_reason(self, probe: Probe) -> None:
        probe.serve(text("bye"))
        probe.run("hi")
        events = [r["event"] for r in probe.records() if not r["event"].startswith("mcp-")]
        assert events == ["SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"]
        end = probe.records("SessionEnd")[0]["stdin"]
        assert end["reason"] == "other"
        assert end["session_id"] == probe.records("SessionStart")[0]["stdin"]["session_id"]
        assert live_sessions(probe.config_dir) == []  # a clean exit removes sessions/<pid>.json

    def test_a_stale_resume_tells_session_start_what_re_caching_costs(self, probe: Probe) -> None:
        """2.1.332 tells SessionStart, on resume, how long ago the last answer came and what
        re-caching the prompt costs (what ``edges/hooks/resumed.py`` reads); 2.1.197 does not."""
        probe.serve(text("first"), text("again"))
        probe.run("hi")
        session_id = probe.records("SessionStart")[0]["stdin"]["session_id"]
        [transcript] = transcripts(probe.config_dir)
        three_hours_ago = (datetime.now(timezone.utc) - timedelta(hours=3)).isoformat()
        lines = [json.loads(line) for line in transcript.read_text().splitlines()]
        for line in lines:
            if "timestamp" in line:
                line["timestamp"] = three_hours_ago.replace("+00:00", "Z")
        transcript.write_text("".join(json.dumps(line) + "\n" for line in lines))
        run_claude("more", timeout=60, extra_args=["--resume", session_id], **probe.kwargs())
        resumed = probe.records("SessionStart")[-1]["stdin"]
        assert resumed["source"] == "resume"
        if running_version() == OLDEST:
            assert "prompt_cache_likely_expired" not in resumed
            return
        assert resumed["prompt_cache_likely_expired"] is True, resumed
        assert 3 * 3600 - 60 < resumed["seconds_since_last_response"] < 3 * 3600 + 600
        assert resumed["context_tokens"] > 0 and resumed["estimated_cache_write_usd"] > 0

    def test_killed_client_leaves_session_start_record_and_transcript(self, probe: Probe) -> None:
        api = probe.serve(tool_use(ECHO_TOOL, {"text": "before-kill"}), hold())
        process = start_claude("work then die", **probe.kwargs())
        try:
            api.wait_for_turns(2, timeout=30)  # the second turn hangs: the client is mid-turn
            # The transcript is flushed asynchronously, some 0.5 s after the lines are made.
            transcript = wait_for(lambda: _transcript_holding(probe.config_dir, "tool_result"))
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
        assert process.returncode == -signal.SIGKILL
        [start] = probe.records("SessionStart")
        assert not probe.records("SessionEnd") and not probe.records("Stop")
        assert transcript == Path(start["stdin"]["transcript_path"])
        [left] = live_sessions(probe.config_dir)
        assert left["pid"] == process.pid and left["sessionId"] == start["stdin"]["session_id"]


def _transcript_holding(config_dir: Path, needle: str) -> Path | None:
    found = transcripts(config_dir)
    return found[0] if found and needle in found[0].read_text() else None


class TestFakeAnthropic:
    """The scripted API on its own, through a plain HTTP client."""

    def test_side_request_without_tools_does_not_consume_a_turn(self) -> None:
        with FakeAnthropic([text("scripted")]) as api:
            side = _post(api, {"messages": [{"role": "user", "content": "title?"}]})
            turn = _post(api, {"messages": [], "tools": [{"name": "x"}]})
            after = _post(api, {"messages": [], "tools": [{"name": "x"}]})
        assert side["content"][0]["text"] != "scripted"
        assert turn["content"] == [{"type": "text", "text": "scripted"}]
        assert after["content"][0]["text"] == "done" and after["stop_reason"] == "end_turn"
        assert len(api.side_requests) == 1 and len(api.turn_requests) == 2

    def test_streamed_tool_use_reassembles_to_the_scripted_input(self) -> None:
        with FakeAnthropic([tool_use("echo", {"text": 'a "quoted" ünïcode'})]) as api:
            reply = httpx.post(
                f"{api.base_url}/v1/messages?beta=true",
                json={"stream": True, "messages": [], "tools": [{"name": "echo"}]},
            )
        events = _sse(reply.text)
        names = [name for name, _ in events]
        assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
        partial = "".join(
            d["delta"]["partial_json"] for n, d in events if n == "content_block_delta"
        )
        assert json.loads(partial) == {"text": 'a "quoted" ünïcode'}
        assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
        assert reply.headers["request-id"] == api.responses[0].request_id

    def test_ids_are_unique_and_usage_is_reported(self) -> None:
        with FakeAnthropic() as first, FakeAnthropic() as second:
            replies = [
                _post(api, {"messages": [], "tools": [{"name": "x"}]})
                for api in (first, second, first)
            ]
        assert len({r["id"] for r in replies}) == 3
        assert all(r["id"].startswith("msg_") and r["usage"]["input_tokens"] > 0 for r in replies)

    def test_a_tool_offered_only_by_name_is_searched_once_then_called(self) -> None:
        deferred = {
            "messages": [{"role": "user", "content": "deferred tools:\nmcp__x__echo"}],
            "tools": [{"name": "ToolSearch"}],
        }

        def step(body: dict[str, Any]) -> Any:  # decided on the request that asked, once
            return tool_use("mcp__x__echo", {"text": body["messages"][-1]["content"][-4:]})

        with FakeAnthropic([step, text("end")]) as api:
            search = _post(api, deferred)
            searched = {"role": "assistant", "content": search["content"]}
            after = [*deferred["messages"], searched]
            tools = [{"name": "ToolSearch"}, {"name": "mcp__x__echo"}]
            loaded = _post(api, {"messages": after, "tools": tools})
            still = _post(api, {**deferred, "messages": after})
        [block] = search["content"]
        assert block["name"] == "ToolSearch"
        assert block["input"] == {"query": "select:mcp__x__echo"}
        assert loaded["content"][0]["name"] == "mcp__x__echo"
        assert loaded["content"][0]["input"] == {"text": "echo"}
        # searched already and still not offered: no second search (a real model would not loop)
        assert still["content"] == [{"type": "text", "text": "end"}]
        assert api.tool_searches == ["mcp__x__echo"]

    def test_callable_step_sees_the_request_body(self) -> None:
        with FakeAnthropic(
            [lambda body: text(f"you said {body['messages'][0]['content']}")]
        ) as api:
            reply = _post(
                api, {"messages": [{"role": "user", "content": "xyzzy"}], "tools": [{"name": "x"}]}
            )
        assert reply["content"][0]["text"] == "you said xyzzy"

    def test_broken_step_and_unknown_route_are_reported(self) -> None:
        with FakeAnthropic([_broken_step]) as api:
            broken = httpx.post(f"{api.base_url}/v1/messages", json={"messages": [], "tools": [{}]})
            unknown = httpx.get(f"{api.base_url}/v1/nowhere")
            counted = httpx.post(f"{api.base_url}/v1/messages/count_tokens", json={"messages": []})
        assert broken.status_code == 400 and unknown.status_code == 404
        assert counted.json()["input_tokens"] > 0
        assert len(api.errors) == 2

    def test_held_turn_answers_once_released(self) -> None:
        with FakeAnthropic([hold()]) as api:
            results: list[httpx.Response] = []
            worker = threading.Thread(
                target=lambda: results.append(
                    httpx.post(
                        f"{api.base_url}/v1/messages",
                        json={"messages": [], "tools": [{}]},
                        timeout=10,
                    )
                )
            )
            worker.start()
            api.wait_for_turns(1, timeout=5)
            time.sleep(0.2)
            assert not results
            api.release()
            worker.join(timeout=5)
        assert results[0].json()["content"][0]["text"] == "done"


def _broken_step(body: dict[str, Any]) -> Any:
    raise ValueError("a test's step picked something that is not there")


def _post(api: FakeAnthropic, body: dict[str, Any]) -> dict[str, Any]:
    reply = httpx.post(f"{api.base_url}/v1/messages", json=body, timeout=10)
    reply.raise_for_status()
    result: dict[str, Any] = reply.json()
    return result


def _sse(raw: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for chunk in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events
