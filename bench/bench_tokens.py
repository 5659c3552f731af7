"""What claude-session puts in the model's context, in tokens.

    python3 bench/bench_tokens.py [--tokenizer PATH] [--show]

1. Tool definitions: Claude Code sends every MCP tool with every request, as
   ``{"name": "mcp__plugin_session_session__<tool>", "description": ..., "input_schema": ...}``
   (compact JSON), and the server's instructions in the system prompt under
   ``## plugin:session:session``. Counted from the real ``tools/list`` and ``initialize``
   answers of the server, through the mcp package's own client, in process. Goal: 1,500.
2. The SessionStart note for a paused project (the hook run as a process). Goal: 150.
3. A resumed context: the ``resume_session`` tool result (what the model reads back) after a
   pause with a realistic summary, next steps, accomplishments and uncommitted files. Goal: 2,000.

Tokens are counted with Anthropic's legacy tokenizer: the ``tokenizer.json`` shipped in the
``anthropic`` package up to 0.34.x, read with the ``tokenizers`` package (neither is a
dependency of this project: ``pip install --target DIR anthropic==0.34.2 tokenizers`` and put
DIR on ``PYTHONPATH``, or pass ``--tokenizer`` a ``tokenizer.json``, or name it in
``BENCH_TOKENIZER`` for ``run_all.py``). It is an approximation of
what current models count, the same for every product measured with it. Without it, this says
so and counts ``ceil(characters / 3.5)``, a stated approximation.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests"))

from figures import figure  # noqa: E402

PREFIX = "mcp__plugin_session_session__"
CHARS_PER_TOKEN = 3.5
GOALS = {"tools": 1500, "note": 150, "resume": 2000}

SUMMARY = (
    "The HTTP parser reads request lines and headers; body parsing is half done in "
    "parser.py (Content-Length works, chunked bodies do not yet). The test suite covers "
    "headers and fixed-length bodies; two tests for chunked encoding are written but skipped."
)
NEXT_STEPS = [
    "Finish chunked body parsing in parser.py (read_chunk and the trailer)",
    "Un-skip and pass the two chunked-encoding tests",
    "Handle a Content-Length larger than the buffer limit with a 413",
]
DONE = [
    "Request line and header parsing, with limits",
    "Content-Length bodies",
    "Tests for headers and fixed-length bodies",
]


def counter(tokenizer_path: str | None) -> tuple[Callable[[str], int], str]:
    """A token counter and what it is."""
    try:
        from tokenizers import Tokenizer
    except ImportError:
        Tokenizer = None  # noqa: N806
    path = tokenizer_path or os.environ.get("BENCH_TOKENIZER")  # run_all passes no arguments
    if path is None and Tokenizer is not None:
        try:
            from importlib.resources import files

            found = files("anthropic") / "tokenizer.json"
            path = str(found) if found.is_file() else None
        except (ImportError, ModuleNotFoundError, TypeError):
            path = None
    if Tokenizer is not None and path is not None and Path(path).is_file():
        tokenizer = Tokenizer.from_file(path)
        return (lambda text: len(tokenizer.encode(text).ids)), f"legacy tokenizer ({path})"
    missing = "tokenizers" if Tokenizer is None else "anthropic's tokenizer.json"
    print(
        f"NOTE: {missing} not importable: counting ceil(characters / {CHARS_PER_TOKEN}) "
        f"instead (see this script's docstring to install the tokenizer)",
        file=sys.stderr,
    )
    return (lambda text: math.ceil(len(text) / CHARS_PER_TOKEN)), (
        f"approximation: characters / {CHARS_PER_TOKEN}"
    )


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


async def tools_and_instructions() -> tuple[list[dict[str, Any]], str]:
    from mcp import Client

    from claude_session.edges.mcp.server import build_server

    async with Client(build_server()) as client:
        listed = (await client.list_tools()).tools
        instructions = client.instructions or ""
    tools = [
        {
            "name": PREFIX + tool.name,
            "description": tool.description or "",
            "input_schema": tool.input_schema,
        }
        for tool in listed
    ]
    return tools, instructions


def setup_project(base: Path) -> tuple[Path, dict[str, str]]:
    from helpers.gitrepo import make_repo

    home = base / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "OP_"))}
    env.update(
        HOME=str(home),
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith(("GIT_", "HOME", "CLAUDE"))})
    for key in [k for k in os.environ if k.startswith(("CLAUDE_SESSION_", "OP_"))]:
        del os.environ[key]
    repo = make_repo(base / "http-parser")
    for name in ("parser.py", "tests/test_chunked.py", "README.md"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("# work in progress\n")
    return repo, env


def session_start_note(repo: Path, env: dict[str, str]) -> str:
    payload = json.dumps(
        {
            "session_id": "tokens-2",
            "cwd": str(repo),
            "source": "startup",
            "hook_event_name": "SessionStart",
        }
    )
    done = subprocess.run(
        [sys.executable, "-I", str(ROOT / "hooks" / "run.py"), "SessionStart"],
        input=payload,
        capture_output=True,
        text=True,
        env=env,
        cwd=repo,
        check=True,
    )
    output = json.loads(done.stdout or "{}")
    return str(output.get("hookSpecificOutput", {}).get("additionalContext", ""))


async def resumed_context(repo: Path) -> str:
    from mcp import Client

    from claude_session.edges.mcp.server import build_server

    async with Client(build_server()) as client:
        await client.call_tool("start_session", {"cwd": str(repo), "session_id": "tokens-1"})
        await client.call_tool(
            "pause_session",
            {
                "cwd": str(repo),
                "session_id": "tokens-1",
                "summary": SUMMARY,
                "next_steps": NEXT_STEPS,
                "accomplishments": DONE,
            },
        )
        result = await client.call_tool(
            "resume_session", {"cwd": str(repo), "session_id": "tokens-2"}
        )
    assert not result.is_error, result.content
    # what Claude Code puts in the tool_result: the text content blocks
    return "\n".join(getattr(block, "text", "") for block in result.content)


def main() -> int:
    import anyio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", help="a tokenizer.json (default: the anthropic package's)")
    parser.add_argument("--show", action="store_true", help="print what was counted")
    args = parser.parse_args()
    count, how = counter(args.tokenizer)
    print(f"tokens counted with: {how}")

    with tempfile.TemporaryDirectory(prefix="cs-tokens-") as tmp:
        repo, env = setup_project(Path(tmp))
        tools, instructions = anyio.run(tools_and_instructions)
        block = f"## plugin:session:session\n{instructions}"
        per_tool = {t["name"].removeprefix(PREFIX): count(compact(t)) for t in tools}
        total = sum(per_tool.values()) + count(block)
        print(
            f"tool definitions + instructions: {total} tokens (goal {GOALS['tools']}): "
            f"{len(tools)} tools {sum(per_tool.values())}, instructions {count(block)}"
        )
        for name, n in sorted(per_tool.items(), key=lambda item: -item[1]):
            print(f"  {name:<24} {n:5d}")
        figure("tool definitions + instructions", total, "tokens", goal=GOALS["tools"], issue=17)
        resumed = anyio.run(resumed_context, repo)
        note = session_start_note(repo, env)
        if not note:
            raise SystemExit("the SessionStart hook reported no pause: nothing to count")
        print(f"SessionStart note (paused project): {count(note)} tokens (goal {GOALS['note']})")
        figure("SessionStart note", count(note), "tokens", goal=GOALS["note"], issue=17)
        figure("resumed context", count(resumed), "tokens", goal=GOALS["resume"], issue=17)
        print(
            f"resumed context (resume_session result): {count(resumed)} tokens "
            f"(goal {GOALS['resume']})"
        )
        if args.show:
            print("--- tools ---")
            for tool in tools:
                print(compact(tool))
            print("--- instructions ---\n" + block)
            print("--- SessionStart note ---\n" + note)
            print("--- resume_session result ---\n" + resumed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
