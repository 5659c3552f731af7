"""``base/sessions.py``: a session's life, shared by the hooks and the core. Its record has the
tracker's shape however it ended; sessions that end without /end: the next session is told
where the work stood and resumes it, a paused-and-quit session and its resumption form one
chain, and ``end`` completes its record's tokens from the final transcript. Real hook
processes, real git, the local tracker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_session.base import sessions
from claude_session.base.state import ledger, pause
from claude_session.base.tokens import usage_from_transcript
from claude_session.core.facade import Core
from claude_session.models import SessionRecord
from claude_session.paths import Paths
from helpers.gitrepo import git, make_repo
from helpers.hookrun import ledger_entry, payload, run_hook
from helpers.transcripts import SID, assistant, text, tool, tool_result, user, write


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def work(repo: Path, transcript: Path, request: str = "Add a tokenizer") -> Path:
    (repo / "lexer.py").write_text("TOKENS = []\n")
    return write(
        transcript,
        [
            user(request),
            assistant(text("Writing the lexer."), tool("Write", file_path=str(repo / "lexer.py"))),
            tool_result(),
            assistant(text("The lexer is written; next are string escapes.")),
        ],
    )


def start_hook(repo: Path, sid: str, transcript: Path | None = None) -> dict[str, Any] | None:
    extra = {"transcript_path": str(transcript)} if transcript else {}
    out, _ = run_hook(
        "SessionStart",
        payload("SessionStart", repo, session_id=sid, source="startup", **extra),
        cwd=repo,
    )
    return out


def end_hook(repo: Path, sid: str, transcript: Path) -> None:
    run_hook(
        "SessionEnd",
        payload(
            "SessionEnd", repo, session_id=sid, transcript_path=str(transcript), reason="other"
        ),
        cwd=repo,
    )


def spooled(home: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in (home / "claude-session" / "spool").glob("*.json")]


def test_next_session_is_told_and_resumes_an_unended_one(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    transcript = work(repo, tmp_path / "a.jsonl")
    start_hook(repo, SID, transcript)
    end_hook(repo, SID, transcript)  # Claude Code quit (Ctrl+C, closed terminal): no /end
    assert ledger_entry(isolated_home, SID)["status"] == "finalized"
    [record] = spooled(isolated_home)
    assert record["end_mode"] == "unended" and "First request: Add a tokenizer" in record["summary"]
    note = pause.get(Paths(isolated_home), str(repo))
    assert note is not None and note["unended"] and note["record_id"] == record["id"]
    assert note["branch"] == "main" and note["head"] == git(repo, "rev-parse", "HEAD")
    saved = Path(note["context_file"]).read_text()
    assert "kind: unended" in saved and "lexer.py" in saved and "string escapes" in saved

    out = start_hook(repo, "next")
    assert out is not None
    told = out["hookSpecificOutput"]["additionalContext"]
    assert "ended without /end" in told and "string escapes" in told
    assert "/resume-session" in told  # settings.command("resume") of the classic install

    with Core() as core:
        resumed = core.resume(repo, session_id="next")
        assert resumed.status == "ready" and "First request: Add a tokenizer" in resumed.context
        ended = core.end(repo, session_id="next", summary="escapes done", push=False)
    assert ended.record.continues == record["id"]


def test_unended_resume_checks_the_branch(repo: Path, tmp_path: Path, isolated_home: Path) -> None:
    transcript = work(repo, tmp_path / "a.jsonl")
    start_hook(repo, SID, transcript)
    end_hook(repo, SID, transcript)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "wip")
    git(repo, "checkout", "-qb", "other")
    with Core() as core:
        mismatch = core.resume(repo, session_id="next")
        assert mismatch.status == "branch_mismatch" and mismatch.paused_branch == "main"
        switched = core.resume(repo, session_id="next", on_mismatch="switch")
    assert switched.status == "ready" and switched.switched_branch
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_a_real_pause_is_not_replaced_by_the_digest(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    transcript = work(repo, tmp_path / "a.jsonl")
    start_hook(repo, SID, transcript)
    with Core() as core:
        paused = core.pause(repo, session_id=SID, summary="REAL-PAUSE lunch")
        [record] = core.history(limit=5).records  # sent when the pause was made
    end_hook(repo, SID, transcript)
    note = pause.get(Paths(isolated_home), str(repo))
    assert note is not None and not note.get("unended")
    assert note["context_file"] == paused.context_file
    assert record.end_mode == "paused" and record.id == note["record_id"]
    assert record.summary.startswith("REAL-PAUSE lunch") and record.tokens_output > 0
    assert spooled(isolated_home) == []  # nothing after the pause: no second record


def test_a_session_that_did_nothing_leaves_no_note(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    empty = write(tmp_path / "a.jsonl", [user("<command-name>/clear</command-name>")])
    start_hook(repo, SID, empty)
    end_hook(repo, SID, empty)
    assert pause.get(Paths(isolated_home), str(repo)) is None
    assert len(spooled(isolated_home)) == 1


def test_an_unended_session_that_had_resumed_a_pause_replaces_it(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    with Core() as core:
        core.start(repo, session_id="first")
        paused = core.pause(repo, session_id="first", summary="first half")
        core.resume(repo, session_id=SID)
    transcript = work(repo, tmp_path / "b.jsonl", "Second half please")
    end_hook(repo, SID, transcript)
    note = pause.get(Paths(isolated_home), str(repo))
    assert note is not None and note["unended"] and note["context_file"] != paused.context_file
    [*_, record] = sorted(spooled(isolated_home), key=lambda r: r["ended_at"])
    first = ledger_entry(isolated_home, "first")  # its pause sent its record (entry["record"])
    assert record["claude_session_id"] == SID and record["continues"] == first["record"]["id"]


def test_pause_quit_resume_elsewhere_end_is_one_chain(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    """Paused, Claude Code quit (its SessionEnd hook finalizes), resumed in a new session,
    ended: the tracker holds two records, the later naming the earlier."""
    transcript = work(repo, tmp_path / "a.jsonl")
    start_hook(repo, SID, transcript)
    with Core() as core:
        core.pause(repo, session_id=SID, summary="halfway")
    end_hook(repo, SID, transcript)
    start_hook(repo, "second")
    with Core() as core:
        assert core.resume(repo, session_id="second").status == "ready"
        ended = core.end(repo, session_id="second", summary="all done", push=False)
        core.sync()
        records = {r.claude_session_id: r for r in core.history(limit=10).records}
    assert set(records) == {SID, "second"}
    assert records["second"].continues == records[SID].id
    assert records[SID].end_mode == "paused" and ended.record.continues == records[SID].id


def test_usage_of_the_fixture_transcript_is_counted(tmp_path: Path) -> None:
    transcript = work(make_repo(tmp_path / "p"), tmp_path / "a.jsonl")
    assert usage_from_transcript(transcript, session_id=SID).output > 0
    assert sessions.TRANSCRIPT_BUDGET > 0


def end_turn(transcript: Path, n: int = 1) -> None:
    """What Claude Code writes after the end tool returned: the turn's last response(s)."""
    with transcript.open("a") as handle:
        for k in range(n):
            handle.write(
                json.dumps(
                    {
                        "type": "assistant",
                        "sessionId": SID,
                        "requestId": f"req_end_{k}",
                        "message": {
                            "id": f"msg_end_{k}",
                            "role": "assistant",
                            "model": "claude",
                            "content": [text("Session ended and recorded.")],
                            "usage": {
                                "input_tokens": 11,
                                "output_tokens": 700,
                                "cache_read_input_tokens": 5000,
                                "cache_creation_input_tokens": 90,
                            },
                        },
                    }
                )
                + "\n"
            )


def totals(record: Any) -> tuple[int, int, int, int]:
    get = record.get if isinstance(record, dict) else lambda k: getattr(record, k)
    return (
        get("tokens_input"),
        get("tokens_output"),
        get("tokens_cache_creation"),
        get("tokens_cache_read"),
    )


def counted(transcript: Path) -> tuple[int, int, int, int]:
    usage = usage_from_transcript(transcript, session_id=SID)
    return usage.input, usage.output, usage.cache_creation, usage.cache_read


def test_session_end_hook_completes_the_end_record_with_its_own_turn(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    transcript = work(repo, tmp_path / "a.jsonl")
    start_hook(repo, SID, transcript)
    with Core() as core:
        ended = core.end(repo, session_id=SID, summary="done", push=False)
    assert totals(ended.record) == counted(transcript)
    end_turn(transcript)
    assert counted(transcript) != totals(ended.record)  # the /end turn was not in it
    end_hook(repo, SID, transcript)
    [resent] = spooled(isolated_home)
    assert resent["id"] == ended.record.id and totals(resent) == counted(transcript)
    assert resent["summary"] == "done" and resent["end_mode"] == "standard"
    assert ledger_entry(isolated_home, SID)["tokens_settled"]
    with Core() as core:
        core.sync()
        [stored] = core.history(limit=10).records
    assert stored.id == ended.record.id and totals(stored) == counted(transcript)
    end_turn(transcript, 2)  # settled: nothing is counted again
    end_hook(repo, SID, transcript)
    assert spooled(isolated_home) == []


def test_next_sync_completes_the_tokens_once_claude_code_is_gone(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    import subprocess
    import sys

    from claude_session.base.state import ledger

    transcript = work(repo, tmp_path / "a.jsonl")
    start_hook(repo, SID, transcript)  # its claude_pid: the test process's parent, alive
    with Core() as core:
        ended = core.end(repo, session_id=SID, summary="done", push=False)
    end_turn(transcript)
    with Core() as core:
        core.sync()  # Claude Code still runs: resent, not settled
        assert totals(core.history(limit=10).records[0]) == counted(transcript)
    assert not ledger_entry(isolated_home, SID).get("tokens_settled")
    end_turn(transcript, 2)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with ledger.edit(Paths(isolated_home), SID) as entry:
        entry["claude_pid"] = dead.pid
    with Core() as core:
        core.sync()
        [stored] = core.history(limit=10).records
    assert stored.id == ended.record.id and totals(stored) == counted(transcript)
    assert ledger_entry(isolated_home, SID)["tokens_settled"]


def test_a_vanished_transcript_never_lowers_the_tokens(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    transcript = work(repo, tmp_path / "a.jsonl")
    start_hook(repo, SID, transcript)
    with Core() as core:
        ended = core.end(repo, session_id=SID, summary="done", push=False)
    transcript.unlink()
    end_hook(repo, SID, transcript)
    assert spooled(isolated_home) == []
    assert totals(ended.record)[1] > 0


def test_a_session_that_only_started_leaves_no_note(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    own = "mcp__plugin_session_session__"
    transcript = write(
        tmp_path / "a.jsonl",
        [
            user([{"type": "text", "text": "Start a claude-session work session."}], isMeta=True),
            assistant(tool(f"{own}start_session")),
            tool_result(),
            assistant(tool(f"{own}session_status")),
            tool_result(),
            assistant(text("Started.")),
        ],
    )
    start_hook(repo, SID, transcript)
    end_hook(repo, SID, transcript)
    assert pause.get(Paths(isolated_home), str(repo)) is None
    [record] = spooled(isolated_home)
    assert "start_session x1" in " ".join(record["accomplishments"])  # the record still says


ENTRY = ledger.new_entry(
    session_id="s", project="p", project_root="/p", branch="main", head=None, source="startup"
)


def test_record_fields_writes_exactly_the_fields_of_the_session_record() -> None:
    """design-2 #46: /end and the hooks' finalization build the record here, in its shape."""
    record = sessions.record_fields(
        ENTRY,
        record_id="r",
        ended_at=ENTRY["started_at"],
        repository_url=None,
        ending_branch="main",
        commits_count=0,
        files_changed=[],
        usage=None,
        summary="s",
        accomplishments=[],
        next_steps=[],
        mode="unended",
        machine=None,
    )
    assert set(record) == set(SessionRecord.model_fields)
    assert SessionRecord.model_validate(record).id == "r"
