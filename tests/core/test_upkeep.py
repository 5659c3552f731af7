"""Sync and the books (core/upkeep.py): through ``Core``, in process, on real repositories."""

from __future__ import annotations

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


def test_sync_prunes_long_closed_ledger_entries_only(repo: Path) -> None:
    paths = Paths(Core().settings.home)
    with Core() as core:
        core.start(repo, session_id="old")
        core.end(repo, session_id="old", summary="x", push=False)
        core.start(repo, session_id="recent")
        core.end(repo, session_id="recent", summary="y", push=False)
        core.start(repo, session_id="open")
    with ledger.edit(paths, "old") as entry:
        entry["ended_at"] = "2020-01-01T00:00:00+00:00"
    with Core() as core:
        core.sync()
    assert ledger.get(paths, "old") is None
    assert ledger.get(paths, "recent") is not None and ledger.get(paths, "open") is not None
