"""Running the plugin's hooks as Claude Code runs them: ``hooks/run.py EVENT`` in a process fed
the event's JSON on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "hooks" / "run.py"
EVENTS = ("SessionStart", "Stop", "PreCompact", "SessionEnd", "UserPromptSubmit")
#: seconds: a hook still running then is hung (its own deadlines are far below)
HANG_GUARD = 60


def hook_argv(event: str, *flags: str, python: str | Path = sys.executable) -> list[str]:
    """The command line of one hook: ``python [flags] hooks/run.py EVENT``."""
    return [str(python), *flags, str(RUN), event]


def run_hook(
    event: str,
    payload: Any,
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    raw: str | None = None,
) -> tuple[dict[str, Any] | None, subprocess.CompletedProcess[str]]:
    """Run one hook fed ``payload`` (or the ``raw`` text); its JSON output (None when it printed
    nothing) and the process. A hook always exits 0."""
    proc = subprocess.run(
        hook_argv(event),
        input=raw if raw is not None else json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=HANG_GUARD,
    )
    assert proc.returncode == 0, proc.stderr
    return (json.loads(proc.stdout) if proc.stdout.strip() else None), proc


def hook(
    event: str,
    cwd: Path,
    *,
    session_id: str = "s1",
    env: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any] | None:
    """Run one hook for a session in ``cwd`` (``extra``: more of the event's fields); its JSON
    output."""
    data = {"session_id": session_id, "cwd": str(cwd), "hook_event_name": event, **extra}
    return run_hook(event, data, cwd=cwd, env=env)[0]


def payload(event: str, cwd: Path, session_id: str = "sess-1", **extra: Any) -> dict[str, Any]:
    """An event's JSON as Claude Code sends it, with a transcript path in ``cwd``."""
    data = {
        "session_id": session_id,
        "transcript_path": str(cwd / "t.jsonl"),
        "cwd": str(cwd),
        "hook_event_name": event,
    }
    data.update(extra)
    return data


def ledger_entry(home: Path, sid: str) -> dict[str, Any]:
    """A session's ledger entry as the hooks left it on disk."""
    return json.loads((home / "claude-session" / "ledger" / f"{sid}.json").read_text())


def statusline(repo: Path, session_id: str = "s1") -> subprocess.CompletedProcess[str]:
    """The status line as Claude Code runs it (``python -I server/claude_session statusline``),
    for the session ``session_id`` in ``repo``."""
    return subprocess.run(
        [sys.executable, "-I", str(ROOT / "server" / "claude_session"), "statusline"],
        input=json.dumps({"session_id": session_id, "cwd": str(repo)}),
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=30,
        env=dict(os.environ),
        check=True,
    )
