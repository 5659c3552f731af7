"""End to end with the real Claude Code client used INTERACTIVELY: a terminal (tmux), keys typed
as a person types them, the screen read back.

``test_e2e_claude_code.py`` drives the client with ``-p`` and stream-json; this file checks
what only the interactive client does: it holds back the plugin's hooks until the workspace
is trusted, shows the slash-command menu, runs `/exit`, and owns built-in commands such as
`/resume`. Onboarding, the API-key question and the trust dialog are answered beforehand in
``$CLAUDE_CONFIG_DIR/.claude.json``, the way the client itself records them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.claude_code import (
    accept_onboarding_and_trust,
    claude_bin,
    claude_env,
    find_claude,
    live_sessions,
    mcp_logs,
    requires_claude,
    wait_for,
)
from helpers.claude_screens import screen
from helpers.conversation import command_result
from helpers.e2e_world import last_user_text
from helpers.fake_anthropic import (
    JSON,
    FakeAnthropic,
    Step,
    Turn,
    request_text,
    text,
    tool_results,
    tool_use,
)
from helpers.gitrepo import git, make_remote, make_repo
from helpers.quoted import unquoted
from helpers.tmux import Terminal, requires_tmux

__all__ = ["claude_bin"]  # the fixture, re-exported so pytest finds it here

pytestmark = [requires_claude, requires_tmux]

ROOT = Path(__file__).resolve().parents[2]
TOOL = "mcp__plugin_session_session__"
HOOK_CONTEXT = "SessionStart hook additional context:"
_SESSION_ID = re.compile(r'`session_id`:? "([^"]+)"')

SUMMARY = "The tokenizer handles quoted strings; escapes are half done in lexer.py."
NEXT_STEPS = ["Finish escape sequences", "Test unicode escapes"]


# --- what the scripted model reads ----------------------------------------------------------


def user_texts(body: JSON) -> list[str]:
    """The text blocks of the newest user message. Interactively, a system-role message
    follows it, and the expanded command is one of several blocks."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return [content]
        return [b.get("text", "") for b in content if isinstance(b, dict) and "text" in b]
    return []


def calls(tool: str, **args: Any) -> Callable[[JSON], Turn]:
    """A scripted step: call ``tool`` with the session id the expanded command text names."""

    def step(body: JSON) -> Turn:
        found = _SESSION_ID.findall("\n".join(user_texts(body)))
        if not found:
            raise ValueError("no `session_id` in the command text")
        return tool_use(f"{TOOL}{tool}", {"session_id": found[-1], **args})

    return step


def result_of(body: JSON) -> JSON:
    """The newest tool result of a request, decoded (Claude Code sends structured output)."""
    results = tool_results(body)
    assert results, "no tool_result in the request"
    content = results[-1]["content"]
    if isinstance(content, list):
        content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
    decoded = json.loads(content)
    assert isinstance(decoded, dict)
    return decoded


# --- the world of one test ------------------------------------------------------------------


class Desk:
    """A trusted project with a remote, the isolated Claude home, and interactive clients."""

    def __init__(self, tmp_path: Path, config_dir: Path) -> None:
        self.tmp = tmp_path
        self.repo = make_repo(tmp_path / "lexer")
        make_remote(self.repo, tmp_path / "remote" / "lexer.git")
        self.config = config_dir
        self.home = config_dir.parent
        self.count = 0
        self.timings: dict[str, float] = {}
        accept_onboarding_and_trust(config_dir, self.repo)

    def open(self, api: FakeAnthropic, *, plugin: bool = True) -> Terminal:
        """Start `claude` in a 200-column terminal and wait until it waits for typing."""
        binary = find_claude()
        assert binary is not None
        argv = [str(binary)]
        if plugin:
            argv += ["--plugin-dir", str(ROOT), "--allowedTools", f"{TOOL}*"]
        env = claude_env(config_dir=self.config, home=self.home, base_url=api.base_url)
        self.count += 1
        term = Terminal.start(
            argv, cwd=self.repo, env=env, socket_dir=self.tmp / "tmux", name=f"c{self.count}"
        )
        try:
            term.wait_for_text(screen().idle, timeout=30)
        except BaseException:
            term.close()  # not yet inside the caller's `with`: end it here
            raise
        return term

    def wait_for_mcp(self, connections: int, term: Terminal) -> None:
        """The interactive client connects MCP servers in the background: a tool call made
        before the plugin's server is up fails with "still connecting"."""
        try:
            wait_for(lambda: mcp_logs(self.home).count("Successfully connected") >= connections,
                     timeout=30)  # fmt: skip
        except TimeoutError:
            pytest.fail(f"MCP server not connected\n{mcp_logs(self.home)}\n{term.screen()}")

    def pause_state(self) -> JSON:
        path = self.config / "pause-state.json"
        if not path.exists():
            return {}
        projects = json.loads(path.read_text())["projects"]
        assert isinstance(projects, dict)
        return projects


@pytest.fixture
def desk(tmp_path: Path, isolated_home: Path, claude_bin: Path) -> Iterator[Desk]:
    yield Desk(tmp_path, isolated_home)


def screen_says(term: Terminal, api: FakeAnthropic) -> str:
    """What to print when a check failed: the last screen and the scripted API's errors."""
    return f"api errors: {api.errors}\nlast screen:\n{term.screen()}"


# --- the tests --------------------------------------------------------------------------------


def test_typed_pause_then_a_new_terminal_is_told_and_resume_returns_the_context(
    desk: Desk,
) -> None:
    """A person types `/session:pause lunch` and `/exit`; in a new terminal the model's first
    request carries the SessionStart hook's note about the paused session, and a typed
    `/session:resume` gives the saved context back."""
    pause = calls("pause_session", summary=SUMMARY, next_steps=NEXT_STEPS, note="lunch")
    with FakeAnthropic([pause, text("PAUSED-FOR-LUNCH")]) as a:
        started = time.monotonic()
        with desk.open(a) as first:
            desk.timings["first ready"] = time.monotonic() - started
            desk.wait_for_mcp(1, first)
            first.type_line("/session:pause lunch")
            first.wait_for_text("● PAUSED-FOR-LUNCH")
            [live] = live_sessions(desk.config)
            sid_a = str(live["sessionId"])
            entry = wait_for(lambda: desk.pause_state().get(str(desk.repo)), timeout=10)
            first.type_line("/exit")
            status = first.wait_for_exit()
            assert status == 0, screen_says(first, a)
        desk.timings["first"] = time.monotonic() - started
    assert not a.errors and len(a.turn_requests) == 2, screen_says(first, a)

    typed = "\n".join(user_texts(a.turn_requests[0]))
    assert "<command-name>/session:pause</command-name>" in typed
    assert "<command-args>lunch</command-args>" in typed
    assert f'`session_id` "{sid_a}"' in typed and "${CLAUDE_SESSION_ID}" not in typed
    paused = result_of(a.turn_requests[1])
    assert paused["status"] == "paused" and paused["session_id"] == sid_a, paused
    context_file = Path(paused["context_file"])
    saved = context_file.read_text()
    assert SUMMARY in saved and "lunch" in saved and NEXT_STEPS[0] in saved
    assert entry["session_id"] == sid_a and entry["context_file"] == str(context_file)
    assert entry["head"] == git(desk.repo, "rev-parse", "HEAD")

    # --- a new terminal in the same project --------------------------------------------------
    # /session:resume's ! line resumes: its result is in the prompt, no tool call
    script: list[Step] = [text("HELLO-BACK"), text("RESUMED-WORK")]
    with FakeAnthropic(script) as b:
        started = time.monotonic()
        with desk.open(b) as second:
            desk.timings["second ready"] = time.monotonic() - started
            second.type_line("hello")  # the hook's note rides on the first request
            second.wait_for_text("● HELLO-BACK")
            desk.wait_for_mcp(2, second)
            second.type_line("/session:resume")
            shown = second.wait_for_text("● RESUMED-WORK")
            assert len(b.turn_requests) == 2, screen_says(second, b)
            second.type_line("/exit")
            assert second.wait_for_exit() == 0, screen_says(second, b)
        desk.timings["second"] = time.monotonic() - started
    assert not b.errors, shown

    first_request = request_text(b.turn_requests[0])
    assert HOOK_CONTEXT in first_request, shown
    note = first_request[first_request.index(HOOK_CONTEXT) :]
    assert "paused" in note and "branch: main" in note and SUMMARY in note, note[:2000]
    assert "/session:resume" in note
    resumed = command_result(last_user_text(b.turn_requests[1]), "resume")
    assert resumed["status"] == "ready" and resumed["session_id"] != sid_a, resumed
    assert unquoted(resumed["context"]) == saved  # the saved context, whole, quoted
    entry = desk.pause_state()[str(desk.repo)]
    # the resumed session quit without /end: its own note (issue 13) replaced the resumed pause
    assert entry["unended"] is True and entry["session_id"] == resumed["session_id"], entry
    print("wall: " + ", ".join(f"{k} {v:.1f} s" for k, v in desk.timings.items()))


def test_typed_resume_runs_the_users_own_resume_command_not_the_builtin_picker(
    desk: Desk,
) -> None:
    """Who owns `/resume` in the interactive client when `~/.claude/commands/resume.md` exists:
    the menu lists the user's command first, so Enter expands it (2.1.197). This is why the
    classic install writes `resume-session.md` rather than shadowing the built-in."""
    commands = desk.config / "commands"
    commands.mkdir()
    (commands / "resume.md").write_text(
        "---\ndescription: The user's own resume\n---\nUSER-RESUME-BODY $ARGUMENTS\n"
    )
    with FakeAnthropic([text("ANSWERED-USER-RESUME")]) as api, desk.open(api, plugin=False) as term:
        term.type("/resume")
        menu = term.wait_for_text("The user's own resume (user)")
        term.press("Enter")
        shown = term.wait_for_text("● ANSWERED-USER-RESUME")
        term.type_line("/exit")
        assert term.wait_for_exit() == 0, screen_says(term, api)
    assert menu.index("The user's own resume (user)") < menu.index(screen().builtin_resume), menu
    assert len(api.turn_requests) == 1, shown
    assert "USER-RESUME-BODY" in "\n".join(user_texts(api.turn_requests[0])), shown
