"""Issue 13 end to end with the real Claude Code client (the plugin of this checkout, a
scripted Messages API): a session killed mid-work is told to the next one, which resumes it;
pause, quit, resume in a new Claude Code, end: one chain in the tracker; the ended session's
tokens after the next sync equal the count of its final transcript."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from claude_session.base.tokens import usage_from_transcript
from claude_session.tracker.store.database import create_engine
from claude_session.tracker.store.storage import Store
from helpers.claude_code import claude_bin, requires_claude, start_claude, wait_for
from helpers.conversation import command_result
from helpers.e2e_world import (
    ALLOWED,
    HOOK_CONTEXT,
    World,
    calls,
    in_order,
    last_user_text,
    result_of,
    transcript_has,
    world,
)
from helpers.fake_anthropic import FakeAnthropic, Step, hold, request_text, text, tool_use

__all__ = ["claude_bin", "world"]  # fixtures, re-exported so pytest finds them here

pytestmark = requires_claude

REQUEST = "Write the body parser in parser.py"


def totals(record: dict[str, object]) -> tuple[object, ...]:
    return tuple(
        record[k]
        for k in ("tokens_input", "tokens_output", "tokens_cache_creation", "tokens_cache_read")
    )


def counted(transcript: Path, session_id: str) -> tuple[int, ...]:
    usage = usage_from_transcript(transcript, session_id=session_id)
    return usage.input, usage.output, usage.cache_creation, usage.cache_read


def test_killed_mid_work_then_the_next_session_is_told_and_resumes_it(world: World) -> None:
    parser = world.repo / "parser.py"
    write = tool_use(
        "Write",
        {"file_path": str(parser), "content": "def parse(raw): ...\n"},
        preamble="Writing the parser.",
    )
    with FakeAnthropic([write, hold()]) as a:
        kwargs = world.kwargs(a)
        kwargs["allowed_tools"] = [*ALLOWED, "Write"]
        proc = start_claude(REQUEST, **kwargs)
        try:
            a.wait_for_turns(2, timeout=60)  # the Write ran; the model's next answer hangs
            wait_for(
                lambda: [
                    t
                    for t in world.config.glob("projects/*/*.jsonl")
                    if "tool_result" in t.read_text()
                ],
                timeout=20,
            )
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert parser.exists(), world.explain(a)
    [transcript] = list(world.config.glob("projects/*/*.jsonl"))
    sid = transcript.stem
    assert world.ledger(sid)["status"] == "active"  # killed: no SessionEnd hook ran

    with FakeAnthropic([text("Resumed.")]) as b:  # the command's ! line resumed
        world.run(b, "/session:resume")
    told = request_text(b.turn_requests[0])
    assert HOOK_CONTEXT in told, world.explain(b)
    note = told[told.index(HOOK_CONTEXT) :]
    assert in_order(
        note, "ended without /end", "/session:resume", "branch: main", REQUEST, "parser.py"
    ), note
    resumed = command_result(last_user_text(b.turn_requests[0]), "resume")
    assert resumed["status"] == "ready", resumed
    context = resumed["context"]
    assert "kind: unended" in context and f"First request: {REQUEST}" in context
    assert "parser.py" in context and "Write x1" in context
    closed = world.ledger(sid)
    assert closed["status"] == "finalized"
    assert world.ledger(resumed["session_id"])["continues"] == closed["record_id"]
    world.cli("sync")  # resume does not deliver the spool; start and sync do
    [record] = [r for r in world.history() if r["claude_session_id"] == sid]
    assert record["end_mode"] == "unended" and REQUEST in record["summary"]
    assert "parser.py" in record["files_changed"]


def test_pause_quit_resume_elsewhere_end_is_one_chain_with_the_whole_bill(world: World) -> None:
    first: list[Step] = [
        text("Started."),
        calls("pause_session", summary="Headers parsed."),
        text("Paused."),
    ]
    with FakeAnthropic(first) as a, world.conversation(a) as one:
        one.ask("/session:start")
        one.ask("/session:pause")
        assert one.close() == 0, world.explain(a, one.stderr)
    sid_a = one.session_id
    assert sid_a and not a.errors, world.explain(a)

    (world.repo / "parser.py").write_text("def parse_body(raw):\n    return raw\n")
    second: list[Step] = [
        text("Resumed."),
        calls("end_session", summary="Bodies parsed.", commit_message="Add the body parser"),
        text("Ended; the session is recorded."),
    ]
    with FakeAnthropic(second) as b, world.conversation(b) as two:
        two.ask("/session:resume")
        sid_b = two.session_id
        two.ask("/session:end")
        assert two.close() == 0, world.explain(b, two.stderr)
    assert sid_b and sid_b != sid_a and not b.errors, world.explain(b)
    ended = result_of(b, 2)
    assert ended["status"] == "ended", ended

    world.cli("sync")
    history = {r["claude_session_id"]: r for r in world.history()}
    earlier, later = history[sid_a], history[sid_b]
    assert earlier["end_mode"] == "paused" and later["end_mode"] == "standard"
    assert later["continues"] == earlier["id"] and later["id"] == ended["record"]["id"]

    # the tracker's chain, as the session page shows it
    engine = create_engine(f"sqlite:///{world.config / 'claude-session' / 'tracker.db'}")
    try:
        store = Store(engine)
        chain = store.history.session_chain(store.auth.user("local"), earlier["id"])
    finally:
        engine.dispose()
    assert [s.id for s in chain] == [earlier["id"], later["id"]]

    # the whole bill: the /end turn's last answer is in the record after the sync
    transcript = world.transcript(sid_b)
    wait_for(lambda: transcript_has(lambda: transcript, b.responses[2].message_id))
    assert totals(later) == counted(transcript, sid_b), (later, ended["record"])
    assert world.ledger(sid_b)["tokens_settled"]
    print(f"end counted {totals(ended['record'])}; after sync {totals(later)}")
