"""What differs between the Claude Code versions of the window, as the tests see it (the
interactive screen, tool deferral): the one place the tests read it from (a new version's
differences go here, nowhere else)."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.claude_code import WINDOW, running_version


@dataclass(frozen=True)
class Screen:
    """Texts one version draws."""

    #: the footer under an empty input box: the client waits for typing
    idle: str
    #: how the slash-command menu describes the built-in `/resume` (a session picker)
    builtin_resume: str
    #: MCP tools are named in a system message and loaded through ``ToolSearch`` (unless the
    #: server is ``alwaysLoad``), also against the scripted API's base URL
    defers_mcp_tools: bool


SCREENS: dict[str, Screen] = {
    "2.1.197": Screen(
        idle="? for shortcuts",
        builtin_resume="Resume a previous conversation",
        defers_mcp_tools=False,
    ),
    # auto mode became the default permission mode; its footer replaced the shortcuts hint
    "2.1.332": Screen(
        idle="(shift+tab to cycle)",
        builtin_resume="Resume a previous session",
        defers_mcp_tools=True,
    ),
}
assert set(SCREENS) == set(WINDOW), "every version of the window says what it shows"


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def screen(version: str | None = None) -> Screen:
    """The texts of ``version`` (default: the binary the running test drives); a version
    outside the window is read as the newest of the window not newer than it."""
    wanted = _key(version or running_version())
    known = [v for v in sorted(SCREENS, key=_key) if _key(v) <= wanted]
    return SCREENS[known[-1] if known else WINDOW[0]]
