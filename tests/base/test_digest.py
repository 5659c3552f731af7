"""The model-free digest of a session: read from a real transcript file and a real git repo."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from claude_session.base import digest, sessions
from claude_session.base.state import ledger
from helpers.gitrepo import commit_file, git, make_repo
from helpers.transcripts import SID, assistant, text, tool, tool_result, user, write


def conversation(repo: Path) -> list[Any]:
    return [
        user("<command-name>/session:start</command-name>"),
        user("Add a tokenizer for the config language"),
        assistant(text("I'll start with the lexer."), tool("Read", file_path=str(repo / "a.py"))),
        tool_result(),
        assistant(tool("Write", file_path=str(repo / "lexer.py"), content="x")),
        tool_result(),
        assistant(tool("Edit", file_path=str(repo / "lexer.py"), old_string="x", new_string="y")),
        tool_result(),
        assistant(tool("MultiEdit", file_path="/elsewhere/notes.md", edits=[])),
        tool_result(),
        assistant(tool("NotebookEdit", notebook_path=str(repo / "nb.ipynb"))),
        tool_result(),
        assistant(tool("Bash", command="pytest")),
        tool_result(),
        "not json at all {",
        user("now handle string escapes"),
        assistant(text("Side question answer"), isSidechain=True),
        user("from another session", sessionId="other"),
        assistant(text("Escapes are handled; the tests pass.")),
    ]


def test_digest_reads_requests_reply_files_tools_and_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    start = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "lexer.py", "y\n", "Add the lexer")
    transcript = write(tmp_path / "t.jsonl", conversation(repo))
    made = digest.build(str(transcript), session_id=SID, root=repo, starting_head=start)
    assert made.first_request == "Add a tokenizer for the config language"
    assert made.last_request == "now handle string escapes"
    assert made.requests == 2  # command wrappers, tool results, other sessions are not requests
    assert made.last_reply == "Escapes are handled; the tests pass."
    assert made.files == ["lexer.py", "/elsewhere/notes.md", "nb.ipynb"]
    assert made.tools == {
        "Read": 1,
        "Write": 1,
        "Edit": 1,
        "MultiEdit": 1,
        "NotebookEdit": 1,
        "Bash": 1,
    }
    assert len(made.commits) == 1 and made.commits[0].endswith(" Add the lexer")
    summary = made.summary()
    assert summary.startswith("Ended without /end.")
    assert "First request: Add a tokenizer" in summary and "Last reply: Escapes" in summary
    items = made.accomplishments()
    assert items[0].startswith("Edited 3 file(s): lexer.py")
    assert items[1].startswith("1 commit(s): ") and "Edit x1" in items[2]


def test_digest_is_bounded_and_redacted(tmp_path: Path) -> None:
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    huge = "word " * 50_000
    lines: list[Any] = [user(f"deploy with token {secret} please " + huge)]
    for n in range(200):
        lines.append(assistant(tool("Edit", file_path=f"/p/f{n}.py"), tool(f"Tool{n % 30}")))
    lines.append(assistant(text(huge + secret)))
    transcript = write(tmp_path / "t.jsonl", lines)
    made = digest.build(str(transcript), session_id=SID, root=None, starting_head=None)
    shown = [made.summary(), *made.accomplishments(), *made.files, *made.commits, *made.tools]
    assert secret not in json.dumps(shown)
    assert "REDACTED" in made.first_request
    assert len(made.first_request) <= digest.REQUEST_CHARS
    assert len(made.last_reply) <= digest.REPLY_CHARS
    assert len(made.files) == digest.MAX_FILES and made.more_files == 200 - digest.MAX_FILES
    assert len(made.tools) == digest.MAX_TOOLS
    assert len(made.summary()) <= digest.SUMMARY_CHARS
    assert "Edited 200 file(s)" in made.accomplishments()[0]
    assert all(len(item) <= 400 for item in made.accomplishments())


def test_digest_skips_a_long_line_and_stops_at_its_time_budget(tmp_path: Path) -> None:
    long_line = json.dumps(user("x" * (digest.MAX_LINE_BYTES + 10)))
    transcript = write(tmp_path / "t.jsonl", [user("first"), long_line, user("last")])
    made = digest.read_transcript(transcript, session_id=SID)
    assert (made.first_request, made.last_request, made.requests) == ("first", "last", 2)
    spent = digest.read_transcript(transcript, session_id=SID, budget=-1.0)
    assert not spent.complete and "read only in part" in spent.summary()


def test_digest_never_reads_a_fifo_and_survives_missing_files(tmp_path: Path) -> None:
    fifo = tmp_path / "t.jsonl"
    os.mkfifo(fifo)  # no writer: opening it blocking would hang the hook
    made = digest.build(str(fifo), session_id=SID, root=None, starting_head=None)
    assert made.empty and made.summary().endswith("The transcript holds no request.")
    assert digest.build(
        str(tmp_path / "none.jsonl"), session_id=SID, root=None, starting_head=None
    ).empty
    assert digest.build(None, session_id=SID, root=None, starting_head=None).empty


def test_unended_record_carries_the_digest(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    start = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "committed.py", "1\n", "Commit during the session")
    transcript = write(tmp_path / "t.jsonl", conversation(repo))
    entry = ledger.new_entry(
        session_id=SID,
        project="proj",
        project_root=str(repo),
        branch="main",
        head=start,
        source="startup",
    )
    entry["transcript_path"] = str(transcript)
    record = sessions.build_unended_record(entry, entry["started_at"])
    assert record["end_mode"] == "unended"
    assert record["summary"].startswith("Ended without /end.\nFirst request: Add a tokenizer")
    assert record["files_changed"][:2] == ["committed.py", "lexer.py"]
    assert any(item.startswith("Tools used:") for item in record["accomplishments"])
    assert record["tokens_output"] > 0


def test_digest_from_an_offset_starts_at_a_whole_line(tmp_path: Path) -> None:
    """A stretch's digest reads from where it began: from that line when the offset is a line's
    start, from the next one when it falls inside a line, from the beginning when the file is
    shorter than the offset (it was replaced)."""
    early = [user("early request"), assistant(text("early reply"))]
    path = write(tmp_path / "t.jsonl", early)
    boundary = path.stat().st_size
    with path.open("a") as out:
        out.write(json.dumps(user("late request")) + "\n")
        out.write(json.dumps(assistant(text("late reply"))) + "\n")
    at_line = digest.read_transcript(path, session_id=SID, start=boundary)
    assert (at_line.first_request, at_line.requests, at_line.last_reply) == (
        "late request",
        1,
        "late reply",
    )
    inside = digest.read_transcript(path, session_id=SID, start=boundary + 5)
    assert (inside.requests, inside.last_reply) == (0, "late reply")  # the cut line is skipped
    replaced = digest.read_transcript(path, session_id=SID, start=path.stat().st_size + 100)
    assert (replaced.first_request, replaced.requests) == ("early request", 2)
