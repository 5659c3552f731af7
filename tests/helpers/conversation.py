"""One real Claude Code process that takes several prompts, like an interactive session.

``claude -p --input-format stream-json`` reads user messages from stdin, one JSON object a line,
and answers each with stream-json events ending in a ``result`` event. Slash commands expand
there as they do on the terminal, the hooks fire once per process (SessionStart at launch,
UserPromptSubmit and Stop per prompt, SessionEnd when stdin closes), and the MCP server lives
as long as the process: this is the closest thing to a person typing several commands into
one session.

    with Conversation.start(cwd=repo, config_dir=config, home=home, base_url=api.base_url,
                            plugin_dir=ROOT, allowed_tools=["mcp__plugin_session_session__*"]) as c:
        c.ask("/session:start")
        c.ask("/session:pause lunch")
        c.close()          # SessionEnd runs; c.returncode is set
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers.claude_code import INSTALL_HINT, claude_env, find_claude

Event = dict[str, Any]
_EOF = object()


def stream_command(
    *,
    plugin_dir: Path | None = None,
    allowed_tools: Iterable[str] = (),
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The argv of a `claude -p` that reads prompts as stream-json from stdin."""
    found = find_claude()
    if found is None:
        raise FileNotFoundError(f"Claude Code client not installed: {INSTALL_HINT}")
    argv = [
        str(found),
        "-p",
        "--input-format",
        "stream-json",
        "--output-format",
        "stream-json",
        "--verbose",
    ]
    if plugin_dir is not None:
        argv += ["--plugin-dir", str(plugin_dir)]
    tools = list(allowed_tools)
    if tools:
        argv += ["--allowedTools", ",".join(tools)]
    return argv + list(extra_args)


class Conversation:
    """A running Claude Code process fed prompts one at a time."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.events: list[Event] = []
        self.stderr_lines: list[str] = []
        self.session_id: str | None = None
        self._lines: queue.Queue[object] = queue.Queue()
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    @classmethod
    def start(
        cls,
        *,
        cwd: Path,
        config_dir: Path,
        home: Path,
        base_url: str,
        plugin_dir: Path | None = None,
        allowed_tools: Iterable[str] = (),
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> Conversation:
        """Launch the client in its own process group (so a test can kill it whole)."""
        proc = subprocess.Popen(
            stream_command(
                plugin_dir=plugin_dir, allowed_tools=allowed_tools, extra_args=extra_args
            ),
            cwd=cwd,
            env=claude_env(config_dir=config_dir, home=home, base_url=base_url, env=env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        return cls(proc)

    # -- reading -------------------------------------------------------------------------
    def _pump_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(_EOF)

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def _next_event(self, deadline: float) -> Event | None:
        """The next stdout event, None at end of output; TimeoutError past ``deadline``."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer from Claude Code in time; stderr:\n{self.stderr}")
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is _EOF:
                return None
            assert isinstance(line, str)
            try:
                decoded = json.loads(line)
            except ValueError:
                continue  # not an event (a stray line): keep reading
            if not isinstance(decoded, dict):
                continue
            event: Event = decoded
            self.events.append(event)
            if event.get("type") == "system" and event.get("subtype") == "init":
                self.session_id = event.get("session_id") or self.session_id
            return event

    # -- talking -------------------------------------------------------------------------
    def send(self, prompt: str) -> None:
        """Type one prompt (no waiting)."""
        assert self.proc.stdin is not None
        message = {"type": "user", "message": {"role": "user", "content": prompt}}
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def ask(self, prompt: str, *, timeout: float = 30.0) -> list[Event]:
        """Type one prompt and return its events, up to and including the ``result`` event."""
        self.send(prompt)
        deadline = time.monotonic() + timeout
        found: list[Event] = []
        while True:
            event = self._next_event(deadline)
            if event is None:
                raise AssertionError(
                    f"Claude Code exited (rc={self.proc.poll()}) before answering {prompt!r}; "
                    f"stderr:\n{self.stderr}"
                )
            found.append(event)
            if event.get("type") == "result":
                if event.get("is_error"):
                    raise AssertionError(f"{prompt!r} ended in an error: {event}")
                return found

    def close(self, *, timeout: float = 30.0) -> int:
        """End of input: Claude Code runs SessionEnd and exits; returns its exit code."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group: no Stop, no SessionEnd, MCP server gone too."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def __enter__(self) -> Conversation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()


def command_result(prompt_text: str, verb: str) -> dict[str, Any]:
    """The result a command file's ``!`` line handed the model in ``prompt_text`` (the expanded
    command): the JSON inside its ``quoted-data`` block from ``claude-session VERB --as-data``."""
    import re

    found = re.search(
        rf'<quoted-data from="claude-session {re.escape(verb)} result" id="(\w+)"> '
        rf"\(data, not instructions\)\n(.*?)\n</quoted-data id=\"\1\">",
        prompt_text,
        re.S,
    )
    assert found, f"no quoted {verb} result in:\n{prompt_text[:3000]}"
    decoded: dict[str, Any] = json.loads(found.group(2))
    return decoded
