"""base/pricing.py: each response priced at its model's prices (input, output, 5-minute and
1-hour cache writes, cache reads), a resumed session's stretches priced apart, an unknown
model unknown (never 0), the user's own price and a refreshed table winning over the shipped
one. The expected figures are worked out by hand below, in dollars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_session.base import pricing, sessions, stretch
from claude_session.base.state import ledger, spool
from claude_session.paths import Paths


def line(n: int, model: str, usage: dict[str, Any], *, output: int | None = None) -> str:
    usage = {**usage, "output_tokens": output if output is not None else usage["output_tokens"]}
    return json.dumps(
        {
            "type": "assistant",
            "sessionId": "s",
            "requestId": f"req_{n}",
            "message": {"id": f"msg_{n}", "model": model, "usage": usage},
        }
    )


def split(five: int, hour: int) -> dict[str, int]:
    return {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}


FIRST = [  # before Claude Code quit
    # opus 4.5: 1000 x $5/M + 500 x $25/M + 2000 x $6.25/M (5m) + 10000 x $0.50/M = $0.035
    line(
        1,
        "claude-opus-4-5-20251101",
        {
            "input_tokens": 1000,
            "output_tokens": 500,
            "cache_creation_input_tokens": 2000,
            "cache_read_input_tokens": 10_000,
        },
    ),
    # sonnet 4.5, streamed twice (the smaller copy does not count): 200 x $3/M + 1000 x $15/M
    # + 4000 x $3.75/M (5m) + 8000 x $6/M (1h) + 20000 x $0.30/M = $0.0846
    line(
        2,
        "claude-sonnet-4-5-20250929",
        {
            "input_tokens": 200,
            "output_tokens": 1000,
            "cache_creation_input_tokens": 12_000,
            "cache_creation": split(4000, 8000),
            "cache_read_input_tokens": 20_000,
        },
        output=10,
    ),
    line(
        2,
        "claude-sonnet-4-5-20250929",
        {
            "input_tokens": 200,
            "output_tokens": 1000,
            "cache_creation_input_tokens": 12_000,
            "cache_creation": split(4000, 8000),
            "cache_read_input_tokens": 20_000,
        },
    ),
]
RESUMED = [  # `claude --resume`: the same file goes on
    # haiku 4.5: 10000 x $1/M + 2000 x $5/M + 50000 x $0.10/M = $0.025
    line(
        3,
        "claude-haiku-4-5",
        {"input_tokens": 10_000, "output_tokens": 2000, "cache_read_input_tokens": 50_000},
    ),
    # opus 4.5: 3000 x $5/M + 4000 x $25/M + 10000 x $10/M (1h) + 100000 x $0.50/M = $0.265
    line(
        4,
        "claude-opus-4-5",
        {
            "input_tokens": 3000,
            "output_tokens": 4000,
            "cache_creation": split(0, 10_000),
            "cache_read_input_tokens": 100_000,
        },
    ),
]
UNKNOWN = [line(5, "claude-future-9", {"input_tokens": 1000, "output_tokens": 1000})]


def cost_of(paths: Paths, transcript: Path, record_id: str) -> dict[str, Any]:
    entry = {"session_id": "s", "project_root": "/p", "transcript_path": str(transcript)}
    usage, _ = stretch.count(paths, entry, record_id=record_id)
    stretch.bill(paths, "s", record_id, usage)
    return pricing.record_cost(usage, paths)


def test_costs_of_a_resumed_session_with_several_models_and_cache_tiers(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    transcript = tmp_path / "s.jsonl"
    transcript.write_text("\n".join(FIRST) + "\n")
    first = cost_of(paths, transcript, "r1")
    assert first["cost_usd"] == pytest.approx(0.1196, abs=1e-9)
    assert first["models"] == ["claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929"]

    transcript.write_text("\n".join(FIRST + RESUMED) + "\n")
    second = cost_of(paths, transcript, "r2")
    assert second["cost_usd"] == pytest.approx(0.29, abs=1e-9)  # its own responses only
    assert round(first["cost_usd"] + second["cost_usd"], 2) == 0.41  # to the cent

    transcript.write_text("\n".join(FIRST + RESUMED + UNKNOWN) + "\n")
    third = cost_of(paths, transcript, "r3")
    assert third == {"cost_usd": None, "models": ["claude-future-9"]}  # unknown, never 0


def test_the_users_price_and_a_refreshed_table_win_over_the_shipped_one(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    paths.data.mkdir(parents=True)
    shipped = pricing.load(paths)
    assert shipped["date"] and pricing.rates(shipped, "claude-opus-4-5-20251101")
    assert pricing.rates(shipped, "anthropic/claude-haiku-4-5") is not None
    assert pricing.rates(shipped, "claude-future-9") is None
    newer = {
        "date": "2099-01-01",
        "source": "test",
        "models": {
            "claude-haiku-4-5": {"input_cost_per_token": 2e-06, "output_cost_per_token": 1e-05}
        },
    }
    pricing.table_file(paths).write_text(json.dumps(newer))
    assert pricing.load(paths)["date"] == "2099-01-01"
    pricing.override_file(paths).write_text(
        json.dumps(
            {
                "models": {
                    "claude-future-9": {
                        "input_cost_per_token": 1e-06,
                        "output_cost_per_token": 2e-06,
                    }
                }
            }
        )
    )
    transcript = tmp_path / "s.jsonl"
    transcript.write_text("\n".join(UNKNOWN) + "\n")
    # 1000 x $1/M + 1000 x $2/M = $0.003
    assert cost_of(paths, transcript, "r1")["cost_usd"] == pytest.approx(0.003)


def test_long_context_responses_are_priced_whole_at_the_long_context_rates(tmp_path: Path) -> None:
    table = {
        "models": {
            "m": {
                "input_cost_per_token": 3e-06,
                "output_cost_per_token": 1.5e-05,
                "input_cost_per_token_above_200k_tokens": 6e-06,
                "output_cost_per_token_above_200k_tokens": 2.25e-05,
                "cache_read_input_token_cost_above_200k_tokens": 6e-07,
            }
        }
    }
    price = pricing.rates(table, "m")
    assert price is not None
    from claude_session.base.tokens import Message

    short = Message("a", "m", 100_000, 1000, 0, 0, 100_000)  # 200,000: not above
    long = Message("b", "m", 100_000, 1000, 0, 0, 100_001)
    # 100000 x 3 + 1000 x 15 + 100000 x 0.3 (a tenth of input, no read price given) = $0.345
    assert pricing.message_cost(price, short) == pytest.approx(0.345)
    # 100000 x 6 + 1000 x 22.5 + 100001 x 0.6 = $0.6 + $0.0225 + $0.0600006 = $0.6825006
    assert pricing.message_cost(price, long) == pytest.approx(0.6825006)


def test_a_finalized_session_record_carries_its_cost(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "home")
    project = tmp_path / "plain"
    project.mkdir()
    transcript = tmp_path / "s.jsonl"
    transcript.write_text("\n".join(FIRST) + "\n")
    fresh = ledger.new_entry(
        session_id="s",
        project="plain",
        project_root=str(project),
        branch=None,
        head=None,
        source="startup",
    )
    ledger.touch(paths, fresh, transcript_path=str(transcript))
    assert sessions.finalize_session(paths, "s")
    [(_, _, record)] = spool.records(paths)
    assert record["cost_usd"] == pytest.approx(0.1196) and record["tokens_output"] == 1500
