"""Our log files (``hooks.log``, ``statusline.log``) stay bounded: rotated past a size, the
same failure logged once when asked (redteam-2 notes: appended without rotation, grew with N10).
"""

from __future__ import annotations

import json
from pathlib import Path

from claude_session.base.statefile import LOG_KEEP, append_log
from helpers.gitrepo import make_repo
from helpers.hookrun import run_hook


def test_a_log_is_rotated_past_its_limit_and_keeps_two_old_ones(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "hooks.log"
    for n in range(400):
        append_log(log, f"t{n}", "x" * 90, limit=4096)
    names = sorted(p.name for p in log.parent.iterdir())
    assert names == ["hooks.log", "hooks.log.1", "hooks.log.2"] and LOG_KEEP == 2
    assert all(p.stat().st_size <= 4096 for p in log.parent.iterdir())
    assert log.read_text().splitlines()[-1].startswith("t399 ")  # the newest line is kept


def test_once_skips_only_a_repeat_of_the_last_line(tmp_path: Path) -> None:
    log = tmp_path / "statusline.log"
    assert append_log(log, "t1", "boom", once=True)
    assert not append_log(log, "t2", "boom", once=True)
    assert append_log(log, "t3", "other", once=True)
    assert append_log(log, "t4", "boom", once=True)
    assert append_log(log, "t5", "boom")  # without once, every line
    assert log.read_text().split() == ["t1", "boom", "t3", "other", "t4", "boom", "t5", "boom"]


def test_a_message_with_line_breaks_is_one_line(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    append_log(log, "t1", "a\nforged 2026-01-01 line\r\nb")
    assert log.read_text() == "t1 a forged 2026-01-01 line b\n"


def test_the_hooks_log_stays_bounded_when_every_hook_fails(
    tmp_path: Path, isolated_home: Path
) -> None:
    """A hook failing on every event (here: a ledger folder that is a file) keeps appending
    warnings; the log is rotated, never past its limit by more than a line."""
    repo = make_repo(tmp_path / "proj")
    data = isolated_home / "claude-session"
    data.mkdir()
    (data / "ledger").write_text("not a folder")
    log = data / "logs" / "hooks.log"
    log.parent.mkdir()
    log.write_text("old\n" * 300_000)  # 1.2 MB from before the rotation existed
    out, _ = run_hook(
        "Stop",
        {"session_id": "s1", "cwd": str(repo), "hook_event_name": "Stop"},
        cwd=repo,
    )
    assert out is not None and "failed" in json.dumps(out)
    assert log.stat().st_size < 10_000 and (data / "logs" / "hooks.log.1").exists()
