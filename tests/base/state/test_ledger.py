"""``base/state/ledger.py``: one file per session, its shape, its locked edit, its peek."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from claude_session.base import flow
from claude_session.base.state import ledger
from claude_session.paths import Paths
from helpers.gitrepo import make_repo

SERVER = Path(__file__).resolve().parents[3] / "server"


def test_a_corrupt_entry_is_moved_aside_and_told_to_the_calling_flow(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    paths.ledger.mkdir(parents=True)
    (paths.ledger / "bad.json").write_text("garbage")
    with flow.begin() as current:
        assert ledger.entries(paths) == []
    assert len(current.warnings) == 1 and "bad.json" in current.warnings[0]
    assert [p.name for p in paths.ledger.iterdir()][0].startswith("bad.json.corrupt-")


def test_status_tells_the_user_about_a_corrupt_entry_it_moved_aside(
    tmp_path: Path, isolated_home: Path
) -> None:
    """design-2 2.4: ``status --json`` said ``"warnings": []`` while the file was moved."""
    repo = make_repo(tmp_path / "proj")
    paths = Paths(isolated_home)
    paths.ledger.mkdir(parents=True)
    (paths.ledger / "bad.json").write_text("garbage")
    done = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "status", "--json"],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(SERVER)},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    warnings = json.loads(done.stdout)["warnings"]
    assert any("bad.json" in w and "moved to" in w for w in warnings), done.stdout
