"""Hand-offs (core/handoffs.py): two projects whose names clean up alike never share an item or
a context (red team S6)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from claude_session.core.facade import Core
from helpers.gitrepo import make_repo

ROOT = Path(__file__).resolve().parents[2]


SERVER = ROOT / "server"


HANG_GUARD = 60  # seconds: a command still running then is hung


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SERVER)},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        stdin=subprocess.DEVNULL,
    )


def test_S6_projects_whose_names_clean_up_alike_never_share_a_handoff_or_context(
    tmp_path: Path, isolated_home: Path
) -> None:
    work = make_repo(tmp_path / "work" / "my app")
    personal = make_repo(tmp_path / "personal" / "my-app")
    assert cli("start", cwd=work).returncode == 0
    assert cli("pause", "--summary", "WORK-ONLY plans", "--handoff", cwd=work).returncode == 0
    received = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "handoff", "receive"],
        cwd=work,
        input="Summary: WORK answer\n",
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env={**os.environ, "PYTHONPATH": str(SERVER)},
    )
    assert received.returncode == 0, received.stderr
    started = cli("--json", "start", cwd=personal)
    assert started.returncode == 0, started.stderr
    result = json.loads(started.stdout)
    assert result.get("imported_item") is None
    assert "WORK" not in result["context"]
    prompt = cli("--json", "handoff", "prompt", cwd=personal)
    assert prompt.returncode == 1  # nothing of its own saved yet; work's context is not offered
    imported = json.loads(cli("--json", "import", cwd=work).stdout)
    assert imported["status"] == "imported"
    with Core() as core:
        core.end(personal, summary="personal work", push=False)
        core.end(work, summary="work work", push=False)
        urls = {(r.application_name, r.repository_url) for r in core.history(limit=10).records}
    # two applications on the tracker, told apart by their folders
    assert urls == {("my-app", work.as_uri()), ("my-app", personal.as_uri())}
