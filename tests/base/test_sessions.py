"""``base/sessions.py``: a session's life in the ledger, shared by the hooks and the core."""

from __future__ import annotations

from pathlib import Path

from claude_session.base import digest, sessions, snapshots
from claude_session.base.state import ledger, pause
from claude_session.models import PauseEntry, SessionRecord
from claude_session.paths import Paths
from helpers.gitrepo import make_repo

ENTRY = ledger.new_entry(
    session_id="s", project="p", project_root="/p", branch="main", head=None, source="startup"
)


def test_record_fields_writes_exactly_the_fields_of_the_session_record() -> None:
    """design-2 #46: /end and the hooks' finalization build the record here, in its shape."""
    record = sessions.record_fields(
        ENTRY,
        record_id="r",
        ended_at=ENTRY["started_at"],
        repository_url=None,
        ending_branch="main",
        commits_count=0,
        files_changed=[],
        usage=None,
        summary="s",
        accomplishments=[],
        next_steps=[],
        mode="unended",
        machine=None,
    )
    assert set(record) == set(SessionRecord.model_fields)
    assert SessionRecord.model_validate(record).id == "r"


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
