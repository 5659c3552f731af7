#!/usr/bin/env python3
"""What does screening odd text cost? The MCP stdin screen per line, and the lone-surrogate
checks every state-file read and write now makes.

    python3 bench/bench_odd_text.py [--size-mb 5] [--runs 7] [--quick]

Prints medians: ``mcp_stdio.screen`` on a typical tools/call line and on a line with a
``--size-mb`` summary (clean, and with one lone surrogate, which costs a parse-clean-dump),
next to ``json.loads`` of the same line (what the SDK does anyway); ``text.to_utf8`` and
``may_hold_lone_surrogate`` on a text of that size (what ``atomic_write`` / ``StateFile`` add).
Text with non-BMP characters (emoji) is the costly case: state files store them as escape pairs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from claude_session.base.text import may_hold_lone_surrogate, to_utf8  # noqa: E402
from claude_session.edges.mcp.stdio import screen  # noqa: E402


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def call_line(summary: str) -> str:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {
                "name": "pause_session",
                "arguments": {
                    "summary": summary,
                    "next_steps": ["a", "b"],
                    "cwd": "/home/me/project",
                },
            },
        }
    )


def report(name: str, text: str, size_mb: float, runs: int) -> None:
    clean_line = call_line(text)
    odd_line = call_line(text + "\ud800")
    mb = f"{len(clean_line) / 1e6:.1f} MB"
    print(f"--- {size_mb} MB summary, {name}")
    print(f"json.loads, {mb} line: {median_ms(lambda: json.loads(clean_line), runs):.1f} ms")
    print(f"screen, {mb} line, clean: {median_ms(lambda: screen(clean_line), runs):.1f} ms")
    print(
        f"screen, {mb} line, one lone surrogate: {median_ms(lambda: screen(odd_line), runs):.1f} ms"
    )
    print(
        f"to_utf8 = str.encode, {size_mb} MB text, clean: "
        f"{median_ms(lambda: to_utf8(text), runs):.2f} ms"
    )
    raw = json.dumps({"summary": text}).encode()
    print(
        f"may_hold_lone_surrogate, {len(raw) / 1e6:.1f} MB state file: "
        f"{median_ms(lambda: may_hold_lone_surrogate(raw), runs):.2f} ms "
        f"(json.loads of it: {median_ms(lambda: json.loads(raw), runs):.1f} ms)"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    size_mb, runs = (0.5, 3) if args.quick else (args.size_mb, args.runs)
    big = "lorem ipsum dolor sit amet, é ü 😀 " * int(size_mb * 1_000_000 / 36)

    small = call_line("Half way through the login form")
    n = 2000 if args.quick else 20000
    start = time.perf_counter()
    for _ in range(n):
        screen(small)
    per_line_us = (time.perf_counter() - start) / n * 1e6
    print(f"screen, typical tools/call line ({len(small)} B): {per_line_us:.1f} us per line")

    plain = "lorem ipsum dolor sit amet, é ü ß " * int(size_mb * 1_000_000 / 34)
    for name, text in (("accented", plain), ("an emoji every 36 chars", big)):
        report(name, text, size_mb, runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
