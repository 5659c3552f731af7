#!/usr/bin/env python3
"""Our cost figures beside ccusage's (``ccusage session --offline --json``) on the same
transcripts: a session with opus, sonnet and haiku responses and both cache tiers, resumed in
the same file (Claude Code's --resume), and a fork of it (--fork-session: a new file that starts
with a copy of its parent's responses, same message ids).

    npm install --prefix ~/.cache/claude-session/ccusage ccusage@17.2.1
    python3 bench/bench_ccusage.py [--ccusage PATH]

(ccusage 20.x ships a native binary per platform that the registry here lacks; 17.2.1 is pure
JavaScript.) Prints each tool's tokens and dollars per session and in all, and where they differ
and why. Measured on 2026-12-04 with ccusage 17.2.1: the same 227,000 tokens (ccusage drops the
fork's copies by message and request id, as we do; it groups this project's files as one
session, where claude-session has one record per stretch), and $0.0555 less, which is exactly
the 1-hour cache writes priced at the 5-minute rate (ccusage 17 reads only
``cache_creation_input_tokens``): 8,000 sonnet tokens x ($6 - $3.75)/M + 10,000 opus tokens x
($10 - $6.25)/M. The script prints that figure beside the difference it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from figures import figure  # noqa: E402

DEFAULT = (
    Path.home() / ".cache" / "claude-session" / "ccusage" / "node_modules" / ".bin" / "ccusage"
)
TS = "2026-12-01T10:{:02d}:00.000Z"


def response(sid: str, n: int, model: str, usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "assistant",
        "sessionId": sid,
        "uuid": f"00000000-0000-4000-8000-{n:012d}",
        "timestamp": TS.format(n),
        "cwd": "/work/proj",
        "version": "2.1.197",
        "requestId": f"req_{n}",
        "message": {"id": f"msg_{n}", "model": model, "role": "assistant", "usage": usage},
    }


def split(five: int, hour: int) -> dict[str, int]:
    return {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}


def session(sid: str) -> list[dict[str, Any]]:
    """Four responses: two before Claude Code quit, two after --resume (same file)."""
    return [
        response(sid, 1, "claude-opus-4-5-20251101", {
            "input_tokens": 1000, "output_tokens": 500,
            "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 10_000}),
        response(sid, 2, "claude-sonnet-4-5-20250929", {
            "input_tokens": 200, "output_tokens": 1000, "cache_creation_input_tokens": 12_000,
            "cache_creation": split(4000, 8000), "cache_read_input_tokens": 20_000}),
        response(sid, 3, "claude-haiku-4-5-20251001", {
            "input_tokens": 10_000, "output_tokens": 2000, "cache_read_input_tokens": 50_000}),
        response(sid, 4, "claude-opus-4-5-20251101", {
            "input_tokens": 3000, "output_tokens": 4000, "cache_creation_input_tokens": 10_000,
            "cache_creation": split(0, 10_000), "cache_read_input_tokens": 100_000}),
    ]  # fmt: skip


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def ours(home: Path, parent: Path, fork: Path) -> dict[str, tuple[int, float]]:
    """claude-session's records: the first stretch (2 responses), the resumed one (2), the
    fork's own (1); tokens and dollars each."""
    from claude_session.base import pricing, stretch
    from claude_session.paths import Paths

    paths = Paths(home)
    found = {}
    whole = parent.read_text().splitlines()
    stretches = [("first", parent, whole[:2]), ("resumed", parent, whole), ("fork", fork, None)]
    for name, path, lines in stretches:
        if lines is not None:
            path.write_text("\n".join(lines) + "\n")
        sid = path.stem
        entry = {"session_id": sid, "project_root": "/work/proj", "transcript_path": str(path)}
        usage, _ = stretch.count(paths, entry, record_id=f"rec-{name}")
        stretch.bill(paths, sid, f"rec-{name}", usage)
        cost = pricing.record_cost(usage, paths)["cost_usd"]
        assert usage is not None and cost is not None
        found[name] = (usage.total, cost)
    return found


def theirs(binary: Path, config: Path) -> dict[str, tuple[int, float]]:
    env = {**os.environ, "CLAUDE_CONFIG_DIR": str(config), "TZ": "UTC"}
    done = subprocess.run(
        [str(binary), "session", "--offline", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    data = json.loads(done.stdout)
    return {
        str(s.get("sessionId")): (int(s.get("totalTokens", 0)), float(s.get("totalCost", 0.0)))
        for s in data.get("sessions", [])
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ccusage", type=Path, default=Path(os.environ.get("CCUSAGE", DEFAULT)))
    args = parser.parse_args()
    binary = args.ccusage if args.ccusage.exists() else shutil.which("ccusage")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / ".claude"
        folder = config / "projects" / "-work-proj"
        parent_sid, fork_sid = (
            "11111111-1111-4111-8111-111111111111",
            "22222222-2222-4222-8222-222222222222",
        )
        lines = session(parent_sid)
        copied = [{**x, "sessionId": fork_sid} for x in lines]
        own = response(
            fork_sid, 5, "claude-sonnet-4-5-20250929", {"input_tokens": 500, "output_tokens": 800}
        )
        fork = write(folder / f"{fork_sid}.jsonl", [*copied, own])
        parent = write(folder / f"{parent_sid}.jsonl", lines)
        mine = ours(Path(tmp) / "state", parent, fork)
        write(parent, lines)  # whole again, for ccusage
        total_tokens = sum(t for t, _ in mine.values())
        total_cost = sum(c for _, c in mine.values())
        print("claude-session (one record per stretch, each response once):")
        for name, (tokens, cost) in mine.items():
            print(f"  {name:8} {tokens:>9,} tokens  ${cost:.4f}")
        print(f"  {'in all':8} {total_tokens:>9,} tokens  ${total_cost:.4f}")
        figure(
            "cost of the sample sessions (claude-session)", round(total_cost, 4), "USD", issue=27
        )
        if binary is None:
            print("ccusage not found: install it as the docstring says (or pass --ccusage).")
            return 0
        found = theirs(Path(binary), config)
        print(f"ccusage --offline ({binary}):")
        for sid, (tokens, cost) in found.items():
            print(f"  {sid[:8]} {tokens:>9,} tokens  ${cost:.4f}")
        their_tokens = sum(t for t, _ in found.values())
        their_cost = sum(c for _, c in found.values())
        print(f"  {'in all':8} {their_tokens:>9,} tokens  ${their_cost:.4f}")
        hour_tier = 8000 * (6e-6 - 3.75e-6) + 10_000 * (10e-6 - 6.25e-6)
        print(
            f"difference: {their_tokens - total_tokens:+,} tokens, ${their_cost - total_cost:+.4f};"
            f" the 1-hour cache writes priced at the 5-minute rate would make ${-hour_tier:+.4f}"
        )
        figure(
            "cost of the sample sessions (ccusage --offline)", round(their_cost, 4), "USD",
            peer="claude-session", peer_value=round(total_cost, 4), issue=27,
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
