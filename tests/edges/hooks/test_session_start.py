"""What the person sees from the hooks (issue 15): the SessionStart hook's ``systemMessage``
(Claude Code prints it under its banner) says where the session stands in at most two short
lines, only when there is something to say; reminders reach the person as well as the model.

The hooks run as Claude Code runs them: processes fed JSON, in real git repositories, with a
real outbox (SQLite) written by the core's own ``Outbox``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_session.tracker.outbox import Outbox, close_connections
from helpers.gitrepo import make_repo
from helpers.hookrun import ROOT, payload, run_hook
from helpers.records import record
from helpers.seen import answer_waiting, pause

PLUGIN = {"CLAUDE_PLUGIN_ROOT": str(ROOT)}


@pytest.fixture(autouse=True)
def _close_outboxes() -> Iterator[None]:
    yield
    close_connections()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def start(
    repo: Path,
    *,
    session_id: str = "sess-1",
    source: str = "startup",
    env: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    out, _ = run_hook(
        "SessionStart",
        payload("SessionStart", repo, session_id=session_id, source=source),
        cwd=repo,
        env=env,
    )
    return out


def refused_record(home: Path) -> None:
    outbox = Outbox(home / "claude-session" / "outbox.db")
    outbox.put(record())
    [entry] = outbox.claim(1)
    outbox.mark_rejected(entry, error="422 field too long", field="summary")


def orphan(repo: Path, home: Path) -> None:
    """A session of this project whose Claude Code is gone, never ended."""
    start(repo, session_id="old")
    path = home / "claude-session" / "ledger" / "old.json"
    entry = json.loads(path.read_text())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    entry["claude_pid"] = dead.pid
    path.write_text(json.dumps(entry))


def shown(out: dict[str, Any] | None) -> str:
    assert out is not None and "systemMessage" in out, out
    message = out["systemMessage"]
    assert isinstance(message, str)
    return message


# --- the start-up line ----------------------------------------------------------------------


def test_a_fresh_project_says_nothing_at_all(repo: Path, tmp_path: Path) -> None:
    assert start(repo) is None
    assert start(make_repo(tmp_path / "other"), session_id="sess-2", env=PLUGIN) is None
    assert start(repo, session_id="sess-1") is None  # the same session again


def test_a_pause_is_one_line_with_age_branch_summary_and_the_resume_command(
    repo: Path, isolated_home: Path
) -> None:
    pause(isolated_home, repo)
    message = shown(start(repo, env=PLUGIN))
    assert message == (
        'claude-session: paused 42 min ago on feature/x ("Half way through the '
        'parser"); /session:resume picks it up'
    ), message
    classic = shown(start(repo, source="resume"))  # the same session, classic install
    assert "/resume-session picks it up" in classic and "\n" not in classic


def test_the_model_keeps_its_fuller_note(repo: Path, isolated_home: Path) -> None:
    pause(isolated_home, repo)
    out = start(repo, env=PLUGIN)
    assert out is not None
    note = out["hookSpecificOutput"]["additionalContext"]
    assert "second line never shown" in note and "current branch: main" in note
    assert "second line" not in out["systemMessage"]


def test_a_pause_already_picked_up_is_not_announced_to_the_person(
    repo: Path, isolated_home: Path
) -> None:
    pause(isolated_home, repo, resumed_by="sess-0")
    out = start(repo)
    assert out is not None and "systemMessage" not in out


def test_a_waiting_answer_names_the_item_and_the_import_command(
    repo: Path, isolated_home: Path
) -> None:
    answer_waiting(isolated_home, repo)
    assert shown(start(repo, env=PLUGIN)) == (
        'claude-session: claude.ai\'s answer waits in "session-proj-2026-11-24"; /session:start '
        "imports it"
    )


def test_an_answer_kept_for_this_project_is_told_at_start_up(
    repo: Path, isolated_home: Path
) -> None:
    """findings/onepassword-2.md N3: an answer `handoff receive` had to keep never waits
    unseen; another project's kept answer is not this one's."""
    kept = isolated_home / "claude-session" / "pending-answers"
    kept.mkdir(parents=True)
    (kept / "a.json").write_text(json.dumps({"project_root": str(repo), "answer": "x"}))
    (kept / "b.json").write_text(json.dumps({"project_root": "/elsewhere", "answer": "y"}))
    assert shown(start(repo, env=PLUGIN)) == (
        "claude-session: claude.ai's answer is kept here until ClaudeSync takes it; "
        "`claude-session status` shows it, `claude-session sync` delivers it"
    )
    (kept / "a.json").unlink()
    after = start(repo, env=PLUGIN)
    assert after is None or "kept here" not in after.get("systemMessage", "")


def test_a_session_that_ended_without_end_is_told_once(repo: Path, isolated_home: Path) -> None:
    orphan(repo, isolated_home)
    message = shown(start(repo, session_id="new", env=PLUGIN))
    assert message == (
        "claude-session: the last session here ended without /session:end and was recorded"
    )
    assert start(repo, session_id="new", env=PLUGIN) is None  # told once: now it is history


def test_refused_records_are_told_with_where_to_look(repo: Path, isolated_home: Path) -> None:
    refused_record(isolated_home)
    close_connections()
    message = shown(start(repo))
    assert message == (
        "claude-session: 1 record not yet in the tracker (1 refused): see `claude-session status`"
    )
    out = start(repo)
    assert (
        out is not None
        and "claude-session sync" in (out["hookSpecificOutput"]["additionalContext"])
    )


def test_waiting_records_count_only_while_the_tracker_fails(
    repo: Path, isolated_home: Path
) -> None:
    outbox = Outbox(isolated_home / "claude-session" / "outbox.db")
    outbox.put(record())
    outbox.put(record())
    assert start(repo) is None  # on their way: the next command sends them
    outbox.note_failure("connection refused")
    assert shown(start(repo)) == (
        "claude-session: 2 records not yet in the tracker: see `claude-session status`"
    )


def test_everything_at_once_fits_in_two_lines_pause_first(repo: Path, isolated_home: Path) -> None:
    pause(isolated_home, repo)
    answer_waiting(isolated_home, repo)
    orphan(repo, isolated_home)
    refused_record(isolated_home)
    close_connections()
    lines = shown(start(repo, session_id="new", env=PLUGIN)).splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("claude-session: paused 42 min ago on feature/x")
    assert lines[1] == (
        'Claude.ai\'s answer waits in "session-proj-2026-11-24"; /session:start '
        "imports it; the last session here ended without /session:end and was "
        "recorded; 1 record not yet in the tracker (1 refused): see "
        "`claude-session status`"
    )


def test_text_from_state_reaches_the_terminal_without_escape_sequences(
    repo: Path, isolated_home: Path
) -> None:
    pause(isolated_home, repo, summary="\x1b]0;owned\x07\x1b[2J tidy \u202eup" + "x" * 200)
    message = shown(start(repo))
    assert "\x1b" not in message and "\x07" not in message and "\u202e" not in message
    assert "tidy up" in message and "…" in message and len(message) < 200


def test_compaction_does_not_repeat_the_line(repo: Path, isolated_home: Path) -> None:
    pause(isolated_home, repo)
    out = start(repo, source="compact")
    assert out is not None and "systemMessage" not in out


def test_our_warnings_come_first_and_the_line_is_kept(repo: Path, isolated_home: Path) -> None:
    pause(isolated_home, repo)
    ledger = isolated_home / "claude-session" / "ledger"
    ledger.mkdir(parents=True)
    (ledger / "broken.json").write_text("{not json")  # moved aside, with a warning
    lines = shown(start(repo)).splitlines()
    assert len(lines) == 2, lines
    assert "broken.json" in lines[0] and "claude-session: paused" not in lines[0]
    assert lines[1].startswith("claude-session: paused 42 min ago")


# --- reminders --------------------------------------------------------------------------------


def test_a_reminder_reaches_the_person_and_the_model_once_per_interval(
    repo: Path, isolated_home: Path
) -> None:
    (isolated_home / "remind-state.json").write_text(
        json.dumps(
            {
                "version": 1,
                "default": {},
                "projects": {str(repo): {"enabled": True, "every_minutes": 30, "dirty_files": 2}},
                "last_reminded": {},
            }
        )
    )
    for name in ("a", "b", "c"):
        (repo / name).write_text(name)
    out, _ = run_hook(
        "UserPromptSubmit", payload("UserPromptSubmit", repo, prompt="hi"), cwd=repo, env=PLUGIN
    )
    assert out is not None
    assert out["systemMessage"] == (
        "claude-session: 3 uncommitted files; /session:pause saves the work in flight (or commit)."
    )
    assert "3 uncommitted files" in out["hookSpecificOutput"]["additionalContext"]
    again, _ = run_hook(
        "UserPromptSubmit", payload("UserPromptSubmit", repo, prompt="hi"), cwd=repo, env=PLUGIN
    )
    assert again is None


def test_a_reminder_below_the_threshold_says_nothing(repo: Path, isolated_home: Path) -> None:
    (isolated_home / "remind-state.json").write_text(
        json.dumps(
            {
                "version": 1,
                "default": {},
                "projects": {str(repo): {"enabled": True, "every_minutes": 30, "dirty_files": 5}},
                "last_reminded": {},
            }
        )
    )
    (repo / "a").write_text("a")
    out, _ = run_hook("UserPromptSubmit", payload("UserPromptSubmit", repo, prompt="hi"), cwd=repo)
    assert out is None
