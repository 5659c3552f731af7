"""``base/reminding.py``: when a reminder is due, the rule the hook and the status line share."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from claude_session.base import reminding
from claude_session.base.state import remind
from claude_session.paths import Paths
from helpers.gitrepo import make_repo

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
ON = {"enabled": True, "every_minutes": 30, "dirty_files": 3}


def test_reasons_count_time_since_the_last_save_and_uncommitted_files() -> None:
    long_ago = NOW - timedelta(minutes=45)
    assert reminding.reasons(ON, current=NOW, last_save=long_ago, dirty=3) == [
        "45 min since the last commit or pause",
        "3 uncommitted files",
    ]
    assert reminding.reasons(ON, current=NOW, last_save=NOW, dirty=2) == []
    assert reminding.reasons(ON, current=NOW, last_save=None, dirty=None) == []
    off = {**ON, "enabled": False}
    assert reminding.reasons(off, current=NOW, last_save=long_ago, dirty=99) == []


def test_the_last_save_is_the_later_of_the_last_commit_and_the_pause() -> None:
    commit = NOW - timedelta(hours=2)
    assert reminding.last_save(commit, {"paused_at": NOW.isoformat()}) == NOW
    assert reminding.last_save(commit, None) == commit
    assert reminding.last_save(None, {"paused_at": "not a time"}) is None
    assert reminding.commit_time("1764849600\n") == datetime(2025, 12, 4, 12, tzinfo=timezone.utc)


def test_due_reminds_once_per_interval(tmp_path: Path, isolated_home: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    paths = Paths(isolated_home)
    remind.set_settings(paths, str(repo), dict(ON))
    for name in ("a", "b", "c"):
        (repo / name).write_text(name)
    assert reminding.due(paths, repo) == ["3 uncommitted files"]
    assert reminding.due(paths, repo) == []  # marked as given
    assert remind.last_reminded(remind.read(paths), str(repo)) is not None
