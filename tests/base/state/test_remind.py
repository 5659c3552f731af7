"""``base/state/remind.py``: reminder settings, their one defaults table and one clamped merge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_session.base.state import remind
from claude_session.errors import ClaudeSessionError
from claude_session.paths import Paths


def test_the_merge_takes_project_over_default_over_the_table_and_clamps_each_value() -> None:
    data = {
        "default": {"enabled": True, "every_minutes": 0, "dirty_files": "many"},
        "projects": {"/p": {"every_minutes": 10**9, "unknown": 1}},
    }
    assert remind.settings_for(data, "/p") == {
        "enabled": True,
        "every_minutes": 1440,
        "dirty_files": remind.DEFAULTS["dirty_files"],
    }
    assert remind.settings_for(data, "/other")["every_minutes"] == 1
    assert remind.settings_for({"projects": [1], "default": None}, "/p") == remind.DEFAULTS


def test_peek_gives_what_set_settings_wrote_and_never_writes(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    assert remind.peek(paths) == {}
    remind.set_settings(paths, "/p", {"enabled": True, "every_minutes": 15})
    assert remind.settings_for(remind.peek(paths), "/p")["every_minutes"] == 15
    remind.mark_reminded(paths, "/p", "2026-12-04T10:00:00+00:00")
    told = remind.last_reminded(remind.peek(paths), "/p")
    assert told is not None and told.hour == 10
    paths.remind_state.write_text("{broken")
    assert remind.peek(paths) == {} and paths.remind_state.read_text() == "{broken"


def test_a_value_outside_its_range_is_refused_with_the_range(isolated_home: Path) -> None:
    with pytest.raises(ClaudeSessionError, match="from 1 to 1440"):
        remind.set_settings(Paths(isolated_home), None, {"every_minutes": 0})
    assert not Paths(isolated_home).remind_state.exists()


def test_a_damaged_part_is_dropped_the_rest_kept(isolated_home: Path) -> None:
    paths = Paths(isolated_home)
    paths.remind_state.write_text(
        json.dumps({"version": 1, "projects": {"/p": 3, "/q": {"enabled": True}}})
    )
    data = remind.read(paths)
    assert "/p" not in data["projects"] and remind.settings_for(data, "/q")["enabled"] is True
    assert list(isolated_home.glob("remind-state.json.corrupt-*"))
