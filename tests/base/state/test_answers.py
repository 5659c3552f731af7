"""``base/state/answers.py``: whether a claude.ai answer waits, and answers kept to store."""

from __future__ import annotations

import json
from pathlib import Path

from claude_session.base import flow
from claude_session.base.state import answers
from claude_session.paths import Paths


def test_the_waiting_answer_is_read_locked_and_lock_free_alike(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    assert answers.waiting(paths, "/p") is None and answers.peek_waiting(paths, "/p") is None
    answers.set_waiting(paths, "/p", "session-p-2026-12-04")
    answers.set_waiting(paths, "/q", None)
    assert answers.waiting(paths, "/p") == answers.peek_waiting(paths, "/p")
    assert answers.waiting(paths, "/p") == "session-p-2026-12-04"
    assert answers.waiting(paths, "/q") is None and answers.peek_waiting(paths, "/q") is None


def test_peek_reads_a_broken_cache_as_nothing_and_leaves_it(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    paths.handoff_cache.parent.mkdir(parents=True)
    paths.handoff_cache.write_text('{"projects": {"/p": {"waiting": true, "item": ')
    assert answers.peek_waiting(paths, "/p") is None
    assert [p.name for p in paths.handoff_cache.parent.iterdir()] == ["handoff-cache.json"]


def test_kept_answers_come_back_and_a_damaged_one_is_moved_aside(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    path = answers.keep(paths, {"project": "p", "answer": "## Decisions\n- keep"})
    (paths.pending_answers / "broken.json").write_text("{")
    with flow.begin() as current:
        kept = answers.kept(paths)
    assert kept == [(path, {"project": "p", "answer": "## Decisions\n- keep"})]
    assert "broken.json" in current.warnings[0]
    answers.remove(path)
    assert answers.kept(paths) == []


def test_a_damaged_entry_of_the_cache_is_dropped_and_told_the_others_kept(
    isolated_home: Path,
) -> None:
    paths = Paths(isolated_home)
    paths.handoff_cache.parent.mkdir(parents=True)
    entry = {"waiting": True, "item": "session-p"}
    paths.handoff_cache.write_text(json.dumps({"projects": {"/p": entry, "/q": "junk"}}))
    with flow.begin() as current:
        assert answers.waiting(paths, "/p") == "session-p"
    assert "'/q'" in current.warnings[0]
    assert list(paths.handoff_cache.parent.glob("handoff-cache.json.corrupt-*"))
