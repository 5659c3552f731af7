"""``base/state/ledger.py``: one file per session, its shape, its locked edit, its peek."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_session.base import flow
from claude_session.base.state import ledger
from claude_session.models import LedgerEntry
from claude_session.paths import Paths
from helpers.gitrepo import make_repo
from helpers.hookrun import hook

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


def test_every_key_new_entry_writes_is_a_field_of_the_model() -> None:
    """design-2 #1a: the entry's shape is written once, here; the core validates it."""
    made = ledger.new_entry(
        session_id="s",
        project="p",
        project_root="/p",
        branch="main",
        head="a" * 40,
        source="startup",
        repository_url="https://example.com/p",
    )
    assert set(made) <= set(LedgerEntry.model_fields)
    assert LedgerEntry.model_validate(made).session_id == "s"


def test_a_head_that_is_not_an_object_id_is_not_kept() -> None:
    made = ledger.new_entry(
        session_id="s", project="p", project_root="/p", branch=None, head="--exec", source="x"
    )
    assert made["starting_head"] is None


def test_peek_reads_only_this_sessions_entry_and_never_moves_a_file(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    fresh = ledger.new_entry(
        session_id="s", project="p", project_root="/p", branch=None, head=None, source="x"
    )
    ledger.touch(paths, fresh)
    peeked = ledger.peek(paths, "s")
    assert peeked is not None and peeked["project_root"] == "/p"
    paths.ledger_entry("t").write_text(json.dumps({**fresh, "session_id": "other"}))
    paths.ledger_entry("u").write_text("garbage")
    assert ledger.peek(paths, "t") is None and ledger.peek(paths, "u") is None
    assert paths.ledger_entry("u").read_text() == "garbage"


def test_merge_save_keeps_what_a_hook_wrote_since_the_flow_read_the_entry(
    isolated_home: Path,
) -> None:
    paths = Paths(isolated_home)
    fresh = ledger.new_entry(
        session_id="s", project="p", project_root="/p", branch=None, head=None, source="x"
    )
    read_by_flow = ledger.touch(paths, fresh)
    ledger.touch(paths, fresh, transcript_path="/t.jsonl", pid=42)  # the Stop hook meanwhile
    ledger.merge_save(paths, {**read_by_flow, "summary": "from the flow"})
    saved = ledger.get(paths, "s")
    assert saved is not None
    assert (saved["summary"], saved["transcript_path"], saved["claude_pid"]) == (
        "from the flow",
        "/t.jsonl",
        42,
    )


# --- ledger identity (S7) ------------------------------------------------------------------


def test_S7_session_ids_that_clean_up_alike_never_close_each_other(
    repo: Path, isolated_home: Path
) -> None:
    alive = subprocess.Popen(["sleep", "60"])  # team/alpha's Claude Code, still running
    try:
        hook("SessionStart", repo, session_id="team/alpha", source="startup")
        with ledger.edit(Paths(isolated_home), "team/alpha") as data:
            data["claude_pid"] = alive.pid
        hook("SessionStart", repo, session_id="team-alpha", source="startup")
        hook("SessionEnd", repo, session_id="team-alpha")
    finally:
        alive.kill()
        alive.wait()
    alpha = entry(isolated_home, "team/alpha")
    assert alpha["session_id"] == "team/alpha" and alpha["status"] == "active"
    assert entry(isolated_home, "team-alpha")["status"] == "finalized"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def entry(home: Path, sid: str) -> dict[str, Any]:
    found = ledger.get(Paths(home), sid)
    assert found is not None
    return found


@pytest.mark.parametrize("pid", [2**31, 2**63, -(2**31) - 1, 0, -1, True, 1.5, "123", None])
def test_a_pid_no_system_can_have_is_not_alive(pid: Any) -> None:
    """A ledger file may hold any number as `claude_pid`; one past the C int range made
    os.kill raise OverflowError and stopped orphan finalizing (found by the hostile-files test)."""
    assert ledger.pid_alive(pid) is False


def test_our_own_pid_is_alive() -> None:
    assert ledger.pid_alive(os.getpid()) is True
