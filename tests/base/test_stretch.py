"""base/stretch.py: a session resumed, continued or forked after its record was made is cut
into stretches; each counts only the responses no other record billed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from claude_session.base import stretch
from claude_session.base.state import ledger
from claude_session.paths import Paths


def response(sid: str, n: int, *, model: str = "claude-sonnet-4-5") -> dict[str, Any]:
    return {
        "type": "assistant",
        "sessionId": sid,
        "requestId": f"req_{n}",
        "message": {
            "id": f"msg_{n}",
            "model": model,
            "usage": {"input_tokens": 10 * n, "output_tokens": n},
        },
    }


def write(path: Path, sid: str, numbers: range) -> Path:
    path.write_text("".join(json.dumps(response(sid, n)) + "\n" for n in numbers))
    return path


def entry(sid: str, transcript: Path, **extra: Any) -> dict[str, Any]:
    return {"session_id": sid, "project_root": "/p", "transcript_path": str(transcript), **extra}


def test_a_resumed_transcript_counts_only_what_follows_the_billed_record(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    transcript = write(tmp_path / "s.jsonl", "s", range(1, 3))
    first, before = stretch.count(paths, entry("s", transcript), record_id="r1")
    assert (first and first.output, before) == (3, None)
    stretch.bill(paths, "s", "r1", first)

    write(transcript, "s", range(1, 5))  # the same file, appended by --resume
    second, before = stretch.count(paths, entry("s", transcript), record_id="r2")
    assert second is not None and (second.ids, second.output, before) == (
        ["msg_3", "msg_4"],
        7,
        "r1",
    )
    # counted again (its tokens settled): its own responses stay its own
    stretch.bill(paths, "s", "r2", second)
    again, _ = stretch.count(paths, entry("s", transcript), record_id="r2")
    assert again is not None and again.ids == ["msg_3", "msg_4"]


def test_a_fork_continues_the_record_that_billed_its_copied_history(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    parent = write(tmp_path / "p.jsonl", "p", range(1, 4))
    whole, _ = stretch.count(paths, entry("p", parent), record_id="rp")
    stretch.bill(paths, "p", "rp", whole)
    fork = write(tmp_path / "f.jsonl", "f", range(1, 6))  # a copy, then its own
    own, before = stretch.count(paths, entry("f", fork), record_id="rf")
    assert own is not None and (own.ids, before) == (["msg_4", "msg_5"], "rp")


def test_the_entry_named_record_wins_and_an_empty_stretch_gets_no_record(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    transcript = write(tmp_path / "s.jsonl", "s", range(1, 2))
    usage, _ = stretch.count(paths, entry("s", transcript), record_id="r1")
    stretch.bill(paths, "s", "r1", usage)
    reopened = entry("s", transcript, continues="r0")
    nothing, before = stretch.count(paths, reopened, record_id="r2")
    assert before == "r0" and nothing is not None and nothing.responses == 0
    assert stretch.is_empty(reopened, nothing, commits=0)
    assert not stretch.is_empty(reopened, nothing, commits=1)
    assert not stretch.is_empty({**reopened, "paused_at": "x"}, nothing, commits=0)
    assert not stretch.is_empty(entry("s", transcript), nothing, commits=0)


def test_restart_after_a_closed_record_names_it_and_a_damaged_bill_counts_all(
    tmp_path: Path,
) -> None:
    paths = Paths(tmp_path / "home")
    fresh = {"session_id": "s", "project_root": "/p", "status": "active"}
    ledger.touch(paths, fresh)
    with ledger.edit(paths, "s") as data:
        data.update(status="finalized", record_id="r1")
    assert ledger.touch(paths, fresh, restart=True)["continues"] == "r1"
    with ledger.edit(paths, "s") as data:
        data.update(status="ending", record_id="r2")
    assert ledger.touch(paths, fresh, restart=True)["record_id"] == "r2"  # never lost

    transcript = write(tmp_path / "s.jsonl", "s", range(1, 3))
    ledger.add_billed(paths, "s", "r1", ["msg_1"])
    paths.ledger_entry("s").with_suffix(".billed").write_text('{"records": [1, {}]')
    usage, _ = stretch.count(paths, entry("s", transcript), record_id="r2")
    assert usage is not None and usage.ids == ["msg_1", "msg_2"]
