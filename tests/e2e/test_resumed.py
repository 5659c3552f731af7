"""Claude Code's own resume, continue and fork (issue 23 item 4) with the real client: a session
finalized when Claude Code quit, then resumed (same transcript), continued, and forked (a new
transcript that starts with a copy of the old one). Each stretch has its own record, the records
name the one they continue, and together they bill every model response exactly once."""

from __future__ import annotations

import json
from pathlib import Path

from claude_session.base.tokens import Message, usage_from_transcript
from helpers.claude_code import (
    ON_EVERY_VERSION,
    claude_bin,
    claude_version,
    requires_claude,
    run_claude,
    transcripts,
    wait_for,
)
from helpers.e2e_world import World, calls, result_of, transcript_has, world
from helpers.fake_anthropic import FakeAnthropic, text

__all__ = [
    "claude_bin",
    "claude_version",
    "world",
]  # fixtures, re-exported so pytest finds them here

pytestmark = requires_claude


def every_response(config: Path) -> dict[str, Message]:
    """Every model response in every transcript, once per message id."""
    found: dict[str, Message] = {}
    for path in transcripts(config):
        for message in usage_from_transcript(path, session_id=path.stem).messages:
            found.setdefault(message.id, message)
    return found


def billed(world: World) -> dict[str, list[str]]:
    """Record id -> the message ids it billed, over every session."""
    records: dict[str, list[str]] = {}
    for path in (world.config / "claude-session" / "ledger").glob("*.billed"):
        records.update(json.loads(path.read_text())["records"])
    return records


def resume(world: World, api: FakeAnthropic, prompt: str, *args: str) -> None:
    result = run_claude(prompt, timeout=90, extra_args=list(args), **world.kwargs(api))
    assert result.returncode == 0, world.explain(api, result.stderr)


@ON_EVERY_VERSION
def test_resume_continue_and_fork_bill_each_response_once_in_a_chain(
    claude_version: str, world: World
) -> None:
    with FakeAnthropic([text("Started.")]) as a:  # the command's ! line started it
        world.run(a, "/session:start")
    [first] = transcripts(world.config)
    sid = first.stem
    assert world.ledger(sid)["status"] == "finalized"  # quit without /end

    (world.repo / "notes.txt").write_text("resumed work\n")
    end = calls("end_session", summary="Notes written.", commit_message="Add notes")
    with FakeAnthropic([end, text("Ended.")]) as b:
        resume(world, b, "/session:end", "--resume", sid)
        wait_for(lambda: transcript_has(lambda: first, b.responses[-1].message_id))
    ended = result_of(b, 1)["record"]
    with FakeAnthropic([text("Still here.")]) as c:
        resume(world, c, "What is left?", "--continue")
    with FakeAnthropic([text("Forked.")]) as d:
        resume(world, d, "Try another way.", "--resume", sid, "--fork-session")
    [fork] = [t for t in transcripts(world.config) if t.stem != sid]

    world.cli("sync")
    records = {r["id"]: r for r in world.history()}
    chain = sorted(records.values(), key=lambda r: r["started_at"])
    modes = [(r["claude_session_id"], r["end_mode"]) for r in chain]
    assert modes == [
        (sid, "unended"),
        (sid, "standard"),
        (sid, "unended"),
        (fork.stem, "unended"),
    ], modes
    assert [r["continues"] for r in chain] == [None, *[r["id"] for r in chain[:-1]]]
    assert chain[1]["id"] == ended["id"] and chain[1]["commits_count"] == 1
    assert [r["commits_count"] for r in chain] == [0, 1, 0, 0]

    # every response in exactly one record, and the records' totals are those responses'
    responses = every_response(world.config)
    parts = billed(world)
    assert sorted(parts) == sorted(records)
    ids = [i for part in parts.values() for i in part]
    assert sorted(ids) == sorted(responses), (parts, sorted(responses))
    for record_id, part in parts.items():
        mine = [responses[i] for i in part]
        assert records[record_id]["tokens_output"] == sum(m.output for m in mine)
        assert records[record_id]["tokens_input"] == sum(m.input for m in mine)
    assert sum(r["tokens_input"] for r in chain) == sum(m.input for m in responses.values())
    assert sum(r["tokens_output"] for r in chain) == sum(m.output for m in responses.values())
    served = {r.message_id for api in (a, b, c, d) for r in api.responses if not r.side}
    assert served <= set(responses), served - set(responses)

    # each unended stretch's digest tells only that stretch (read from where it began)
    continued, forked = chain[2], chain[3]
    assert "What is left?" in continued["summary"] and "Still here." in continued["summary"]
    assert not any("end_session" in a for a in continued["accomplishments"]), continued
    assert "Try another way." in forked["summary"], forked
    assert "What is left?" not in forked["summary"] and "Still here." not in forked["summary"]
