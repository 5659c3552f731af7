"""Token accounting from Claude Code transcripts: each API response counted once."""

from __future__ import annotations

import json
import logging
import os
import tracemalloc
from collections.abc import Iterable
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_session.base.tokens import Usage, usage_from_transcript

SESSION = "5b0e8a52-0c52-4a8e-9d3e-7f1c2b3a4d5e"
OTHER_SESSION = "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
MODEL = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
_clock = count()


# -- building realistic lines -------------------------------------------------------------------


def _timestamp() -> str:
    seconds = next(_clock)
    return f"2026-11-20T10:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{seconds % 1000:03d}Z"


def _common(kind: str, **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "parentUuid": "0b6f1c9e-0000-4000-8000-000000000000",
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/shop",
        "sessionId": SESSION,
        "version": "2.1.197",
        "gitBranch": "main",
        "type": kind,
        "uuid": f"uuid-{next(_clock)}",
        "timestamp": _timestamp(),
    }
    line.update(extra)
    return line


def user(text: str) -> dict[str, Any]:
    return _common("user", message={"role": "user", "content": text})


def tool_result(tool_use_id: str, text: str) -> dict[str, Any]:
    block = {"type": "tool_result", "tool_use_id": tool_use_id, "content": text}
    return _common(
        "user",
        message={"role": "user", "content": [block]},
        toolUseResult={"stdout": text, "stderr": "", "interrupted": False},
    )


def assistant(
    message_id: str,
    request_id: str | None,
    *,
    input: int = 0,
    output: int = 0,
    cache_creation: int = 0,
    cache_read: int = 0,
    split: tuple[int, int] | None = None,
    model: str = MODEL,
    block: str = "text",
    **extra: Any,
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": input,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output,
        "service_tier": "standard",
    }
    if split is not None:
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": split[0],
            "ephemeral_1h_input_tokens": split[1],
        }
    content = {
        "text": [{"type": "text", "text": "Looking at the file now."}],
        "thinking": [{"type": "thinking", "thinking": "The user wants...", "signature": "x"}],
        "tool_use": [
            {
                "type": "tool_use",
                "id": "toolu_01",
                "name": "Bash",
                "input": {"command": "pytest -q"},
            }
        ],
    }[block]
    message = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    line = _common("assistant", message=message, **extra)
    if request_id is not None:
        line["requestId"] = request_id
    return line


def dumps(line: dict[str, Any]) -> str:
    """Compact, as Claude Code's JSON.stringify writes it."""
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False)


def write(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else dumps(line)) + "\n")
    return path


def totals(usage: Usage) -> tuple[int, int, int, int, int]:
    return (usage.input, usage.output, usage.cache_creation, usage.cache_read, usage.responses)


# -- a realistic session -------------------------------------------------------------------------


def realistic_session() -> list[dict[str, Any] | str]:
    return [
        _common("file-history-snapshot", messageId="m0", snapshot={"trackedFileBackups": {}}),
        user("Fix the failing checkout test"),
        # msg_A streamed as three blocks; output grows from 5 to 120.
        assistant(
            "msg_A",
            "req_A",
            input=10,
            output=5,
            cache_creation=2000,
            split=(1500, 500),
            cache_read=15000,
            block="thinking",
        ),
        assistant(
            "msg_A",
            "req_A",
            input=10,
            output=5,
            cache_creation=2000,
            split=(1500, 500),
            cache_read=15000,
            block="text",
        ),
        assistant(
            "msg_A",
            "req_A",
            input=10,
            output=120,
            cache_creation=2000,
            split=(1500, 500),
            cache_read=15000,
            block="tool_use",
        ),
        # A tool result that talks about usage: quoted inside a string, it is escaped.
        tool_result("toolu_01", 'FAILED test_checkout {"usage": {"input_tokens": 99999}}'),
        "",
        # msg_B: no split, two copies.
        assistant("msg_B", "req_B", input=4, output=8, cache_creation=100, cache_read=17000),
        assistant(
            "msg_B",
            "req_B",
            input=4,
            output=300,
            cache_creation=100,
            cache_read=17000,
            block="tool_use",
        ),
        _common("system", subtype="informational", content="Hook ran", level="info"),
        _common(
            "system",
            subtype="compact_boundary",
            parentUuid=None,
            logicalParentUuid="uuid-1",
            content="Conversation compacted",
            compactMetadata={"trigger": "auto", "preTokens": 155000},
        ),
        _common(
            "user",
            isCompactSummary=True,
            message={"role": "user", "content": "This session is being continued..."},
        ),
        {"type": "summary", "summary": "Fixing checkout tests", "leafUuid": "uuid-9"},
        # msg_C written without a requestId (older builds): two copies, one response.
        assistant("msg_C", None, input=3, output=50, cache_read=1000),
        assistant("msg_C", None, input=3, output=50, cache_read=1000),
        # /btw replays msg_B in a sidechain with a new request id: not a new response.
        assistant(
            "msg_B",
            "req_btw",
            input=4,
            output=300,
            cache_creation=100,
            cache_read=17000,
            isSidechain=True,
        ),
        # A sidechain response of its own counts.
        assistant("msg_D", "req_D", input=7, output=70, isSidechain=True),
        # Locally made messages are not API responses.
        assistant("msg_E", "req_E", input=999, output=999, model="<synthetic>"),
        assistant("msg_F", "req_F", input=2, output=20, cache_read=500, model=HAIKU),
        '{"type":"assistant","message":{"usage":{"input_tokens":5',  # cut mid-write
        "{not json at all",  # no usage marker: never parsed
        "   ",
    ]


def test_realistic_session_counts_each_response_once(tmp_path: Path) -> None:
    path = write(tmp_path / f"{SESSION}.jsonl", realistic_session())

    usage = usage_from_transcript(path)

    assert usage.input == 10 + 4 + 3 + 7 + 2
    assert usage.output == 120 + 300 + 50 + 70 + 20
    assert usage.cache_creation == 2000 + 100
    assert usage.cache_read == 15000 + 17000 + 1000 + 500
    assert usage.responses == 5
    assert usage.models == {MODEL: 4, HAIKU: 1}
    assert usage.bad_lines == 1
    assert usage.lines == 20  # blank and whitespace-only lines are not lines
    assert usage.total == usage.input + usage.output + usage.cache_creation + usage.cache_read


def test_naive_sum_would_overcount_the_same_session(tmp_path: Path) -> None:
    """Guards the fixture: it really repeats usage, so the dedupe above is doing work."""
    naive_output = sum(
        line["message"]["usage"]["output_tokens"]
        for line in realistic_session()
        if isinstance(line, dict) and line.get("type") == "assistant"
    )
    usage = usage_from_transcript(write(tmp_path / "s.jsonl", realistic_session()))
    assert naive_output > usage.output


def test_cache_creation_prefers_the_5m_and_1h_split(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        [
            assistant("msg_1", "req_1", cache_creation=10, split=(300, 40)),
            assistant("msg_2", "req_2", cache_creation=25),
        ],
    )
    assert usage_from_transcript(path).cache_creation == 340 + 25


def test_the_largest_copy_wins_whatever_the_order(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        [
            assistant("msg_1", "req_1", input=5, output=400),
            assistant("msg_1", "req_1", input=5, output=12),
        ],
    )
    assert totals(usage_from_transcript(path)) == (5, 400, 0, 0, 1)


def test_copy_without_request_id_is_the_same_response(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        [
            assistant("msg_1", "req_1", input=5, output=10),
            assistant("msg_1", None, input=5, output=60),
            assistant("msg_2", None, input=1, output=1),
        ],
    )
    assert totals(usage_from_transcript(path)) == (6, 61, 0, 0, 2)


def test_sidechain_replay_before_its_parent_is_still_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        [
            assistant("msg_1", "req_btw", input=1, output=900, cache_read=5000, isSidechain=True),
            assistant("msg_1", "req_1", input=1, output=10, cache_read=5000),
        ],
    )
    assert totals(usage_from_transcript(path)) == (1, 10, 0, 5000, 1)


def test_sidechain_copies_of_one_message_are_one_response(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        [
            assistant("msg_1", "req_1", output=10, isSidechain=True),
            assistant("msg_1", "req_2", output=25, isSidechain=True),
        ],
    )
    assert totals(usage_from_transcript(path)) == (0, 25, 0, 0, 1)


def test_distinct_request_ids_of_one_message_outside_sidechains_both_count(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        [
            assistant("msg_1", "req_1", output=10),
            assistant("msg_1", "req_2", output=20),
        ],
    )
    assert totals(usage_from_transcript(path)) == (0, 30, 0, 0, 2)


def test_subagent_transcripts_are_added_and_deduplicated_across_files(tmp_path: Path) -> None:
    main = write(
        tmp_path / f"{SESSION}.jsonl",
        [
            user("Review the diff with a subagent"),
            assistant("msg_main", "req_main", input=10, output=100, cache_read=2000),
        ],
    )
    subagents = tmp_path / SESSION / "subagents"
    write(
        subagents / "agent-a1.jsonl",
        [
            user("Review this diff") | {"isSidechain": True, "agentId": "a1"},
            assistant("msg_sub1", "req_sub1", input=3, output=5, isSidechain=True, agentId="a1"),
            assistant("msg_sub1", "req_sub1", input=3, output=30, isSidechain=True, agentId="a1"),
        ],
    )
    write(
        subagents / "agent-a2.jsonl",
        [
            # The same response seen in two subagent files, and a replay of the parent's.
            assistant("msg_sub1", "req_sub1", input=3, output=30, isSidechain=True, agentId="a2"),
            assistant(
                "msg_main",
                "req_side",
                input=10,
                output=100,
                cache_read=2000,
                isSidechain=True,
                agentId="a2",
            ),
            assistant("msg_sub2", "req_sub2", input=4, output=40, isSidechain=True, agentId="a2"),
        ],
    )
    (subagents / "notes.txt").write_text('{"usage": 1}\n')

    with_subagents = usage_from_transcript(main)
    without = usage_from_transcript(main, include_subagents=False)

    assert totals(with_subagents) == (10 + 3 + 4, 100 + 30 + 40, 0, 2000, 3)
    assert totals(without) == (10, 100, 0, 2000, 1)


def test_missing_transcript_gives_zero_usage(tmp_path: Path) -> None:
    assert usage_from_transcript(tmp_path / "nope.jsonl") == Usage()


def test_unreadable_transcript_gives_zero_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "s.jsonl"  # opening a folder fails like any unreadable file
    folder.mkdir()
    with caplog.at_level(logging.WARNING, logger="claude_session.base.transcript"):
        assert usage_from_transcript(folder) == Usage()
    assert "cannot read transcript" in caplog.text


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied_gives_zero_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "s.jsonl", [assistant("msg_1", "req_1", output=5)])
    path.chmod(0)
    with caplog.at_level(logging.WARNING, logger="claude_session.base.transcript"):
        assert usage_from_transcript(path) == Usage()
    assert "cannot read transcript" in caplog.text


def test_session_filter_skips_lines_of_other_sessions(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        [
            assistant("msg_1", "req_1", output=10),
            assistant("msg_2", "req_2", output=20, sessionId=OTHER_SESSION),
            assistant("msg_3", "req_3", output=40) | {"sessionId": None},
        ],
    )
    assert usage_from_transcript(path, session_id=SESSION).output == 50
    assert usage_from_transcript(path, session_id=OTHER_SESSION).output == 60
    assert usage_from_transcript(path).output == 70


def test_overlong_line_is_skipped_and_the_next_line_still_read(tmp_path: Path) -> None:
    long_text = "x" * 5000
    path = write(
        tmp_path / "s.jsonl",
        [
            assistant("msg_1", "req_1", output=1) | {"padding": long_text},
            assistant("msg_2", "req_2", output=2),
        ],
    )
    usage = usage_from_transcript(path, max_line_bytes=1000)
    assert (usage.output, usage.bad_lines, usage.lines) == (2, 1, 2)


def test_invalid_utf8_and_non_object_lines_are_bad_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    good = json.dumps(assistant("msg_1", "req_1", output=7)).encode()
    path.write_bytes(b'{"usage": "\xff\xfe"}\n' + b'["usage"]\n' + good)  # last line: no newline
    usage = usage_from_transcript(path)
    assert (usage.output, usage.bad_lines, usage.lines) == (7, 2, 3)


def test_nonsense_token_values_count_as_zero(tmp_path: Path) -> None:
    line = assistant("msg_1", "req_1", input=4)
    line["message"]["usage"].update(
        output_tokens=-50, cache_read_input_tokens="12", cache_creation_input_tokens=True
    )
    assert totals(usage_from_transcript(write(tmp_path / "s.jsonl", [line]))) == (4, 0, 0, 0, 1)


# -- a 100 MB transcript -----------------------------------------------------------------------


def _write_big_transcript(path: Path, target_bytes: int) -> tuple[int, int, int]:
    """Turns of prompt, 3 streamed copies, tool result; returns (input, output, responses)."""
    expected_input = expected_output = turns = 0
    output_text = "test_checkout.py::test_total PASSED\n" * 110  # ~4 KB tool output
    with path.open("w", encoding="utf-8") as handle:
        while handle.tell() < target_bytes:
            turns += 1
            mid, rid = f"msg_{turns:08d}", f"req_{turns:08d}"
            inp, out = turns % 97 + 1, turns % 89 + 50
            lines = (
                [user(f"step {turns}")]
                + [
                    assistant(mid, rid, input=inp, output=grow, cache_read=20000, block=block)
                    for grow, block in ((1, "thinking"), (out // 2, "text"), (out, "tool_use"))
                ]
                + [tool_result("toolu_01", output_text)]
            )
            handle.write("".join(dumps(line) + "\n" for line in lines))
            expected_input += inp
            expected_output += out
    return expected_input, expected_output, turns


@pytest.mark.slow
def test_100mb_transcript_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    expected_input, expected_output, turns = _write_big_transcript(path, 100 * 1024 * 1024)

    tracemalloc.start()
    try:
        usage = usage_from_transcript(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert (usage.input, usage.output, usage.responses) == (expected_input, expected_output, turns)
    assert usage.cache_read == 20000 * turns
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# -- properties ---------------------------------------------------------------------------------

_token = st.one_of(
    st.integers(-1000, 10**7),
    st.floats(allow_nan=True),
    st.none(),
    st.text(max_size=3),
    st.booleans(),
)


@st.composite
def _line(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["assistant", "assistant", "assistant", "user", "garbage"]))
    if kind == "user":
        return dumps(user(draw(st.text(max_size=20))))
    if kind == "garbage":
        return draw(st.sampled_from(['{"usage": ', "[1, 2", '"usage"', "null", "{}"]))
    line = assistant(
        draw(st.sampled_from(["msg_1", "msg_2", "msg_3", ""])),
        draw(st.sampled_from(["req_1", "req_2", None])),
        model=draw(st.sampled_from([MODEL, HAIKU, "<synthetic>", ""])),
        isSidechain=draw(st.booleans()),
        sessionId=draw(st.sampled_from([SESSION, OTHER_SESSION])),
        timestamp=f"2026-11-20T10:00:{draw(st.integers(0, 59)):02d}.000Z",
    )
    usage = line["message"]["usage"]
    for name in (
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
    ):
        usage[name] = draw(_token)
    if draw(st.booleans()):
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": draw(_token),
            "ephemeral_1h_input_tokens": draw(_token),
        }
    return dumps(line) if draw(st.booleans()) else json.dumps(line)  # spaced JSON too


def _accounting(usage: Usage) -> tuple[Any, ...]:
    return (totals(usage), usage.models)


_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(lines=st.lists(_line(), max_size=30), session=st.sampled_from([None, SESSION]))
def test_totals_are_never_negative(tmp_path: Path, lines: list[str], session: str | None) -> None:
    usage = usage_from_transcript(write(tmp_path / "p.jsonl", lines), session_id=session)
    assert min(totals(usage)) >= 0
    assert all(n > 0 for n in usage.models.values())
    assert sum(usage.models.values()) == usage.responses


@_settings
@given(lines=st.lists(_line(), max_size=30))
def test_duplicating_every_line_changes_no_total(tmp_path: Path, lines: list[str]) -> None:
    once = usage_from_transcript(write(tmp_path / "once.jsonl", lines))
    twice = usage_from_transcript(write(tmp_path / "twice.jsonl", [x for x in lines for _ in "ab"]))
    assert _accounting(twice) == _accounting(once)


@_settings
@given(data=st.data(), lines=st.lists(_line(), max_size=30))
def test_line_order_changes_no_total(tmp_path: Path, data: st.DataObject, lines: list[str]) -> None:
    shuffled = data.draw(st.permutations(lines))
    once = usage_from_transcript(write(tmp_path / "a.jsonl", lines))
    again = usage_from_transcript(write(tmp_path / "b.jsonl", shuffled))
    assert _accounting(again) == _accounting(once)
