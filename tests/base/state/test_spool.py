"""``base/state/spool.py``: records the hooks made, one file each, for the core to deliver."""

from __future__ import annotations

from pathlib import Path

from claude_session.base import flow
from claude_session.base.state import spool
from claude_session.paths import Paths

GH = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8"


def test_a_record_is_spooled_redacted_under_its_id_and_read_back(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    path = spool.put(paths, {"id": "r/1", "summary": f"token {GH}"})
    assert path.parent == paths.spool and "/" not in path.name
    [(found, inode, record)] = spool.records(paths)
    assert found == path and record["summary"] == "token [REDACTED:github-token]"
    assert spool.count(paths) == 1
    spool.remove(found, inode)
    assert spool.count(paths) == 0 and spool.records(paths) == []


def test_a_record_spooled_again_after_it_was_read_is_kept(isolated_home: Path) -> None:
    """A hook that spools the same record while the core imports it: the newer copy stays."""
    paths = Paths(isolated_home)
    spool.put(paths, {"id": "r", "summary": "first"})
    [(path, inode, _)] = spool.records(paths)
    spool.put(paths, {"id": "r", "summary": "second"})  # a rename: a new inode
    spool.remove(path, inode)
    [(_, _, record)] = spool.records(paths)
    assert record["summary"] == "second"


def test_a_damaged_file_is_moved_aside_and_told(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    paths.spool.mkdir(parents=True)
    (paths.spool / "bad.json").write_text("[1, 2]")
    spool.put(paths, {"id": "good"})
    with flow.begin() as current:
        found = spool.records(paths)
    assert [record["id"] for _, _, record in found] == ["good"]
    assert len(current.warnings) == 1 and "bad.json" in current.warnings[0]
    assert list(paths.spool.glob("bad.json.corrupt-*"))
