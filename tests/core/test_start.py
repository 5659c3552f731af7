"""Start (core/start.py): through ``Core``, in process, on real repositories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from claude_session.base.state import ledger
from claude_session.core.facade import Core
from claude_session.paths import Paths
from helpers.gitrepo import make_remote, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    make_remote(r, tmp_path / "remote.git")
    return r


def test_start_finalizes_a_session_whose_claude_code_died(repo: Path) -> None:
    paths = Paths(Core().settings.home)
    with Core() as core:
        core.start(repo, session_id="dead")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with ledger.edit(paths, "dead") as entry:
        entry["claude_pid"] = dead.pid
        entry["summary"] = "was working on checkout"
    with Core() as core:
        core.start(repo, session_id="alive")
        records = core.history(limit=10).records
    assert [r.claude_session_id for r in records] == ["dead"]
    assert records[0].end_mode == "unended"
    # the entry's own summary first, then the digest (no transcript here: it says so)
    assert records[0].summary.startswith("was working on checkout\n\nEnded without /end.")
    assert ledger.get(paths, "dead")["status"] == "finalized"  # type: ignore[index]
    with Core() as core:
        core.sync()
        assert len(core.history(limit=10).records) == 1  # never twice
