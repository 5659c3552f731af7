"""``edges/hooks/pythoncheck.py``: on an older ``python3`` than the hooks need, a hook says so
once (per Python version) and does nothing; up to that check the hook is plain Python 3."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers.gitrepo import make_repo
from helpers.hookrun import EVENTS, ROOT, hook_argv
from helpers.pythons import python, version

HOOKS = ROOT / "hooks"
PACKAGE = ROOT / "server" / "claude_session"


@pytest.mark.parametrize("event", EVENTS)
def test_an_older_python_is_told_once_and_the_hook_exits_0(
    event: str, tmp_path: Path, isolated_home: Path
) -> None:
    interpreter = python("3.8")
    repo = make_repo(tmp_path / "proj")
    payload = json.dumps(
        {
            "session_id": "s",
            "cwd": str(repo),
            "hook_event_name": event,
            "source": "startup",
            "prompt": "hi",
        }
    )

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            hook_argv(event, "-I", python=interpreter),
            input=payload,
            capture_output=True,
            text=True,
            cwd=repo,
            timeout=60,
        )

    first, second = run(), run()
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    told = json.loads(first.stdout)["systemMessage"]
    told_version = ".".join(map(str, version(interpreter)))
    assert f"need Python 3.9 or newer, but the python3 Claude Code runs is {told_version}" in told
    assert "put it first on PATH" in told and str(interpreter) in told
    assert second.stdout == "" and first.stderr == second.stderr == ""
    assert not (isolated_home / "claude-session" / "ledger").exists()  # it did nothing
    marker = isolated_home / "claude-session" / "python-too-old"
    assert marker.read_text() == told_version
    marker.write_text("3.7.16")  # another old Python than the one told about: told again
    assert "systemMessage" in json.loads(run().stdout)


def test_the_version_check_parses_on_old_pythons() -> None:
    """Up to the check, the hooks are plain Python 3: even 3.6 reads them."""
    interpreter = python("3.6")
    hooks = PACKAGE / "edges" / "hooks"
    first = [PACKAGE / "__init__.py", PACKAGE / "edges" / "__init__.py", hooks / "__init__.py"]
    for path in [*first, hooks / "pythoncheck.py", *HOOKS.glob("*.py")]:
        done = subprocess.run(
            [
                str(interpreter),
                "-I",
                "-c",
                "import sys; compile(open(sys.argv[1]).read(), sys.argv[1], 'exec')",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, (path.name, done.stderr)
