"""Hostile and broken state files: arbitrary bytes in every state file never crash an owner's
read (a damaged one is moved or copied aside, byte for byte) and leave the flows working."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_session.base import flow, sessions
from claude_session.base.state import ledger, pause, remind
from claude_session.core.facade import Core
from claude_session.paths import Paths
from helpers.hostile import bytes_or_json, json_values

FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FLOWS = settings(max_examples=60, deadline=None)  # each example runs real flows


def _home() -> Paths:
    home = Path(tempfile.mkdtemp(prefix="hostile-"))
    return Paths(home)


def _state_files(paths: Paths) -> list[tuple[Path, Callable[[], object]]]:
    """Each state file and its owner's validated read."""
    return [
        (paths.pause_state, lambda: pause.get(paths, "/p")),
        (paths.remind_state, lambda: remind.read(paths)),
        (paths.ledger_entry("s"), lambda: ledger.get(paths, "s")),
    ]


@FAST
@given(content=bytes_or_json())
def test_any_bytes_in_a_state_file_never_crash_and_corrupt_ones_are_moved_aside(
    content: bytes,
) -> None:
    paths = _home()
    for path, read in _state_files(paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        with flow.begin() as current:  # a moved-aside file is told to the flow reading it
            data = read()
        assert data is None or isinstance(data, dict)
        aside = list(path.parent.glob(f"{path.name}.corrupt-*"))
        if current.warnings:  # refused: moved (or, partly readable, copied) aside byte for byte
            assert len(aside) == 1 and aside[0].read_bytes() == content
            assert not path.exists() or path.read_bytes() == content
        else:  # accepted as it is: the file is untouched
            assert path.read_bytes() == content and not aside
        for item in aside:
            item.unlink()


@FLOWS
@given(content=bytes_or_json())
def test_any_bytes_in_the_pause_state_leave_the_flows_working(content: bytes) -> None:
    paths = _home()
    folder = paths.home / "project"
    folder.mkdir()
    paths.pause_state.write_bytes(content)
    settings_ = _settings(paths)
    with Core(settings_) as core:
        try:
            core.pause(folder, session_id="s", summary="hostile")
        except Exception as exc:  # only a clear refusal of a newer format is allowed
            assert "newer claude-session" in str(exc), exc
            return
        resumed = core.resume(folder, session_id="s")
    assert resumed.status == "ready" and "hostile" in resumed.context


def _settings(paths: Paths) -> Any:
    from claude_session.config import Settings

    return Settings.from_env({"CLAUDE_CONFIG_DIR": str(paths.home)})


@FLOWS
@given(
    entry=st.dictionaries(
        st.sampled_from(
            [
                "status",
                "started_at",
                "last_activity",
                "claude_pid",
                "starting_head",
                "summary",
                "transcript_path",
                "maintenance_runs",
                "security_findings",
                "record_id",
                "source",
                "project",
                "repository_url",
                "context_id",
            ]
        ),
        json_values,
        max_size=8,
    ),
    raw=st.binary(max_size=100),
)
def test_any_ledger_entry_never_stops_orphan_finalizing_or_the_spool(
    entry: dict[str, Any], raw: bytes
) -> None:
    paths = _home()
    paths.ledger.mkdir(parents=True)
    entry.update(session_id="odd", project_root=str(paths.home / "nowhere"))
    (paths.ledger / "odd.json").write_text(json.dumps(entry))
    (paths.ledger / "raw.json").write_bytes(raw)
    sessions.finalize_orphans(paths, project_root=None, keep=None)
    with Core(_settings(paths)) as core:
        result = core.sync()
    assert result.rejected == 0 or result.remaining >= result.rejected
