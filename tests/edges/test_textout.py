"""The text people read (edges/textout.py): the same data as --json, said in words, never a
Python repr of a dict or a list."""

from __future__ import annotations

import re
from typing import Any

import pytest

from claude_session.edges.textout import render_text

#: what a Python repr of a dict or a list looks like in text
REPR = re.compile(r"\{'|\['|': |True\b|False\b|None\b")


def _text(verb: str, data: dict[str, Any]) -> str:
    text = render_text(verb, {"warnings": [], **data})
    assert not REPR.search(text), text
    return text


def test_remind_says_the_settings_in_words() -> None:
    on = _text(
        "remind",
        {
            "settings": {"enabled": True, "every_minutes": 1, "dirty_files": 1},
            "scope": "project",
            "last_reminded": None,
        },
    )
    assert on == (
        "Reminders (this project): on: a reminder after 1 minute without a pause or commit, "
        "or at 1 uncommitted file.\nLast reminded: never.\n"
    )
    off = _text(
        "remind",
        {
            "settings": {"enabled": False, "every_minutes": 45, "dirty_files": 10},
            "scope": "default",
            "last_reminded": "2026-12-04T13:00:00+00:00",
        },
    )
    assert off.startswith("Reminders (default for every project): off.")
    assert "Last reminded: 2026-12-04 13:00." in off


def test_maintenance_import_and_sync_in_words() -> None:
    run = {"id": "0123456789", "command": "npm-audit", "status": "ok", "results": {"n": 1}}
    text = _text("maintenance", {"session_id": "s1", "run": {**run, "notes": "2 low"}})
    assert text.startswith("Recorded npm-audit: ok (run 01234567) in session s1;")
    assert "Notes: 2 low" in text
    nothing = _text("import", {"status": "nothing_to_import", "item": None})
    assert nothing == "No claude.ai answer waits for this project: nothing was imported.\n"
    sync = _text(
        "sync",
        {
            "sent": 1,
            "remaining": 2,
            "auth_failed": 2,
            "rejected": 0,
            "finalized": [],
            "retried_handoffs": 0,
            "tracker": "tracker at https://t.example",
        },
    )
    assert sync == (
        "Sent 1 record to the tracker at https://t.example; 2 waiting, 2 for a valid tracker key.\n"
    )


def test_install_and_uninstall_in_words() -> None:
    classic = _text(
        "install",
        {
            "mode": "classic",
            "commands": ["/h/.claude/commands/start.md", "/h/.claude/commands/pause.md"],
            "hooks": ["SessionStart", "Stop"],
            "mcp": "registered as 'session' (user scope)",
            "routine": "/h/.claude/routines/handoff.json (written with the defaults)",
        },
    )
    assert "2 commands in ~/.claude/commands (/start, /pause)" in classic
    assert "hooks for SessionStart, Stop" in classic and "run /start." in classic
    plugin = _text(
        "install",
        {"mode": "plugin", "marketplace": "/m", "plugin": "session@claude-session", "runs": "/py"},
    )
    assert plugin.startswith("Installed the plugin session@claude-session from /m;")
    assert "run /session:start." in plugin
    removed = _text(
        "uninstall",
        {"removed_commands": ["/a.md"], "removed_hooks": 5, "mcp": "removed", "statusline": None},
    )
    assert removed == "Removed 1 command file and 5 hooks; MCP server removed.\n"


def test_an_unknown_verbs_data_is_never_a_repr() -> None:
    text = _text("anything", {"listing": ["a", "b"], "nested": {"on": True, "n": 2}})
    assert text == "listing: a, b\nnested: on=yes, n=2\n"


def test_status_after_a_resume_is_not_paused() -> None:
    pause = {
        "branch": "feature",
        "paused_at": "2026-12-04T12:00:00+00:00",
        "context_file": "/c.md",
        "resumed_at": "2026-12-04T12:30:00+00:00",
    }
    status = {
        "project": "app",
        "project_root": "/app",
        "branch": "feature",
        "reminders": {"enabled": False, "every_minutes": 30, "dirty_files": 10},
        "vault": "local",
        "tracker": "local",
    }
    resumed = _text("status", {**status, "pause": pause})
    assert (
        "Paused: no (the pause on feature of 2026-12-04 12:00 was resumed at 2026-12-04 12:30; "
        "its context is /c.md)" in resumed
    )
    waiting = _text("status", {**status, "pause": {**pause, "resumed_at": None}})
    assert "Paused: on feature at 2026-12-04T12:00:00+00:00 (/c.md)" in waiting


def _start(**fields: Any) -> dict[str, Any]:
    return {"status": "ready", "session_id": "s1", "project": "app", "branch": "main", **fields}


def test_start_says_what_it_did_and_what_next() -> None:
    fresh = _text("start", _start(context="")).splitlines()
    assert fresh[0] == "Session s1 ready in app on main"
    assert fresh[1].startswith("A new session (nothing was paused here). Next: work as usual;")
    assert len(fresh) == 2
    picked = _text("start", _start(context="# Session context: app\n")).splitlines()
    assert picked[1].startswith("It continues from the context below. Next:")
    detached = _text("resume", _start(branch=None, switched_branch=True, context="x"))
    assert "Switched to branch None" not in detached
    assert "Checked out the paused commit: HEAD is detached (no branch)." in detached


def _ended(**fields: Any) -> dict[str, Any]:
    record = {
        "duration_minutes": 3,
        "commits_count": 1,
        "files_changed": ["a.py"],
        "tokens_input": 0,
        "tokens_output": 0,
    }
    return {
        "session_id": "s1",
        "mode": "standard",
        "record": record,
        "pushed": False,
        "tracker": "local",
        **fields,
    }


def test_end_says_each_thing_once_and_counts_in_english() -> None:
    text = _text("end", _ended(push_detail="Push rejected by 'origin/main' (x).")).splitlines()
    assert text[0].endswith("3 min, 1 commit, 1 file changed, 0 in / 0 out tokens")
    assert text.count("Push: Push rejected by 'origin/main' (x).") == 1
    refused = "The tracker refused the API key (HTTP 401)."
    auth = _text(
        "end",
        _ended(
            tracker="auth_failed",
            tracker_detail=refused,
            warnings=[f"{refused} The record waits in the outbox; until the key is fixed."],
        ),
    )
    assert auth.count(refused) == 1 and "Tracker: auth_failed\n" in auth


@pytest.mark.parametrize(
    ("shas", "words"), [(["a" * 40], "1 WIP commit"), (["a" * 40, "b" * 40], "2 WIP commits")]
)
def test_end_says_it_squashed_the_wip_commits(shas: list[str], words: str) -> None:
    text = _text("end", _ended(commit="c" * 40, squashed_wip=shas))
    assert f"The end commit takes in {words} (aaaaaaaaaa" in text
    assert "`end --keep-wip` keeps WIP commits as made." in text
