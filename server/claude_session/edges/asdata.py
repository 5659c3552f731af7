"""The CLI's ``--as-data`` output: a verb's result for a command file's ``!`` line to hand the
model, quoted as data.

A command that needs no words from the model (``/session:start``, ``/session:resume``,
``/session:import``, ``/session:remind``) runs ``claude-session VERB --as-data`` itself, and
Claude Code puts what it prints into the prompt before the model's first request: the result is
in the conversation without a model round trip. What it prints is the verb's JSON result
(bounded and with secrets redacted, as the MCP tool's answer would be) fenced by
``base.quoting``, and nothing after it: the command file's own words say what to tell the
person, never this output.

Claude Code aborts the whole command when a ``!`` line exits non-zero, so every outcome, our own
failures included, is printed here and exits 0; a failure is a result whose ``status`` is
``error`` with a ``message`` that says what to do.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from claude_session.base import quoting
from claude_session.base.redact import redact_data

FLAG = "--as-data"
log = logging.getLogger(__name__)


def add_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        FLAG,
        dest="as_data",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the result quoted as data for the model, and exit 0 (a command file's ! line)",
    )


def wanted(argv: list[str]) -> bool:
    return FLAG in argv


def guarded(run: Callable[[list[str]], int], argv: list[str]) -> int:
    """``run(argv)``, any failure said as a result rather than a traceback and an exit code."""
    try:
        return run(argv)
    except Exception as exc:
        log.exception("claude-session %s --as-data failed", argv[:1])
        return failed(argv[0] if argv else "", f"claude-session failed: {exc}", "Bug")


def text(verb: str, data: dict[str, Any]) -> str:
    """``data`` (the verb's result) as one quoted block labelled with the verb."""
    body = json.dumps(redact_data(data), indent=1, ensure_ascii=False)
    return quoting.block(body, f"claude-session {verb} result") + "\n"


def emit(verb: str, result: Any) -> int:
    """Print ``result`` (a flow's pydantic result, or a dict), cut to the MCP tool's budget and
    quoted as the tool's answer is."""
    from pydantic import BaseModel

    if isinstance(result, BaseModel):
        from claude_session.edges.mcp import bounds, quoted

        # the MCP tool's answer, as the model would get it from the tool: the saved context and
        # claude.ai's answer fenced in their own blocks, other text with hidden characters shown
        result = quoted.as_data(bounds.bound(result, "the session's ledger entry"))
        result = result.model_dump(mode="json")
    sys.stdout.write(text(verb, dict(result)))
    return 0


def failed(verb: str, message: str, kind: str = "UsageError") -> int:
    """Our own failure, said in the output (exit 0: see the module's note)."""
    return emit(verb or "command", {"status": "error", "error": kind, "message": message})
