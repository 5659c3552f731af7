"""Claude Code transcript lines for tests: user prompts, assistant turns with text and tool
calls, tool results, written as a JSONL file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: the session id every line here carries
SID = "digest-session"


def user(text: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "user", "sessionId": SID, "message": {"role": "user", "content": text}, **extra}


def assistant(*blocks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "assistant",
        "sessionId": SID,
        "message": {
            "id": f"msg_{len(json.dumps(blocks))}",
            "role": "assistant",
            "model": "claude",
            "content": list(blocks),
            "usage": {"input_tokens": 3, "output_tokens": 5},
        },
        **extra,
    }


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": "toolu_1", "name": name, "input": tool_input}


def tool_result() -> dict[str, Any]:
    return user([{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}])


def write(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path
