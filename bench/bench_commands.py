"""Model round trips and tokens per `/session:*` command, on each Claude Code of the window.

    python3 bench/bench_commands.py [--quick] [--versions 2.1.197 2.1.332]

Each command of ``commands/*.md`` is typed into the real Claude Code (``claude -p``, the plugin
from this checkout) in one project, in the order a person uses them (start, remind status,
pause, resume, handoff, import, end), against the scripted model of ``tests/helpers``: it calls
the tool the command names with the arguments the command asks for, loads a deferred tool through
``ToolSearch`` first (as a real model must), and then answers in a line. Printed per command:
the model requests from the person's Enter to the command's result being in the conversation
(0 when the command hands the result over itself), the requests in all (with the closing
answer), the tool loads, and the input tokens those requests carried, estimated as characters
/ 3.5 of what each sent (system prompt, messages and tool definitions; the same estimate for
every version: a real tokenizer counts differently, and prompt caching makes most of it cheap
after the first request). ``--quick`` (CI's smoke run): the newest version, two commands.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from figures import figure  # noqa: E402

from helpers import e2e_world  # noqa: E402
from helpers.claude_code import WINDOW, find_claude  # noqa: E402
from helpers.e2e_world import TOOL, World, calls, last_user_text  # noqa: E402
from helpers.fake_anthropic import JSON, FakeAnthropic, Step, text, tool_results  # noqa: E402

CHARS_PER_TOKEN = 3.5
SUMMARY = "The lexer reads quoted strings; escape sequences are half done in lexer.py."
NEXT = ["Finish escape sequences", "Test unicode escapes"]
DONE = ["Quoted strings"]

#: (command, what is typed, the scripted model's steps before its closing line)
PLAN: list[tuple[str, str, list[Step]]] = [
    # start, remind status, resume and import: the command file's ! line ran claude-session and
    # its result is in the prompt; the model only writes its closing line
    ("start", "/session:start", []),
    ("remind", "/session:remind status", []),
    (
        "pause",
        "/session:pause lunch",
        [
            calls(
                "pause_session",
                summary=SUMMARY,
                next_steps=NEXT,
                accomplishments=DONE,
                note="lunch",
            )
        ],
    ),
    ("resume", "/session:resume", []),
    (
        "handoff",
        "/session:handoff which escapes matter?",
        [
            calls(
                "pause_session",
                summary=SUMMARY,
                next_steps=NEXT,
                accomplishments=DONE,
                note="which escapes matter?",
                handoff=True,
            )
        ],
    ),  # fmt: skip
    ("import", "/session:import", []),
    ("resume", "/session:resume", []),  # back from the hand-off
    (
        "end",
        "/session:end --no-push",
        [
            calls(
                "end_session",
                summary=SUMMARY,
                accomplishments=DONE,
                next_steps=NEXT,
                commit_message="Lex quoted strings",
                mode="standard",
                push=False,
            )
        ],
    ),  # fmt: skip
]
QUICK = ("start", "pause")
#: git with no configuration of the machine's, and an identity (as the tests have it)
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def sent_tokens(body: JSON) -> int:
    """What one request carried, in estimated tokens."""
    sent = {key: body.get(key) for key in ("system", "messages", "tools")}
    return math.ceil(len(json.dumps(sent, separators=(",", ":"))) / CHARS_PER_TOKEN)


def handed_over(body: JSON) -> bool:
    """Whether the command's own ``!`` line put claude-session's result in this request."""
    return '<quoted-data from="claude-session ' in last_user_text(body)


def before_result(turns: list[JSON]) -> int:
    """Model requests answered before a session tool's result was in the conversation (0 when
    the command handed it over in its prompt)."""
    if turns and handed_over(turns[0]):
        return 0
    for index, body in enumerate(turns):
        if any(_ours(result, body) for result in tool_results(body)):
            return index
    return len(turns)


def _ours(result: JSON, body: JSON) -> bool:
    """A tool result of one of our tools (not ToolSearch's)."""
    for message in body.get("messages", []):
        for block in message.get("content", []) if isinstance(message.get("content"), list) else []:
            if isinstance(block, dict) and block.get("id") == result.get("tool_use_id"):
                return str(block.get("name", "")).startswith(TOOL)
    return False


def measure(world: World, prompt: str, steps: list[Step]) -> dict[str, Any]:
    with FakeAnthropic([*steps, text("Done.")]) as api:
        world.run(api, prompt)
        turns = api.turn_requests
        problems = list(api.errors)
    results = [r for body in turns for r in tool_results(body) if _ours(r, body)]
    problems += [str(r.get("content"))[:200] for r in results if r.get("is_error")]
    if turns and handed_over(turns[0]) and '"status": "error"' in last_user_text(turns[0]):
        problems.append(last_user_text(turns[0])[-600:])
    if problems:
        raise SystemExit(f"{prompt}: {problems}")
    return {
        "before": before_result(turns),
        "requests": len(turns),
        "searches": len(api.tool_searches),
        "tokens": sum(sent_tokens(body) for body in turns),
    }


def deferred_plugin() -> Path:
    """A copy of this plugin whose MCP server is not ``alwaysLoad`` (its tools deferred behind
    tool search on the versions that defer), to show what ``alwaysLoad`` saves."""
    import shutil

    copy = Path(tempfile.mkdtemp(prefix="cs-bench-deferred-")) / "plugin"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", "tests", "bench"))
    mcp = json.loads((copy / ".mcp.json").read_text())
    for server in mcp["mcpServers"].values():
        server.pop("alwaysLoad", None)
    (copy / ".mcp.json").write_text(json.dumps(mcp))
    return copy


def run_version(
    version: str, names: tuple[str, ...] | None, plugin: Path | None = None
) -> list[tuple[str, dict[str, Any]]]:
    os.environ.pop("CLAUDE_SESSION_CLAUDE_BIN", None)  # the last version's
    binary = find_claude(version)
    if binary is None:
        print(f"Claude Code {version}: not installed (bash .ci/install_claude_code.sh)")
        return []
    os.environ["CLAUDE_SESSION_CLAUDE_BIN"] = str(binary)
    tmp = Path(tempfile.mkdtemp(prefix=f"cs-bench-commands-{version}-"))
    config = tmp / "home" / ".claude"
    config.mkdir(parents=True)
    os.environ.update({"HOME": str(config.parent), "CLAUDE_CONFIG_DIR": str(config)})
    os.environ.update(GIT_ENV | {"GIT_CONFIG_GLOBAL": str(config.parent / ".gitconfig-none")})
    world = World(tmp, config)
    if plugin is not None:
        e2e_world.ROOT = plugin  # World.kwargs reads it at each run
    found = []
    for name, prompt, steps in PLAN:
        if names is None or name in names:
            found.append((name, measure(world, prompt, steps)))
    return found


def report(version: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    print(f"Claude Code {version}: model requests per command (before its result / in all), "
          f"tool loads, input tokens sent (estimated)")  # fmt: skip
    seen: set[str] = set()
    for name, row in rows:
        if name in seen:
            continue
        seen.add(name)
        print(
            f"  /session:{name:<8} {row['before']} / {row['requests']} requests, "
            f"{row['searches']} tool loads, {row['tokens']:>7,} tokens"
        )
        figure(f"/session:{name} model requests before its result, {version}", row["before"],
               "requests", goal=1, issue=23)  # fmt: skip
        figure(f"/session:{name} input tokens, {version}", row["tokens"], "tokens", issue=23)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="the newest version, two commands")
    parser.add_argument("--versions", nargs="*", default=None, help=f"default: {' '.join(WINDOW)}")
    parser.add_argument(
        "--deferred", action="store_true", help="also the newest with the tools deferred"
    )
    args = parser.parse_args()
    versions = args.versions or ([WINDOW[-1]] if args.quick else list(WINDOW))
    names = QUICK if args.quick else None
    for version in versions:
        report(version, run_version(version, names))
    if args.deferred:
        rows = run_version(WINDOW[-1], names, deferred_plugin())
        report(f"{WINDOW[-1]}, tools deferred (no alwaysLoad)", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
