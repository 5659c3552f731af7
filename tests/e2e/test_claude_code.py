"""End to end with the real Claude Code client: the plugin in this checkout, a scripted model.

Each test runs Claude Code (`--plugin-dir` = this repository) in a temporary git repository
with a bare remote, against the scripted Messages API of ``helpers.fake_anthropic``. The
scripted model does what a real one would do with our command files: it reads the session id
out of the expanded command text and calls the plugin's MCP tools with it. The tests check what
each step left behind: the requests the model saw, the tool results, the context files,
``pause-state.json``, the ledger, git, the remote and ``claude-session history``.

Two shapes of client are used: ``Conversation`` (one process, several prompts, as a person at a
terminal) and ``start_claude``/``run_claude`` (one prompt per process, or a process to kill).
"""

from __future__ import annotations

import time
from pathlib import Path

from helpers.claude_code import (
    ON_EVERY_VERSION,
    claude_bin,
    claude_version,
    live_sessions,
    requires_claude,
    wait_for,
)
from helpers.conversation import command_result
from helpers.e2e_world import (
    COMMIT_SUBJECT,
    HOOK_CONTEXT,
    NEXT_STEPS,
    SUMMARY,
    TOOL,
    World,
    calls,
    in_order,
    last_user_text,
    result_of,
    transcript_has,
    world,
)
from helpers.fake_anthropic import (
    JSON,
    FakeAnthropic,
    Step,
    Turn,
    hold,
    request_text,
    text,
    tool_use,
)
from helpers.gitrepo import commit_file, git
from helpers.quoted import unquoted

__all__ = [
    "claude_bin",
    "claude_version",
    "world",
]  # fixtures, re-exported so pytest finds them here

pytestmark = requires_claude


@ON_EVERY_VERSION  # the smoke set on the oldest Claude Code of the window: a round trip
def test_pause_in_one_claude_code_then_resume_and_end_in_the_next(
    claude_version: str, world: World
) -> None:
    """The issue's 'done when': start and pause, quit; a new Claude Code is told about the
    paused session unasked; resume gives the saved context back; end commits, pushes and
    records the session."""
    # --- first Claude Code: /session:start, then /session:pause with a note -----------------
    pause = calls(
        "pause_session",
        summary=SUMMARY,
        next_steps=NEXT_STEPS,
        accomplishments=["Header parsing"],
        note="lunch break",
    )
    # /session:start needs no model request: its ! line ran claude-session, whose quoted result
    # is in the very first request
    with FakeAnthropic([text("Started."), pause, text("Paused.")]) as a:
        started = time.monotonic()
        with world.conversation(a) as first:
            first.ask("/session:start")
            first.ask("/session:pause lunch break")
            assert first.close() == 0, world.explain(a, first.stderr)
        world.timings["first"] = time.monotonic() - started
    sid_a = first.session_id
    assert sid_a and not a.errors, world.explain(a, first.stderr)

    start_text = last_user_text(a.turn_requests[0])
    assert "<command-name>/session:start</command-name>" in start_text
    assert "Start a claude-session work session for this project." in start_text
    assert f'`session_id` "{sid_a}"' in start_text and "${CLAUDE_SESSION_ID}" not in start_text
    assert world.transcript(sid_a).exists()  # the id the ! line got is Claude Code's own

    started_result = command_result(start_text, "start")
    assert started_result["status"] == "ready" and started_result["session_id"] == sid_a
    assert started_result["branch"] == "main"
    assert len(a.turn_requests) == 3  # start: 1 (its closing line); pause: 2
    assert world.ledger(sid_a)["session_id"] == sid_a  # the ledger entry of this session

    pause_text = last_user_text(a.turn_requests[1])
    assert "<command-args>lunch break</command-args>" in pause_text
    assert f'`session_id` "{sid_a}"' in pause_text
    paused = result_of(a, 2)
    assert paused["status"] == "paused" and paused["session_id"] == sid_a
    context_file = Path(paused["context_file"])
    saved = context_file.read_text()
    assert context_file.parent == world.config / "contexts"
    assert in_order(saved, SUMMARY, *NEXT_STEPS)
    assert "lunch break" in saved and sid_a in saved and "Header parsing" in saved
    entry = world.pause_state()[str(world.repo)]
    assert entry["session_id"] == sid_a and entry["branch"] == "main"
    assert entry["context_file"] == str(context_file) and entry["summary"] == SUMMARY
    assert entry["head"] == git(world.repo, "rev-parse", "HEAD")

    # --- work done between the sessions, then a second Claude Code ------------------------
    (world.repo / "parser.py").write_text("def parse_body(raw):\n    return raw\n")
    end = calls(
        "end_session",
        summary="Body parsing done.",
        accomplishments=["Body parsing"],
        next_steps=["Chunked bodies"],
        commit_message=f"{COMMIT_SUBJECT}\n\nReads bodies of known length.",
    )
    script: list[Step] = [
        text("Resumed."),  # /session:resume's ! line resumed: no tool call
        end,
        text("Ended."),
    ]
    with FakeAnthropic(script) as b:
        started = time.monotonic()
        with world.conversation(b) as second:
            second.ask("/session:resume")
            sid_b = second.session_id
            assert sid_b and sid_b != sid_a
            # the transcript is flushed ~0.5 s late: let the resume turn land before /end counts
            resumed_id = b.responses[0].message_id
            wait_for(lambda: transcript_has(lambda: world.transcript(sid_b), resumed_id))
            second.ask("/session:end")
            assert second.close() == 0, world.explain(b, second.stderr)
        world.timings["second"] = time.monotonic() - started
    assert not b.errors, world.explain(b, second.stderr)

    # the SessionStart hook told the model about the paused session before anyone asked
    first_request = request_text(b.turn_requests[0])
    assert HOOK_CONTEXT in first_request
    hook_note = first_request[first_request.index(HOOK_CONTEXT) :]
    assert in_order(hook_note, "paused", "/session:resume", "branch: main", SUMMARY)

    resumed = command_result(last_user_text(b.turn_requests[0]), "resume")
    assert resumed["status"] == "ready" and resumed["session_id"] == sid_b
    assert unquoted(resumed["context"]) == saved  # the saved context, whole, quoted

    ended = result_of(b, 2)
    assert ended["status"] == "ended" and ended["session_id"] == sid_b, ended
    head = git(world.repo, "rev-parse", "HEAD")
    assert ended["commit"] == head
    assert git(world.repo, "log", "-1", "--format=%s") == COMMIT_SUBJECT
    assert git(world.repo, "show", "--name-only", "--format=", "HEAD") == "parser.py"
    assert git(world.repo, "status", "--porcelain") == ""
    assert ended["pushed"] is True
    assert git(world.remote, "rev-parse", "refs/heads/main") == head
    assert ended["tracker"] == "local"
    assert str(world.repo) not in world.pause_state()
    assert world.ledger(sid_b)["status"] == "ended"

    # tokens: from the transcript, each API response once (the resume answer, then the end
    # call, whose own response may not be flushed yet)
    usage = [r.usage for r in b.responses if not r.side]
    counted = {sum(u.input_tokens for u in usage[:n]) for n in (1, 2)}
    counted_out = {sum(u.output_tokens for u in usage[:n]) for n in (1, 2)}
    record = ended["record"]
    assert record["tokens_input"] in counted and record["tokens_output"] in counted_out, record

    # the record, as a separate `claude-session history` process sees it (also after a sync)
    world.cli("sync")
    history = world.history()
    mine = [r for r in history if r["claude_session_id"] == sid_b]
    assert len(mine) == 1, history
    [kept] = mine
    assert kept["id"] == record["id"] and kept["end_mode"] == "standard"
    assert kept["commits_count"] == 1 and kept["files_changed"] == ["parser.py"]
    assert kept["summary"] == "Body parsing done." and kept["accomplishments"] == ["Body parsing"]
    assert kept["starting_branch"] == kept["ending_branch"] == "main"
    # the whole bill (issue 13): the SessionEnd hook resent the record with the /end turn
    all_in = sum(u.input_tokens for u in usage)
    assert kept["tokens_input"] == all_in >= record["tokens_input"] > 0
    assert kept["session_source"] in ("resume", "startup", "claude-code")
    assert kept["repository_url"] == str(world.remote)
    # the first Claude Code quit after its pause without /end: its record is there once too,
    # for the same application
    unended = [r for r in history if r["claude_session_id"] == sid_a]
    assert [r["end_mode"] for r in unended] == ["paused"], unended  # quit after /pause
    assert unended[0]["application_name"] == kept["application_name"] == "webparser"
    assert unended[0]["repository_url"] == str(world.remote), unended[0]
    print(
        f"wall: first Claude Code {world.timings['first']:.1f} s, "
        f"second {world.timings['second']:.1f} s"
    )


def test_killed_claude_code_is_finalized_by_the_next_start_and_recorded_once(
    world: World,
) -> None:
    """SIGKILL mid-turn: no Stop, no SessionEnd. The ledger entry stays open; the next Claude
    Code's SessionStart hook finalizes it; start (or sync) delivers the record once."""
    with FakeAnthropic([text("Started."), hold()]) as a, world.conversation(a) as first:
        first.ask("/session:start")  # its ! line started the session: no tool call
        sid = first.session_id
        assert sid
        first.send("go on")
        a.wait_for_turns(2, timeout=30)  # the model's next answer hangs
        wait_for(lambda: transcript_has(lambda: world.transcript(sid), a.responses[0].message_id))
        first.kill()
    started = command_result(last_user_text(a.turn_requests[0]), "start")
    assert started["status"] == "ready" and started["session_id"] == sid, world.explain(a)
    open_entry = world.ledger(sid)
    assert open_entry["status"] == "active" and not open_entry.get("ended_at")
    assert sid in [s.get("sessionId") for s in live_sessions(world.config)]  # left behind

    # the next Claude Code, asked anything: its SessionStart hook closes the dead session
    with FakeAnthropic([text("Hello.")]) as b:
        world.run(b, "hello")
    closed = world.ledger(sid)
    assert closed["status"] == "finalized" and closed["ended_at"], closed

    # a third one runs /session:start: the record reaches the tracker
    with FakeAnthropic([text("Started.")]) as c:
        world.run(c, "/session:start")
    assert command_result(last_user_text(c.turn_requests[0]), "start")["status"] == "ready"
    mine = [r for r in world.history() if r["claude_session_id"] == sid]
    assert len(mine) == 1 and mine[0]["end_mode"] == "unended", mine
    record = mine[0]
    assert record["starting_branch"] == "main" and record["commits_count"] == 0
    assert record["repository_url"] == str(world.remote), record
    assert world.ledger(sid)["record_id"] == record["id"]  # the ledger says which record
    first = a.responses[0].usage  # the one answer that reached the transcript before the kill
    assert (record["tokens_input"], record["tokens_output"]) == (
        first.input_tokens,
        first.output_tokens,
    )

    world.cli("sync")  # delivering again never makes a second record
    assert [r["end_mode"] for r in world.history() if r["claude_session_id"] == sid] == ["unended"]


def test_start_on_another_branch_offers_choices_and_switch_checks_out_the_paused_one(
    world: World,
) -> None:
    """Paused on `feature`, back on `main`: the hook warns, start_session returns
    branch_mismatch with the three choices, and the model's second call with `switch`
    checks the paused branch out and returns its context."""
    git(world.repo, "checkout", "-q", "-b", "feature")
    commit_file(world.repo, "feature.py", "FEATURE = True\n", "Start the feature")
    paused = world.cli("pause", "--summary", "Feature flag half wired.", "--next", "Wire it")
    git(world.repo, "checkout", "-q", "main")

    def choose_switch(body: JSON) -> Turn:
        answer = command_result(last_user_text(body), "start")  # from the command's ! line
        if answer.get("status") != "branch_mismatch":
            return text(f"unexpected status {answer.get('status')}")
        return tool_use(
            f"{TOOL}start_session", {"session_id": answer["session_id"], "on_mismatch": "switch"}
        )

    with FakeAnthropic([choose_switch, text("Switched.")]) as api:
        world.run(api, "/session:start")

    first_request = request_text(api.turn_requests[0])
    assert in_order(
        first_request,
        HOOK_CONTEXT,
        "Warning: the current branch is not the one the work was saved on",
        "/session:resume",
        "branch: feature",
        "current branch: main",
    )
    mismatch = command_result(last_user_text(api.turn_requests[0]), "start")
    assert mismatch["status"] == "branch_mismatch", mismatch
    assert (mismatch["branch"], mismatch["paused_branch"]) == ("main", "feature")
    assert mismatch["choices"] == ["switch", "stay", "cancel"]
    assert len(api.turn_requests) == 2, "the model's call with switch did not happen"
    switched = result_of(api, 1)
    assert switched["status"] == "ready" and switched["switched_branch"] is True, switched
    assert switched["branch"] == "feature" and switched["session_id"] == mismatch["session_id"]
    assert "Feature flag half wired." in switched["context"]
    assert unquoted(switched["context"]) == Path(paused["context_file"]).read_text()
    assert git(world.repo, "rev-parse", "--abbrev-ref", "HEAD") == "feature"
    assert str(world.repo) not in world.pause_state()


def test_a_second_claude_code_in_the_same_project_leaves_the_live_one_open(world: World) -> None:
    """Two Claude Codes in one project: the second one's SessionStart hook and start_session
    must not finalize the first, which is alive and can still pause."""
    first_script: list[Step] = [
        text("Started."),
        calls("pause_session", summary="Still working in the first window."),
        text("Paused."),
    ]
    with FakeAnthropic(first_script) as a, world.conversation(a) as first:
        first.ask("/session:start")
        sid_a = first.session_id
        assert sid_a
        with FakeAnthropic([text("Started.")]) as b:
            world.run(b, "/session:start")
        assert command_result(last_user_text(b.turn_requests[0]), "start")["session_id"] != sid_a
        assert world.ledger(sid_a)["status"] == "active"
        first.ask("/session:pause")
        assert result_of(a, 2)["status"] == "paused", world.explain(a, first.stderr)
        assert world.ledger(sid_a)["status"] == "active"
        assert first.close() == 0
    # the first session's one record is its pause's (sent when it paused), never one the
    # second Claude Code's start made by finalizing it while it was alive
    records = [r for r in world.history() if r["claude_session_id"] == sid_a]
    assert [r["end_mode"] for r in records] == ["paused"], records
