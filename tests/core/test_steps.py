"""The steps the flows share (core/steps.py): through ``Core``, in process, on real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_session.base.state import ledger
from claude_session.core import steps
from claude_session.core.facade import Core
from claude_session.paths import Paths
from helpers.gitrepo import make_remote, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    make_remote(r, tmp_path / "remote.git")
    return r


def test_a_flow_saving_the_ledger_keeps_what_a_hook_wrote_meanwhile(repo: Path) -> None:
    paths = Paths(Core().settings.home)
    with Core() as core:
        core.start(repo, session_id="s")
        stale = steps.ledger_entry(core.services, "s")
        assert stale is not None
        with ledger.edit(paths, "s") as entry:  # the Stop hook, while the flow runs
            entry["transcript_path"] = "/tmp/transcript.jsonl"
            entry["last_activity"] = "2999-01-01T00:00:00+00:00"
        steps.save_ledger(core.services, stale)
    saved = ledger.get(paths, "s")
    assert saved is not None and saved["transcript_path"] == "/tmp/transcript.jsonl"
    assert saved["last_activity"].startswith("2999")
