"""The slash commands agree with the MCP server they drive.

A command file is a prompt: if it names a tool, a parameter or a result field the server does
not have, the model is told to do something impossible and nobody notices until a user types
the command. These tests read `commands/*.md` and compare them with the server's own tool list
(built in process and listed with the mcp package's client).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from claude_session.edges.mcp.server import build_server
from claude_session.edges.wiring import PLUGIN_CLI

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ROOT / "commands"
EXPECTED = {"start", "pause", "resume", "end", "remind", "handoff", "import"}
SESSION_ID = '"${CLAUDE_SESSION_ID}"'
# `--wip-commit` is the long spelling of `--wip`, which the hint shows.
FLAG_ALIASES = {"--wip-commit"}


@dataclass(frozen=True)
class Command:
    name: str
    meta: dict[str, str]
    body: str

    @property
    def allowed_tools(self) -> list[str]:
        return [t for t in self.permissions if not t.startswith("Bash(")]

    @property
    def permissions(self) -> list[str]:
        """``allowed-tools``: names, and ``Bash(...)`` rules (a pattern in parentheses)."""
        return re.findall(r"[^,\s(]+(?:\([^)]*\))?", self.meta.get("allowed-tools", ""))

    @property
    def bang_lines(self) -> list[str]:
        """The commands of its ``!`` lines (run by Claude Code before the model's request)."""
        return re.findall(r"^!`([^`]*)`$", self.body, re.M)

    @property
    def body_tools(self) -> set[str]:
        return set(re.findall(r"\bmcp__[A-Za-z0-9_]+", self.body))


def parse_command(path: Path) -> Command:
    """Front matter (simple `key: value` lines between `---`) and body."""
    text = path.read_text("utf-8")
    match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    assert match, f"{path.name}: no front matter"
    meta: dict[str, str] = {}
    key = ""
    for line in match.group(1).splitlines():
        if line.startswith("  - ") and key:  # an item of a YAML list: joined to its key's value
            meta[key] = ", ".join(filter(None, [meta[key], line[4:].strip()]))
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        assert sep, f"{path.name}: front matter line without a colon: {line!r}"
        meta[key] = value.strip().strip('"').strip("'")
    return Command(path.stem, meta, match.group(2))


def all_commands() -> list[Command]:
    return [parse_command(p) for p in sorted(COMMANDS.glob("*.md"))]


def tool_prefix() -> str:
    """`mcp__plugin_<plugin>_<server>__`, from the plugin manifest and its .mcp.json."""
    plugin = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text())["name"]
    [server] = json.loads((ROOT / ".mcp.json").read_text())["mcpServers"]
    return f"mcp__plugin_{plugin}_{server}__"


@pytest.fixture(scope="module")
def server_tools() -> dict[str, Any]:
    """The server's tools by name, as an MCP client lists them."""
    import anyio

    async def listing() -> dict[str, Any]:
        async with Client(build_server()) as client:
            return {t.name: t for t in (await client.list_tools()).tools}

    return anyio.run(listing)


@pytest.fixture(params=sorted(p.stem for p in COMMANDS.glob("*.md")))
def command(request: pytest.FixtureRequest) -> Command:
    return parse_command(COMMANDS / f"{request.param}.md")


def schema_words(schema: Any) -> Iterator[str]:
    """Every property name and enum/const value anywhere in a JSON schema."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                yield from value
            if key == "enum" and isinstance(value, list):
                yield from (str(v) for v in value)
            if key == "const":
                yield str(value)
            yield from schema_words(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from schema_words(item)


def local_name(tool: str) -> str:
    assert tool.startswith(tool_prefix()), f"{tool} is not one of the plugin's tools"
    return tool[len(tool_prefix()) :]


# --- the tests ---------------------------------------------------------------------------------


def test_the_commands_of_the_spec_are_all_there() -> None:
    assert {c.name for c in all_commands()} == EXPECTED


def test_command_has_description_argument_hint_and_allowed_tools(command: Command) -> None:
    for key in ("description", "argument-hint", "allowed-tools"):
        assert command.meta.get(key), f"{command.name}.md: no {key}"
    assert "$ARGUMENTS" in command.body, f"{command.name}.md ignores its arguments"


def test_every_tool_a_command_names_exists_on_the_server(
    command: Command, server_tools: dict[str, Any]
) -> None:
    named = set(command.allowed_tools) | command.body_tools
    assert named, f"{command.name}.md names no tool"
    missing = {t for t in named if local_name(t) not in server_tools}
    assert not missing, f"{command.name}.md names tools the server lacks: {missing}"


def test_every_tool_a_command_calls_is_allowed_without_a_prompt(command: Command) -> None:
    """A tool the body calls but `allowed-tools` leaves out would stop for a permission
    prompt (and fail in `claude -p`)."""
    assert command.body_tools <= set(command.allowed_tools), command.name


def test_command_passes_the_session_id_to_every_tool_that_takes_one(
    command: Command, server_tools: dict[str, Any]
) -> None:
    """`${CLAUDE_SESSION_ID}` in the body is the only session id that survives /clear."""
    takes_id = [
        t
        for t in command.allowed_tools
        if "session_id" in server_tools[local_name(t)].input_schema["properties"]
    ]
    if takes_id:
        assert (
            f"`session_id` {SESSION_ID}" in command.body
            or f"`session_id`: {SESSION_ID}" in command.body
        ), command.name
    else:
        assert "session_id" not in command.body, (
            f"{command.name}.md passes a session_id its tools do not take"
        )


def test_every_name_a_command_body_quotes_is_a_parameter_or_result_field(
    command: Command, server_tools: dict[str, Any]
) -> None:
    """Backquoted words in a body are parameters to pass, result fields to read or their
    values: each must exist in the schemas of the command's tools."""
    known: set[str] = set()
    for tool in command.allowed_tools:
        listed = server_tools[local_name(tool)]
        known |= set(schema_words(listed.input_schema))
        known |= set(schema_words(listed.output_schema))
    if command.bang_lines:  # `--as-data` says a failure of its own as these fields
        known |= {"status", "error", "message"}
    quoted = {w for w in re.findall(r"`([a-z][a-z_]*)`", command.body) if not w.startswith("mcp__")}
    unknown = quoted - known
    assert not unknown, f"{command.name}.md quotes names its tools do not have: {unknown}"


def test_every_flag_a_command_body_reads_is_shown_in_its_argument_hint(command: Command) -> None:
    flags = set(re.findall(r"`(--[a-z-]+)`", command.body)) - FLAG_ALIASES
    hint = set(re.findall(r"--[a-z-]+", command.meta["argument-hint"]))
    assert flags <= hint, f"{command.name}.md reads {flags - hint} but its hint hides them"


def test_tool_names_in_commands_use_the_plugin_prefix() -> None:
    """The prefix Claude Code gives the plugin's tools comes from plugin.json's name and the
    .mcp.json server key; the commands must use that exact prefix."""
    assert tool_prefix() == "mcp__plugin_session_session__"
    for cmd in all_commands():
        for tool in set(cmd.allowed_tools) | cmd.body_tools:
            assert tool.startswith(tool_prefix()), f"{cmd.name}.md: {tool}"


#: the commands that need no words from the model: their result is in the prompt (issue 23)
NO_MODEL_REQUEST = {"start": "start", "resume": "resume", "import": "import", "remind": "remind"}


def test_commands_that_need_no_words_run_the_cli_in_a_bang_line() -> None:
    """start, resume, import and remind status hand the model their result in the prompt, by a
    ``!`` line that runs the plugin's own CLI launcher (no PATH needed) with ``--as-data``;
    the others need the model's words first and run no ``!`` line."""
    for cmd in all_commands():
        verb = NO_MODEL_REQUEST.get(cmd.name)
        if verb is None:
            assert not cmd.bang_lines and "!`" not in cmd.body, cmd.name
            continue
        [line] = cmd.bang_lines
        assert line.startswith(f"{PLUGIN_CLI} {verb} ") and "--as-data" in line.split(), line


def test_a_bang_line_is_allowed_for_our_cli_only_and_holds_no_user_text() -> None:
    """The one ``Bash`` permission is the command's own ``!`` line (up to Claude Code's session
    id, which only it fills in): no other program, and no other verb of ours (N33: the model
    cannot run ``end --allow-secret`` under it); a ``!`` line holds only our words and the
    session id: no ``$ARGUMENTS`` or ``$1`` (the user's or a model's text), no shell syntax."""
    for cmd in all_commands():
        bash = [t for t in cmd.permissions if t.startswith("Bash(")]
        rules = [
            line.split(" --session-id")[0] + ":*" if "--session-id" in line else line
            for line in cmd.bang_lines
        ]
        assert bash == [f"Bash({rule})" for rule in rules], cmd.name
        assert all("--as-data" in rule.removesuffix(":*").split() for rule in rules), cmd.name
        for line in cmd.bang_lines:
            rest = line.replace(PLUGIN_CLI, "").replace("${CLAUDE_SESSION_ID}", "")
            assert re.fullmatch(r"[a-z -]+", rest), f"{cmd.name}.md: {line}"
