"""``base/state/pause.py``: pause-state.json's one owner (shape, locked edits, lock-free peek)."""

from __future__ import annotations

import json
from pathlib import Path

from claude_session.base import flow
from claude_session.base.state import pause
from claude_session.models import PauseEntry
from claude_session.paths import Paths


def entry(root: str, **extra: object) -> dict[str, object]:
    return {
        **pause.new_entry(
            project="p",
            project_root=root,
            context_file=f"{root}/ctx.md",
            paused_at="2026-11-24T10:00:00+00:00",
        ),
        **extra,
    }


def test_every_key_new_entry_writes_is_a_field_of_the_model() -> None:
    """design-2 #1a: the entry's shape is written once, here; the core validates it."""
    made = entry("/p", summary="s", unended=True)
    assert set(made) == set(PauseEntry.model_fields)
    assert PauseEntry.model_validate(made).summary == "s"


def test_a_damaged_entry_is_dropped_and_told_the_others_kept_and_the_file_copied(
    isolated_home: Path,
) -> None:
    paths = Paths(isolated_home)
    good = entry("/good")
    missing_time = entry("/bad")
    del missing_time["paused_at"]
    data = {"version": 1, "projects": {"/good": good, "/bad": missing_time, "/odd": [1]}}
    paths.pause_state.write_text(json.dumps(data))
    with flow.begin() as current:
        assert pause.get(paths, "/good") == good
        assert pause.get(paths, "/bad") is None
    assert len(current.warnings) == 1 and "2 unreadable pause entries" in current.warnings[0]
    copies = list(isolated_home.glob("pause-state.json.corrupt-*"))
    assert len(copies) == 1 and json.loads(copies[0].read_text()) == data


def test_peek_never_writes_and_reads_a_damaged_file_as_nothing(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    paths.pause_state.write_text('{"projects": {"/p": {"context_file": 1}}}')
    assert pause.peek(paths, "/p") is None
    paths.pause_state.write_text("{broken")
    assert pause.peek(paths, "/p") is None
    assert sorted(p.name for p in isolated_home.iterdir()) == ["pause-state.json"]


def test_peek_sees_what_put_wrote_and_waiting_drops_a_resumed_pause(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    pause.put(paths, "/p", entry("/p"))
    seen = pause.peek(paths, "/p")
    assert seen is not None and pause.waiting(seen) == seen
    pause.patch(paths, "/p", {"resumed_by": "s2"})
    assert pause.waiting(pause.peek(paths, "/p")) is None


def test_a_file_that_does_not_parse_keeps_every_whole_entry_and_is_told_once(
    isolated_home: Path,
) -> None:
    """newcomer-2 2.27: garbage in pause-state.json dropped every project's pause."""
    paths = Paths(isolated_home)
    first = entry("/work/api", summary="api {half}")
    damaged = (  # the second entry torn by garbage, the file cut short
        '{"version": 1, "projects": {"/work/api": ' + json.dumps(first) + ', "/work/web": '
        '{"project": "web", "project_root": "/work/w\x00GARBAGE'
    )
    paths.pause_state.write_text(damaged)
    with flow.begin() as call:
        found = pause.get(paths, "/work/api")
    assert found == first
    assert len(call.warnings) == 1 and "every readable entry was kept" in call.warnings[0]
    copies = list(isolated_home.glob("pause-state.json.corrupt-*"))
    assert len(copies) == 1 and copies[0].read_text() == damaged  # the damaged copy is kept
    assert json.loads(paths.pause_state.read_text())["projects"] == {"/work/api": first}
    with flow.begin() as again:
        assert pause.get(paths, "/work/api") == first
    assert again.warnings == []  # rewritten with what was kept: told once


def test_salvage_finds_each_whole_entry_wherever_the_damage_is() -> None:
    good, other = entry("/a"), entry("/b", note="{not an entry}")
    text = '{"projects": {"/a": ' + json.dumps(good) + ', "/b": ' + json.dumps(other)
    assert pause.salvage(text) == {"projects": {"/a": good, "/b": other}}  # cut short
    assert pause.salvage("{ this is not json") is None
    assert pause.salvage('{"projects": {"/c": {"project": "p"}}') is None  # not an entry
