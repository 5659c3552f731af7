"""``base/snapshots.py``: the contexts the hooks write without a model (an unended session's
note, the compaction snapshot), built with ``context.build``."""

from __future__ import annotations

from pathlib import Path

from claude_session.base import digest, sessions, snapshots
from claude_session.base.state import ledger, pause
from claude_session.models import PauseEntry
from claude_session.paths import Paths
from helpers.gitrepo import make_repo

ENTRY = ledger.new_entry(
    session_id="s", project="p", project_root="/p", branch="main", head=None, source="startup"
)


def test_every_key_of_an_unended_sessions_note_is_a_field_of_the_pause_model(
    tmp_path: Path, isolated_home: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    paths = Paths(isolated_home)
    entry = {**ENTRY, "project_root": str(repo)}
    made = digest.Digest(first_request="fix the parser", requests=1)
    record = sessions.build_unended_record(entry, entry["started_at"], made=made)
    snapshots.leave_note(paths, entry, made, record, head=None, when=entry["started_at"])
    note = pause.get(paths, str(repo))
    assert note is not None and note["unended"] is True
    assert set(note) <= set(PauseEntry.model_fields)
    PauseEntry.model_validate(note)


def test_the_compaction_snapshot_lists_the_working_tree_and_points_the_entry_at_it(
    tmp_path: Path, isolated_home: Path
) -> None:
    repo = make_repo(tmp_path / "proj")
    (repo / "README.md").write_text("changed\n")
    (repo / "new.txt").write_text("x")
    paths = Paths(isolated_home)
    ledger.touch(paths, {**ENTRY, "project_root": str(repo)})
    path = snapshots.save_compact_snapshot(paths, "s", repo, transcript_path=None)
    text = path.read_text()
    assert "### Dirty files\n\n- README.md" in text and "### Untracked files\n\n- new.txt" in text
    saved = ledger.get(paths, "s")
    assert saved is not None and saved["compact_context"] == str(path)
