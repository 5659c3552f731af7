"""``edges/hooks/events.py``: the hook runner and its events, run as Claude Code runs them
(``hooks/run.py EVENT``, a process with JSON on stdin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_session.base.state import ledger
from claude_session.paths import Paths
from helpers.clirun import cli
from helpers.gitrepo import git, make_repo
from helpers.hookrun import EVENTS, ROOT, RUN, hook, hook_argv, ledger_entry, payload, run_hook


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", '{"session_id": 5}', "\x00\xff"])
def test_every_hook_survives_garbage(event: str, stdin: str, repo: Path) -> None:
    out, _ = run_hook(event, None, cwd=repo, raw=stdin)  # exit 0 is checked there
    is_object = stdin.strip() == "" or stdin.startswith("{")
    if is_object:
        assert out is None or "systemMessage" not in out
    else:  # the user is told, in one line, and Claude Code goes on
        assert out is not None and out["systemMessage"].startswith(
            f"claude-session {event} hook failed:"
        )
        assert "Traceback" not in out["systemMessage"]


@pytest.mark.parametrize("event", list(EVENTS))
def test_every_hook_works_outside_git(event: str, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    out, _ = run_hook(event, payload(event, folder, source="startup"), cwd=folder)
    assert out is None or "systemMessage" not in out


def _transcript(path: Path, *, long_line: bool) -> None:
    """A short transcript of session ``sess-1``; with ``long_line``, one line past the digest's
    8 MiB (a huge tool result), which the readers skip."""
    lines = [
        {"type": "user", "sessionId": "sess-1", "message": {"role": "user", "content": "hi"}},
        {
            "type": "assistant",
            "sessionId": "sess-1",
            "requestId": "r1",
            "message": {
                "id": "m1",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {"input_tokens": 5, "output_tokens": 3},
            },
        },
    ]
    if long_line:
        big = {"role": "user", "content": "x" * (9 * 1024 * 1024)}
        lines.insert(1, {"type": "user", "sessionId": "sess-1", "message": big})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


@pytest.mark.parametrize("where", ["git", "plain", "long transcript line", "no transcript"])
def test_a_hook_that_went_well_writes_nothing_on_stderr(
    where: str, repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    """newcomer-2: every hook wrote its timing on stderr, which Claude Code shows; then a
    skipped transcript line still did ("skipped a transcript line longer than ..."). Every
    event, each start source, a SessionEnd that finds its session ended already and a long
    line skipped: nothing on stderr; the skip is in hooks.log."""
    cwd = repo
    if where == "plain":
        cwd = tmp_path / "plain"
        cwd.mkdir()
    if where != "no transcript":
        _transcript(cwd / "t.jsonl", long_line=where == "long transcript line")
    runs = [("SessionStart", {"source": source}) for source in ("startup", "resume", "clear")]
    runs += [(event, {}) for event in EVENTS if event != "SessionStart"]
    runs += [("SessionStart", {"source": "compact"}), ("SessionEnd", {"reason": "exit"})]
    for event, extra in runs:
        _, proc = run_hook(event, payload(event, cwd, **extra), cwd=cwd)
        assert proc.stderr == "", (event, extra)
    log = isolated_home / "claude-session" / "logs" / "hooks.log"
    if where == "long transcript line":
        assert "skipped a transcript line longer than" in log.read_text()


def test_session_start_records_the_session(repo: Path, isolated_home: Path) -> None:
    out, _ = run_hook("SessionStart", payload("SessionStart", repo, source="startup"), cwd=repo)
    assert out is None  # nothing paused, nothing to say
    entry = ledger_entry(isolated_home, "sess-1")
    assert entry["project_root"] == str(repo) and entry["starting_branch"] == "main"
    assert entry["starting_head"] == git(repo, "rev-parse", "HEAD")
    assert entry["status"] == "active" and entry["claude_pid"] > 0


def test_session_start_tells_about_a_paused_session(repo: Path, isolated_home: Path) -> None:
    context = isolated_home / "contexts" / "proj-x-pause.md"
    context.parent.mkdir()
    context.write_text("---\nproject: proj\n---\n")
    paused_at = (datetime.now(timezone.utc) - timedelta(minutes=42)).isoformat()
    (isolated_home / "pause-state.json").write_text(
        json.dumps(
            {
                "version": 1,
                "projects": {
                    str(repo): {
                        "project": "proj",
                        "project_root": str(repo),
                        "branch": "feature/x",
                        "context_file": str(context),
                        "paused_at": paused_at,
                        "summary": "Half way through the parser",
                    }
                },
            }
        )
    )
    out, _ = run_hook(
        "SessionStart",
        payload("SessionStart", repo, source="startup"),
        cwd=repo,
        env={"CLAUDE_PLUGIN_ROOT": str(ROOT)},
    )
    assert out is not None
    text = out["hookSpecificOutput"]["additionalContext"]
    assert out["hookSpecificOutput"]["hookEventName"] == "SessionStart"
    assert "42 min ago" in text and "feature/x" in text and "Half way through the parser" in text
    assert "/session:resume" in text and "current branch: main" in text
    assert len(text) < 10_000
    classic, _ = run_hook(
        "SessionStart", payload("SessionStart", repo, session_id="s2", source="startup"), cwd=repo
    )
    assert classic is not None
    assert "/resume-session" in classic["hookSpecificOutput"]["additionalContext"]


def test_session_start_mentions_a_waiting_claude_ai_answer(repo: Path, isolated_home: Path) -> None:
    cache = isolated_home / "claude-session" / "handoff-cache.json"
    cache.parent.mkdir(parents=True)
    cache.write_text(
        json.dumps(
            {
                "version": 1,
                "projects": {str(repo): {"waiting": True, "item": "session-proj-2026-11-24"}},
            }
        )
    )
    out, _ = run_hook("SessionStart", payload("SessionStart", repo, source="startup"), cwd=repo)
    assert out is not None
    assert "session-proj-2026-11-24" in out["hookSpecificOutput"]["additionalContext"]


def test_stop_refreshes_last_activity_and_transcript(repo: Path, isolated_home: Path) -> None:
    run_hook("SessionStart", payload("SessionStart", repo, source="startup"), cwd=repo)
    before = ledger_entry(isolated_home, "sess-1")["last_activity"]
    time.sleep(0.01)
    run_hook("Stop", payload("Stop", repo, transcript_path="/tmp/other.jsonl"), cwd=repo)
    entry = ledger_entry(isolated_home, "sess-1")
    assert entry["last_activity"] > before and entry["transcript_path"] == "/tmp/other.jsonl"


def test_session_end_finalizes_and_spools_the_record(repo: Path, isolated_home: Path) -> None:
    run_hook("SessionStart", payload("SessionStart", repo, source="startup"), cwd=repo)
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "a")
    run_hook("SessionEnd", payload("SessionEnd", repo, reason="other"), cwd=repo)
    entry = ledger_entry(isolated_home, "sess-1")
    assert entry["status"] == "finalized"
    spooled = list((isolated_home / "claude-session" / "spool").glob("*.json"))
    assert len(spooled) == 1
    record = json.loads(spooled[0].read_text())
    assert record["id"] == entry["record_id"] and record["commits_count"] == 1
    assert record["files_changed"] == ["a.txt"] and record["end_mode"] == "unended"


def test_session_start_finalizes_a_dead_sessions_leftover(repo: Path, isolated_home: Path) -> None:
    run_hook(
        "SessionStart", payload("SessionStart", repo, session_id="old", source="startup"), cwd=repo
    )
    path = isolated_home / "claude-session" / "ledger" / "old.json"
    entry = json.loads(path.read_text())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    entry["claude_pid"] = dead.pid
    path.write_text(json.dumps(entry))
    run_hook(
        "SessionStart", payload("SessionStart", repo, session_id="new", source="startup"), cwd=repo
    )
    assert ledger_entry(isolated_home, "old")["status"] == "finalized"
    assert ledger_entry(isolated_home, "new")["status"] == "active"


def test_pre_compact_saves_a_snapshot_that_compact_start_reinjects(
    repo: Path, isolated_home: Path
) -> None:
    transcript = repo / "t.jsonl"
    transcript.write_text(
        json.dumps(
            {
                "type": "user",
                "message": {"role": "user", "content": "please refactor the tokenizer"},
            }
        )
        + "\n"
    )
    run_hook("SessionStart", payload("SessionStart", repo, source="startup"), cwd=repo)
    (repo / "dirty.py").write_text("x\n")
    run_hook("PreCompact", payload("PreCompact", repo, trigger="auto"), cwd=repo)
    snapshot = Path(ledger_entry(isolated_home, "sess-1")["compact_context"])
    assert "please refactor the tokenizer" in snapshot.read_text()
    assert "dirty.py" in snapshot.read_text()
    out, _ = run_hook("SessionStart", payload("SessionStart", repo, source="compact"), cwd=repo)
    assert out is not None
    assert "please refactor the tokenizer" in out["hookSpecificOutput"]["additionalContext"]


def test_a_prompt_sent_as_content_blocks_is_in_the_compaction_snapshot(
    repo: Path, isolated_home: Path
) -> None:
    """design-2 3.6: the digest read list content and the snapshot did not; one rule now."""
    blocks = [{"type": "text", "text": "rename the lexer"}, {"type": "image", "source": {}}]
    result = [{"type": "tool_result", "tool_use_id": "t1", "content": "NOT A PROMPT"}]
    lines = [
        {"type": "user", "message": {"role": "user", "content": blocks}},
        {"type": "user", "message": {"role": "user", "content": result}},
        {"type": "user", "isMeta": True, "message": {"role": "user", "content": "META"}},
    ]
    (repo / "t.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    run_hook("PreCompact", payload("PreCompact", repo, trigger="auto"), cwd=repo)
    snapshot = Path(ledger_entry(isolated_home, "sess-1")["compact_context"]).read_text()
    assert "- rename the lexer" in snapshot
    assert "NOT A PROMPT" not in snapshot and "META" not in snapshot


def test_prompt_submit_reminds_once_per_interval(repo: Path, isolated_home: Path) -> None:
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
    out, _ = run_hook("UserPromptSubmit", payload("UserPromptSubmit", repo, prompt="hi"), cwd=repo)
    assert out is not None
    assert "3 uncommitted files" in out["hookSpecificOutput"]["additionalContext"]
    again, _ = run_hook(
        "UserPromptSubmit", payload("UserPromptSubmit", repo, prompt="hi"), cwd=repo
    )
    assert again is None


def test_prompt_submit_is_silent_when_reminders_are_off(repo: Path) -> None:
    for name in ("a", "b", "c", "d"):
        (repo / name).write_text(name)
    out, _ = run_hook("UserPromptSubmit", payload("UserPromptSubmit", repo, prompt="hi"), cwd=repo)
    assert out is None


HEAVY = ("mcp", "pydantic", "httpx", "onepassword", "git", "sqlalchemy", "anyio", "starlette")


@pytest.mark.parametrize("event", list(EVENTS))
def test_hooks_import_no_heavy_library(event: str, repo: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import runpy, sys, json\n"
        f"sys.path.insert(0, {str(ROOT / 'server')!r})\n"
        "import claude_session.edges.hooks.fastexit as fastexit\n"
        "def stay(code=0):\n"
        "    raise SystemExit(code)\n"
        "fastexit.exit_now = stay  # the probe looks at sys.modules after the hook\n"
        f"sys.argv = [{str(RUN)!r}, {event!r}]\n"
        "try:\n"
        f"    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "sys.stderr.write('HEAVY=' + json.dumps(heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, str(probe)],
        input=json.dumps(payload(event, repo, source="startup")),
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    heavy = json.loads(proc.stderr.rsplit("HEAVY=", 1)[1])
    assert heavy == []


#: standard-library modules that cost the SessionStart hook milliseconds at every start and that
#: its path does not need (bench/bench_claude_code.py measures the hook against a bare start)
SLOW_TO_IMPORT = (
    "typing",
    "dataclasses",
    "inspect",
    "ast",
    "subprocess",
    "threading",
    "logging",
    "tempfile",
    "hashlib",
    "asyncio",
)


def test_session_start_with_a_pause_imports_only_what_its_path_needs(
    repo: Path, isolated_home: Path
) -> None:
    subprocess.run(
        [sys.executable, "-m", "claude_session", "pause", "--summary", "lunch"],
        cwd=repo,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "server")},
    )
    proc = subprocess.run(
        hook_argv("SessionStart", "-I", "-S", "-X", "importtime"),
        input=json.dumps(payload("SessionStart", repo, source="startup")),
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert "paused" in proc.stdout
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "claude_session.edges.hooks.events" in imported
    assert sorted(imported & set(SLOW_TO_IMPORT)) == []


def test_hook_reports_its_own_failure_as_a_warning(repo: Path, isolated_home: Path) -> None:
    # the ledger folder is a file: the hook cannot write, must still exit 0 and say so
    (isolated_home / "claude-session").mkdir()
    (isolated_home / "claude-session" / "ledger").write_text("not a folder")
    out, _ = run_hook("SessionStart", payload("SessionStart", repo, source="startup"), cwd=repo)
    assert out is not None and "claude-session" in out["systemMessage"]


# --- untrusted transcripts (red team H4-H6) ------------------------------------------------


@pytest.mark.parametrize("event", ["PreCompact", "SessionEnd", "Stop"])
def test_H4_dev_zero_as_transcript_never_hangs_a_hook(event: str, repo: Path) -> None:
    hook("SessionStart", repo, source="startup")
    out = hook(event, repo, transcript_path="/dev/zero")
    assert out is None or "systemMessage" not in out


@pytest.mark.parametrize("event", ["PreCompact", "SessionEnd"])
def test_H5_fifo_as_transcript_never_hangs_a_hook(event: str, repo: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "t.jsonl"
    os.mkfifo(fifo)
    hook("SessionStart", repo, source="startup")
    out = hook(event, repo, transcript_path=str(fifo))
    assert out is None or "systemMessage" not in out


def test_H6_a_stored_bad_transcript_path_never_blocks_later_starts_or_sync(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    hook("SessionStart", repo, session_id="dead", source="startup")
    hook("Stop", repo, session_id="dead", transcript_path=str(fifo))
    with ledger.edit(Paths(isolated_home), "dead") as data:
        data["claude_pid"] = 2**22 + 12345  # a Claude Code that is gone
    assert entry(isolated_home, "dead")["transcript_path"] == str(fifo)
    hook("SessionStart", repo, session_id="next", source="startup")
    assert entry(isolated_home, "dead")["status"] == "finalized"
    # the same with the CLI: start and sync finalize the orphan and return
    hook("Stop", repo, session_id="dead2", transcript_path="/dev/zero")
    with ledger.edit(Paths(isolated_home), "dead2") as data:
        data["claude_pid"] = 2**22 + 12346
    assert cli("sync", cwd=repo).returncode == 0
    assert entry(isolated_home, "dead2")["status"] == "finalized"


# --- corrupt state in hooks: moved aside and told --------------------------------------------


@pytest.mark.parametrize("event", EVENTS)
def test_hooks_move_a_corrupt_ledger_entry_aside_and_say_so(
    event: str, repo: Path, isolated_home: Path
) -> None:
    folder = isolated_home / "claude-session" / "ledger"
    folder.mkdir(parents=True)
    (folder / "s1.json").write_bytes(b"garbage \xff")
    (isolated_home / "pause-state.json").write_text("{oops")
    out = hook(event, repo, source="startup", prompt="hi")
    moved = sorted(p.name for p in isolated_home.rglob("*.corrupt-*"))
    if event == "UserPromptSubmit":  # reads neither file unless reminders are on
        assert out is None and moved == []
        return
    assert moved, "nothing was moved aside"
    assert out is not None and "moved" in out["systemMessage"]
    kept = [p for p in isolated_home.rglob("*.corrupt-*") if p.name.startswith("s1.json")]
    assert not kept or kept[0].read_bytes() == b"garbage \xff"


def test_hook_notes_name_the_commands_of_the_install_mode(repo: Path, isolated_home: Path) -> None:
    assert cli("start", cwd=repo).returncode == 0
    assert cli("pause", "--summary", "lunch", cwd=repo).returncode == 0
    classic = hook("SessionStart", repo, session_id="c", source="startup")
    plugin = hook(
        "SessionStart",
        repo,
        session_id="p",
        source="startup",
        env={"CLAUDE_PLUGIN_ROOT": str(ROOT)},
    )
    assert classic and "/resume-session" in classic["hookSpecificOutput"]["additionalContext"]
    assert plugin and "/session:resume" in plugin["hookSpecificOutput"]["additionalContext"]


def entry(home: Path, sid: str) -> dict[str, Any]:
    found = ledger.get(Paths(home), sid)
    assert found is not None
    return found
