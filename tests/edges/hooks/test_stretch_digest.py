"""The digest of a resumed stretch reads only the stretch: from the byte where the stretch began
in its transcript (the SessionStart hook of a resume, or a pause, notes it), so what came before,
and what an earlier record told already, is not in it. Real hook and CLI processes, a real git
repository; the cost side is bench/bench_stretch_digest.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from helpers.clirun import cli
from helpers.gitrepo import commit_file, make_repo
from helpers.hookrun import ledger_entry, payload, run_hook
from helpers.transcripts import SID, assistant, text, tool, tool_result, user


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def part(repo: Path, word: str, n: int) -> list[dict[str, Any]]:
    """One stretch's lines: a request, an edit of ``<word>.py`` and a reply, each response with
    its own message id."""
    lines = [
        user(f"{word} request: do the {word.lower()} part"),
        assistant(text("On it."), tool("Write", file_path=str(repo / f"{word}.py"), content="x")),
        tool_result(),
        assistant(text(f"{word} reply: done.")),
    ]
    for k, line in enumerate(lines):
        if line["type"] == "assistant":
            line["message"]["id"] = f"msg_{word}_{n}_{k}"
    return lines


def append(path: Path, lines: list[dict[str, Any]]) -> None:
    with path.open("a") as out:
        out.writelines(json.dumps(line) + "\n" for line in lines)


def spooled(home: Path) -> dict[str, dict[str, Any]]:
    found = (json.loads(p.read_text()) for p in (home / "claude-session" / "spool").glob("*.json"))
    return {r["id"]: r for r in found}


def test_a_resumed_stretchs_digest_holds_only_what_followed_the_resume(
    repo: Path, isolated_home: Path
) -> None:
    transcript = repo / "t.jsonl"
    start = payload("SessionStart", repo, session_id=SID, source="startup")
    run_hook("SessionStart", start, cwd=repo)
    append(transcript, part(repo, "FIRST", 1))
    run_hook("SessionEnd", payload("SessionEnd", repo, session_id=SID, reason="other"), cwd=repo)
    first_id = ledger_entry(isolated_home, SID)["record_id"]

    # claude --resume: the same session goes on in the same transcript
    run_hook("SessionStart", {**start, "source": "resume"}, cwd=repo)
    resumed_at = (ledger_entry(isolated_home, SID).get("stretch_offset"), transcript.stat().st_size)
    append(transcript, part(repo, "SECOND", 2))
    run_hook("SessionEnd", payload("SessionEnd", repo, session_id=SID, reason="other"), cwd=repo)

    records = spooled(isolated_home)
    first = records.pop(first_id)
    (second,) = records.values()
    assert "FIRST request" in first["summary"] and "SECOND" not in first["summary"]
    assert second["continues"] == first_id
    assert "SECOND request" in second["summary"] and "SECOND reply" in second["summary"]
    assert "FIRST" not in second["summary"]
    assert "Last request" not in second["summary"]  # one request in this stretch, not two
    assert second["files_changed"] == ["SECOND.py"]
    assert not any("FIRST" in a for a in second["accomplishments"])
    assert resumed_at[0] == resumed_at[1] > 0  # where the stretch began, noted at the resume


def test_a_stretch_after_a_pause_digests_only_what_followed_the_pause(
    repo: Path, isolated_home: Path
) -> None:
    """A Claude Code session pauses (through the CLI, as /session:pause does), goes on, commits
    and ends without /end: the record finalized then tells only what followed the pause."""
    transcript = repo / "t.jsonl"
    run_hook(
        "SessionStart", payload("SessionStart", repo, session_id=SID, source="startup"), cwd=repo
    )
    append(transcript, part(repo, "BEFORE", 1))
    paused = cli("pause", "--json", "--session-id", SID, "--summary", "Halfway", cwd=repo)
    assert paused.returncode == 0, paused.stderr
    paused_at = (ledger_entry(isolated_home, SID).get("stretch_offset"), transcript.stat().st_size)
    append(transcript, part(repo, "AFTER", 2))
    commit_file(repo, "AFTER.py", "x\n", "After the pause")
    run_hook("SessionEnd", payload("SessionEnd", repo, session_id=SID, reason="other"), cwd=repo)

    unended = [r for r in spooled(isolated_home).values() if r["end_mode"] == "unended"]
    assert len(unended) == 1, spooled(isolated_home)
    summary = unended[0]["summary"]
    assert "AFTER request" in summary and "AFTER reply" in summary
    assert "BEFORE" not in summary
    assert paused_at[0] == paused_at[1] > 0


def test_a_forks_digest_leaves_out_the_history_it_copied(repo: Path, isolated_home: Path) -> None:
    """``--fork-session``: a new session whose transcript starts with a copy of its parent's
    lines (the same message ids, its own session id). Its digest starts after the last response
    an earlier record billed."""
    parent, fork = repo / "parent.jsonl", repo / "fork.jsonl"
    start = payload("SessionStart", repo, session_id="p", source="startup")
    run_hook("SessionStart", {**start, "transcript_path": str(parent)}, cwd=repo)
    append(parent, [{**line, "sessionId": "p"} for line in part(repo, "PARENT", 1)])
    end = payload("SessionEnd", repo, session_id="p", reason="other")
    run_hook("SessionEnd", {**end, "transcript_path": str(parent)}, cwd=repo)

    fork_start = payload("SessionStart", repo, session_id="f", source="resume")
    run_hook("SessionStart", {**fork_start, "transcript_path": str(fork)}, cwd=repo)
    copied = [{**line, "sessionId": "f"} for line in part(repo, "PARENT", 1)]
    append(fork, copied + [{**line, "sessionId": "f"} for line in part(repo, "FORK", 2)])
    end = payload("SessionEnd", repo, session_id="f", reason="other")
    run_hook("SessionEnd", {**end, "transcript_path": str(fork)}, cwd=repo)

    [record] = [r for r in spooled(isolated_home).values() if r["claude_session_id"] == "f"]
    assert "FORK request" in record["summary"] and "FORK reply" in record["summary"]
    assert "PARENT" not in record["summary"], record["summary"]
    assert record["files_changed"] == ["FORK.py"]
