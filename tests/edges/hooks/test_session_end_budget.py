"""The SessionEnd hook reads within its deadline whatever the transcript's size, and a session
whose transcript it could not read in time is left for the next start to finalize (N19 of
redteam-2: a 290 MB transcript made the hook give up at its deadline, entry left active)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import transcripts as tr
from helpers.gitrepo import make_repo
from helpers.hookrun import ROOT, ledger_entry, run_hook

PLUGIN = {"CLAUDE_PLUGIN_ROOT": str(ROOT)}


def usage_lines(path: Path, megabytes: int) -> Path:
    """A transcript of one request and many answers with usage, ``megabytes`` long."""
    first = json.dumps(tr.user("build the parser")) + "\n"
    answers = []
    for n in range(2000):
        line = tr.assistant(tr.text("x" * 300))
        line["message"]["id"] = f"msg_{n}"
        answers.append(json.dumps(line) + "\n")
    block = "".join(answers).encode()
    with path.open("wb") as handle:
        handle.write(first.encode())
        for _ in range(megabytes * 1024 * 1024 // len(block) + 1):
            handle.write(block)
    return path


def sparse(path: Path, gigabytes: int) -> Path:
    """A huge file of NULs without a newline (no disk used)."""
    with path.open("wb") as handle:
        handle.write((json.dumps(tr.user("build the parser")) + "\n").encode())
        handle.truncate(gigabytes * 1024**3)
    return path


@pytest.mark.parametrize("make", ["usage-200MB", "sparse-3GB"])
def test_a_huge_transcript_never_makes_session_end_give_up(
    tmp_path: Path, isolated_home: Path, make: str
) -> None:
    """N19: 200 MB of usage lines, or a 3 GB file without line breaks: SessionEnd ends within
    its deadline, and the session is finalized (by the hook, or by the next start with the
    hook's end time) into exactly one record."""
    repo = make_repo(tmp_path / "proj")
    big = tmp_path / "t.jsonl"
    usage_lines(big, 200) if make.startswith("usage") else sparse(big, 3)
    data = {"session_id": tr.SID, "cwd": str(repo), "transcript_path": str(big)}
    run_hook("SessionStart", {**data, "hook_event_name": "SessionStart"}, cwd=repo, env=PLUGIN)
    out, proc = run_hook(
        "SessionEnd", {**data, "hook_event_name": "SessionEnd"}, cwd=repo, env=PLUGIN
    )
    said = json.dumps(out or {})
    assert "HookDeadline" not in said and "failed" not in said, said
    entry = ledger_entry(isolated_home, tr.SID)
    if entry["status"] == "active":  # not read in time: left for the next start, end time kept
        assert entry["ended_hint"]
        run_hook(
            "SessionStart",
            {"session_id": "next", "cwd": str(repo), "hook_event_name": "SessionStart"},
            cwd=repo,
            env=PLUGIN,
        )
        entry = ledger_entry(isolated_home, tr.SID)
        assert entry["ended_at"] == ledger_entry(isolated_home, tr.SID)["ended_hint"]
    assert entry["status"] == "finalized", entry
    spooled = list((isolated_home / "claude-session" / "spool").glob("*.json"))
    assert len(spooled) == 1
