"""``edges/hooks/fastexit.py``: a hook ends with ``os._exit`` once its output is flushed; nothing
it wrote may be lost with the interpreter's teardown."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from helpers.gitrepo import make_repo
from helpers.hookrun import hook_argv


def test_a_hooks_warnings_reach_its_output_and_the_hooks_log(
    tmp_path: Path, isolated_home: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    ledger = isolated_home / "claude-session" / "ledger"
    ledger.mkdir(parents=True)
    (ledger / "s1.json").write_text("garbage")  # the hook moves it aside and says so
    done = subprocess.run(
        hook_argv("Stop", "-I", "-S"),
        input=json.dumps({"session_id": "s1", "cwd": str(repo)}),
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    told = json.loads(done.stdout)["systemMessage"]
    assert "s1.json" in told and "moved to" in told
    log = (isolated_home / "claude-session" / "logs" / "hooks.log").read_text()
    assert " Stop: " in log and "s1.json" in log and "moved to" in log
