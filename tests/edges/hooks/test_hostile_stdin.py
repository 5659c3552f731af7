"""Hostile hook stdin: whatever Claude Code (or anything else) pipes into a hook, it exits 0 and
prints a JSON object or nothing, and writes nothing outside its own folders."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claude_session.edges.hooks import events as hooklib
from helpers.hookrun import EVENTS, hook_argv
from helpers.hostile import json_values

hook_events = st.fixed_dictionaries(
    {},
    optional={
        "session_id": st.text(max_size=40) | json_values,
        "cwd": st.text(max_size=40) | json_values,
        "transcript_path": st.text(max_size=40) | json_values,
        "source": st.sampled_from(["startup", "resume", "clear", "compact"]) | json_values,
        "prompt": st.text(max_size=200) | json_values,
        "hook_event_name": st.text(max_size=20),
        "trigger": json_values,
        "custom_instructions": json_values,
    },
)


def _run_hook_in_process(event: str, stdin: str, home: Path) -> str:
    old = sys.stdin, os.environ.get("CLAUDE_CONFIG_DIR")
    sys.stdin = io.StringIO(stdin)
    os.environ["CLAUDE_CONFIG_DIR"] = str(home)
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            assert hooklib.main(event) == 0
    finally:
        sys.stdin = old[0]
        if old[1] is None:
            os.environ.pop("CLAUDE_CONFIG_DIR", None)
        else:
            os.environ["CLAUDE_CONFIG_DIR"] = old[1]
    return out.getvalue()


@settings(max_examples=200, deadline=None)
@given(
    event=st.sampled_from(sorted(hooklib.EVENTS)),
    stdin=st.one_of(
        hook_events.map(json.dumps), json_values.map(json.dumps), st.text(max_size=200)
    ),
)
def test_any_hook_stdin_gives_exit_zero_and_json_or_nothing(event: str, stdin: str) -> None:
    home = Path(tempfile.mkdtemp(prefix="hook-"))
    out = _run_hook_in_process(event, stdin, home)
    if out.strip():
        parsed = json.loads(out)
        assert isinstance(parsed, dict)
        context = parsed.get("hookSpecificOutput", {}).get("additionalContext", "")
        assert len(context) < 10_000  # Claude Code's cap for added context


@pytest.mark.parametrize(
    "stdin",
    [
        b"\xff\xfe\x00garbage",
        b'{"session_id": "\xc3\x28"}',
        b"[1, 2, 3]",
        b"{" * 5000,
        b"",
        b"null",
        json.dumps({"session_id": "../../etc/passwd", "cwd": "/", "source": "compact"}).encode(),
        json.dumps({"session_id": "x\u0000y", "cwd": "a\u0000b"}).encode(),
    ],
)
def test_hook_scripts_survive_raw_bytes_on_stdin(
    stdin: bytes, isolated_home: Path, tmp_path: Path
) -> None:
    for event in EVENTS:
        done = subprocess.run(
            hook_argv(event),
            input=stdin,
            cwd=tmp_path,
            capture_output=True,
            timeout=30,
        )
        assert done.returncode == 0, (event, done.stderr)
        if done.stdout.strip():
            assert isinstance(json.loads(done.stdout), dict), (event, done.stdout)
    assert not (isolated_home.parent / "etc").exists()
    ledger_dir = isolated_home / "claude-session" / "ledger"
    for path in ledger_dir.glob("*") if ledger_dir.is_dir() else []:
        assert path.parent == ledger_dir
