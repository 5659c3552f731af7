"""``base/text.py``'s property, end to end: odd text never breaks a flow (redteam M5, M6, M8):
lone surrogates, absurd nesting and absurd reminder values get a clear refusal or are cleaned,
through the real CLI, MCP server and hook."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from claude_session.base.text import MAX_DEPTH
from claude_session.edges.mcp.inputs import RESULTS_DEPTH
from claude_session.edges.mcp.stdio import screen
from helpers.gitrepo import git, make_remote, make_repo
from helpers.hookrun import hook_argv

ROOT = Path(__file__).resolve().parents[2]
SERVER = str(ROOT / "server")
INIT = {
    "protocolVersion": "2025-06-18",
    "capabilities": {},
    "clientInfo": {"name": "odd-text", "version": "0"},
}
FFFD = "\ufffd"
LONE = "\ud800"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "odd")
    make_remote(r, tmp_path / "remote.git")
    return r


def run_cli(*args: str | bytes, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI as a process; bytes arguments reach it undecoded, as a shell would pass them."""
    env = {**os.environ, "PYTHONPATH": SERVER}
    return subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        timeout=60,
    )


def cli_json(*args: str | bytes, cwd: Path) -> dict[str, Any]:
    proc = run_cli(*args, "--json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def ledger_text(home: Path, sid: str) -> str:
    raw = (home / "claude-session" / "ledger" / f"{sid}.json").read_bytes()
    return raw.decode("utf-8")  # strict: the file is valid UTF-8


# --- M5: the MCP server answers every request, whatever its text ----------------------------


class RawServer:
    """`claude-session mcp` as a process, spoken to in raw JSON-RPC lines."""

    def __init__(self, cwd: Path) -> None:
        env = {**os.environ, "PYTHONPATH": SERVER}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "claude_session.edges.cli", "mcp"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.answers: dict[Any, dict[str, Any]] = {}

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def request(self, ident: Any, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.send(json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params}))
        return self.answer(ident)

    def answer(self, ident: Any, timeout: float = 60.0) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while ident not in self.answers:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
            assert ready, f"no answer to request {ident!r} within {timeout} s"
            line = self.proc.stdout.readline()
            assert line, "the server closed stdout"
            message = json.loads(line)
            if "id" in message:
                self.answers[message["id"]] = message
        return self.answers.pop(ident)

    def close(self) -> str:
        stderr = ""
        try:
            _, err = self.proc.communicate(timeout=20)
            stderr = err.decode("utf-8", "replace")
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return stderr


def tool_call(name: str, arguments_json: str, ident: Any) -> str:
    """A tools/call line with the arguments as raw JSON text (escapes kept as written)."""
    return (
        f'{{"jsonrpc": "2.0", "id": {json.dumps(ident)}, "method": "tools/call", '
        f'"params": {{"name": "{name}", "arguments": {arguments_json}}}}}'
    )


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_M5_lone_surrogates_and_deep_nesting_always_get_an_answer_over_stdio(
    repo: Path, isolated_home: Path
) -> None:
    cwd = json.dumps(str(repo))
    server = RawServer(repo)
    try:
        init = server.request(1, "initialize", INIT)
        assert "result" in init, init
        server.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        # The SDK's claim on fd 0 is kept: a child process cannot read the protocol.
        assert os.readlink(f"/proc/{server.proc.pid}/fd/0") == os.devnull

        args = f'{{"cwd": {cwd}, "session_id": "odd-1"}}'
        server.send(tool_call("start_session", args, 2))
        assert server.answer(2)["result"]["structuredContent"]["status"] == "ready"

        # A lone surrogate (a valid JSON escape) in the summary: cleaned, not dropped.
        args = (
            f'{{"cwd": {cwd}, "session_id": "odd-1", "summary": "x \\ud800 y", '
            f'"next_steps": ["a \\udfff b"], "note": "\\udc80"}}'
        )
        server.send(tool_call("pause_session", args, 3))
        paused = server.answer(3)["result"]
        assert not paused["isError"], paused
        context = Path(paused["structuredContent"]["context_file"]).read_text("utf-8")
        assert f"x {FFFD} y" in context and f"a {FFFD} b" in context

        # Nesting the SDK's parser gives up on (500 levels): a JSON-RPC error, at once.
        args = f'{{"cwd": {cwd}, "session_id": "odd-1", "command": "c", "status": "ok", '
        server.send(tool_call("record_maintenance_run", args + f'"results": {nested(500)}}}', 4))
        deep = server.answer(4)
        assert deep["error"]["code"] == -32600, deep
        assert f"deeper than {MAX_DEPTH} levels" in deep["error"]["message"]

        # Deeper than the standard library parses, with the id after the nesting.
        line = (
            f'{{"jsonrpc": "2.0", "method": "tools/call", "params": {{"name": '
            f'"record_maintenance_run", "arguments": {{"results": {nested(5000)}}}}}, '
            f'"id": "five"}}'
        )
        server.send(line)
        assert server.answer("five")["error"]["code"] == -32600

        # Within the tool's limit (what the tracker stores below a record), nesting is accepted.
        ok = args + f'"results": {nested(RESULTS_DEPTH)}}}'
        server.send(tool_call("record_maintenance_run", ok, 6))
        assert not server.answer(6)["result"]["isError"]

        # A surrogate as a dict key and in a commit message: the session still ends.
        args = f'{{"cwd": {cwd}, "session_id": "odd-1", "command": "scan", "status": "ok", '
        server.send(tool_call("record_maintenance_run", args + '"results": {"\\ud83d": 1}}', 7))
        assert not server.answer(7)["result"]["isError"]
        (repo / "work.txt").write_text("work\n")
        args = (
            f'{{"cwd": {cwd}, "session_id": "odd-1", "summary": "done \\ud800", '
            f'"commit_message": "Odd \\udfff text", "push": false}}'
        )
        server.send(tool_call("end_session", args, 8))
        ended = server.answer(8)["result"]
        assert not ended["isError"], ended
        assert ended["structuredContent"]["status"] == "ended"
    finally:
        stderr = server.close()
    assert git(repo, "log", "-1", "--format=%s") == f"Odd {FFFD} text"
    assert "refused: nested deeper" in stderr  # the refusals are logged, not silent


def test_M5_screen_passes_plain_lines_through_untouched() -> None:
    line = '{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"s": "\\ud83d\\ude00"}}'
    assert screen(line) == (line, None)  # a valid surrogate pair is not "odd"
    assert screen("not json") == ("not json", None)  # the SDK ignores it, as before
    forward, reply = screen(
        '{"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"\\udc00": 1}}'
    )
    assert reply is None and forward is not None
    assert json.loads(forward)["params"] == {FFFD: 1}
    notification = f'{{"jsonrpc": "2.0", "method": "x", "params": {{"a": {nested(300)}}}}}'
    assert screen(notification) == (None, None)  # nothing to answer a notification with


# --- M6: reminder values within range, whatever is asked or stored --------------------------


def test_M6_cli_refuses_absurd_reminder_values_with_the_range(repo: Path) -> None:
    for every in ("1000000000000000000", "0", "-5", "1441", "1e21", "nan", "inf", "2.5"):
        proc = run_cli("remind", "on", "--every", every, cwd=repo)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "from 1 to 1440" in proc.stderr and "Traceback" not in proc.stderr
    for dirty in ("10001", "0"):
        proc = run_cli("remind", "on", "--dirty-files", dirty, cwd=repo)
        assert proc.returncode == 2 and "from 1 to 10000" in proc.stderr, proc.stderr
    # Nothing was stored by the refusals; a value in range still works.
    assert cli_json("remind", "status", cwd=repo)["settings"]["enabled"] is False
    on = cli_json("remind", "on", "--every", "1440", "--dirty-files", "10000", cwd=repo)
    assert on["settings"] == {"enabled": True, "every_minutes": 1440, "dirty_files": 10000}


def test_M6_mcp_refuses_absurd_reminder_values_with_the_range(repo: Path) -> None:
    cwd = json.dumps(str(repo))
    server = RawServer(repo)
    try:
        server.request(1, "initialize", INIT)
        server.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        cases = {
            "every_minutes": ("1000000000000000000", "1e21", "1441", "0", "-3", "NaN"),
            "dirty_files": ("1000000", "0"),
        }
        ident = 1
        for field, values in cases.items():
            for value in values:
                ident += 1
                args = f'{{"action": "on", "cwd": {cwd}, "{field}": {value}}}'
                server.send(tool_call("set_reminder", args, ident))
                result = server.answer(ident)["result"]
                text = result["content"][0]["text"]
                assert result["isError"], (value, text)
                assert field in text and "Traceback" not in text, text
                if value.lstrip("-").isdigit() and int(value) > 1:
                    assert "from 1 to 1440" in text or "from 1 to 10000" in text, text
        server.send(tool_call("set_reminder", f'{{"cwd": {cwd}}}', "status"))
        status = server.answer("status")["result"]["structuredContent"]
    finally:
        server.close()
    assert status["settings"] == {"enabled": False, "every_minutes": 30, "dirty_files": 10}


def test_M6_a_stored_absurd_value_never_makes_the_hook_warn_on_every_prompt(
    repo: Path, isolated_home: Path
) -> None:
    state = {
        "version": 1,
        "default": {"every_minutes": float("nan"), "dirty_files": "many"},
        "projects": {str(repo): {"enabled": True, "every_minutes": 10**18, "dirty_files": -5}},
        "last_reminded": {},
    }
    (isolated_home / "remind-state.json").write_text(json.dumps(state))  # NaN: Python's JSON
    (repo / "dirty.txt").write_text("x\n")
    outputs = []
    for _ in range(3):
        proc = subprocess.run(
            hook_argv("UserPromptSubmit"),
            input=json.dumps(
                {
                    "session_id": "hook-odd",
                    "cwd": str(repo),
                    "hook_event_name": "UserPromptSubmit",
                    "prompt": "hi",
                }
            ),
            capture_output=True,
            text=True,
            cwd=repo,
            timeout=30,
        )
        assert proc.returncode == 0, proc.stderr
        assert "failed" not in proc.stdout and "Error" not in proc.stdout, proc.stdout
        outputs.append(json.loads(proc.stdout) if proc.stdout.strip() else None)
    # dirty_files -5 reads as 1 and every 10**18 as a day: one reminder, then quiet.
    assert outputs[0] is not None
    assert "1 uncommitted files" in outputs[0]["hookSpecificOutput"]["additionalContext"]
    # the person's line is the reminder itself, never a warning
    assert outputs[0]["systemMessage"].startswith("claude-session: 1 uncommitted files")
    assert outputs[1:] == [None, None]
    status = cli_json("remind", "status", cwd=repo)
    assert status["settings"] == {"enabled": True, "every_minutes": 1440, "dirty_files": 1}


# --- M8: lone surrogates from the command line are cleaned where they enter -----------------


def test_M8_surrogates_through_the_cli_then_pause_and_end_work(
    repo: Path, isolated_home: Path
) -> None:
    sid = cli_json("start", cwd=repo)["session_id"]
    results = '{"x": "bad \\ud800 surrogate", "\\udfff": ["\\udc80"]}'  # valid JSON escapes
    run = cli_json(
        "maintenance",
        "--command",
        "audit",
        "--status",
        "ok",
        "--results",
        results,
        "--notes",
        b"note \xff",
        cwd=repo,
    )["run"]
    assert run["results"] == {"x": f"bad {FFFD} surrogate", FFFD: [FFFD]}
    assert run["notes"] == f"note {FFFD}"
    assert FFFD in json.loads(ledger_text(isolated_home, sid))["maintenance_runs"][0]["notes"]

    paused = cli_json("pause", "--summary", b"half \xed\xa0\x80 way", "--next", b"\xff", cwd=repo)
    assert f"half {FFFD}" in Path(paused["context_file"]).read_text("utf-8")
    cli_json("resume", cwd=repo)
    (repo / "feature.txt").write_text("feature\n")
    ended = cli_json("end", "--summary", b"done \xff", "-m", b"Feature \xed\xb0\x80", cwd=repo)
    assert ended["status"] == "ended"
    assert git(repo, "log", "-1", "--format=%s").startswith(f"Feature {FFFD}")
    history = cli_json("history", cwd=repo)
    assert any(FFFD in json.dumps(item, ensure_ascii=False) for item in history["records"])


def test_M8_a_surrogate_stored_by_an_older_version_no_longer_blocks_pause_and_end(
    repo: Path, isolated_home: Path
) -> None:
    sid = cli_json("start", cwd=repo)["session_id"]
    cli_json(
        "maintenance", "--command", "audit", "--status", "ok", "--results", '{"x": "y"}', cwd=repo
    )
    entry = isolated_home / "claude-session" / "ledger" / f"{sid}.json"
    entry.write_text(entry.read_text().replace('"y"', '"\\ud800"'))  # as the old CLI stored it
    assert cli_json("pause", "--summary", "s", cwd=repo)["session_id"] == sid
    assert cli_json("end", "--summary", "s", cwd=repo)["status"] == "ended"


def test_M8_too_deep_results_are_refused_with_a_message(repo: Path) -> None:
    cli_json("start", cwd=repo)
    for levels in (MAX_DEPTH + 1, 5000):
        proc = run_cli(
            "maintenance", "--command", "a", "--status", "ok", "--results", nested(levels), cwd=repo
        )
        assert proc.returncode == 2 and f"deeper than {MAX_DEPTH} levels" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_M8_a_claude_ai_answer_with_undecodable_bytes_is_received(repo: Path) -> None:
    cli_json("start", cwd=repo)
    cli_json("pause", "--summary", "s", "--handoff", cwd=repo)
    proc = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "handoff", "receive", "--json"],
        cwd=repo,
        input=b'answer \xff \xed\xa0\x80 {"summary": "\\ud800"}',
        capture_output=True,
        env={**os.environ, "PYTHONPATH": SERVER},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    started = cli_json("start", cwd=repo)
    assert started["status"] == "ready"


def test_M8_state_files_are_written_even_with_a_lone_surrogate(tmp_path: Path) -> None:
    from claude_session.base.statefile import StateFile, atomic_write

    atomic_write(tmp_path / "a.md", f"x {LONE} y")
    assert (tmp_path / "a.md").read_text("utf-8") == f"x {FFFD} y"
    state = StateFile(tmp_path / "s.json")
    with state.update() as data:
        data[LONE] = [f"v{LONE}"]
    assert state.read()[FFFD] == [f"v{FFFD}"]
