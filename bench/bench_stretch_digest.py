#!/usr/bin/env python3
"""The digest of a resumed stretch: what it costs as the transcript's earlier history grows.

    python3 bench/bench_stretch_digest.py [--history-mb 1 8 32] [--stretch-mb 0.1 1] [--runs 5]

A transcript of ``history`` MB of earlier stretches is followed by ``stretch`` MB of the stretch
being finalized. The digest of that stretch (``sessions.session_digest``, as the hooks' finalize
runs it) is timed twice on the same file: from where the stretch began (the ledger entry's
``stretch_offset``, what finalization does now) and from the beginning (what it did before).
The time budget is lifted so that both read to the end; medians of ``runs``. The goal: the
digest's cost follows the stretch, not the history (from the offset, the time at 32 MB of
history is within 1.5x of the time at 1 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from figures import figure  # noqa: E402

from claude_session.base import sessions  # noqa: E402

SESSION = "5b1f7e0c-2d4a-4c6e-8f10-3a5b7c9d1e2f"


def turn(n: int, word: str) -> str:
    """One turn: a request, a response with an edit, its tool result (about 2.5 KB), a reply."""
    lines = [
        {
            "type": "user",
            "sessionId": SESSION,
            "message": {"role": "user", "content": f"{word} {n}"},
        },
        {
            "type": "assistant",
            "sessionId": SESSION,
            "message": {
                "id": f"msg_{word}_{n}",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [
                    {"type": "text", "text": f"Working on {word} {n}."},
                    {
                        "type": "tool_use",
                        "id": f"t{n}",
                        "name": "Edit",
                        "input": {
                            "file_path": f"/p/src/{word}_{n % 50}.py",
                            "old_string": "a",
                            "new_string": "b" * 400,
                        },
                    },
                ],
                "usage": {"input_tokens": 10, "output_tokens": 50},
            },
        },
        {
            "type": "user",
            "sessionId": SESSION,
            "message": {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": f"t{n}", "content": "ok " + "x" * 1800}
                ],
            },
        },
        {
            "type": "assistant",
            "sessionId": SESSION,
            "message": {
                "id": f"msg_{word}_{n}_r",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": f"Done with {word} {n}."}],
                "usage": {"input_tokens": 10, "output_tokens": 20},
            },
        },
    ]
    return "".join(json.dumps(line) + "\n" for line in lines)


def write(path: Path, history_mb: float, stretch_mb: float) -> int:
    """The transcript: history, then the stretch; returns the stretch's offset."""
    with path.open("w") as out:
        n = 0
        while out.tell() < history_mb * 1e6:
            out.write(turn(n, "earlier"))
            n += 1
        offset = out.tell()
        start = offset
        while out.tell() - start < stretch_mb * 1e6:
            out.write(turn(n, "stretch"))
            n += 1
    return offset


def digest(entry: dict[str, object]) -> tuple[float, object]:
    """One digest of the entry's stretch, timed (the budget lifted: it reads to the end)."""
    began = time.perf_counter()
    made = sessions.session_digest(entry, in_git=False, budget=600.0)
    return time.perf_counter() - began, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--history-mb", type=float, nargs="+", default=[1, 8, 32])
    parser.add_argument("--stretch-mb", type=float, nargs="+", default=[0.1, 1])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="smoke sizes (run_all --quick)")
    args = parser.parse_args()
    if args.quick:
        args.history_mb, args.stretch_mb, args.runs = [0.5, 2], [0.05], 1
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs; median of {args.runs}")
    folder = Path(tempfile.mkdtemp(prefix="cs-bench-stretch-"))
    warm = folder / "warm.jsonl"  # the first digest loads the redaction rules: not timed
    write(warm, 0.01, 0.01)
    digest({"session_id": SESSION, "project_root": str(folder), "transcript_path": str(warm)})
    entries: dict[tuple[float, float], dict[str, object]] = {}
    for stretch_mb in args.stretch_mb:
        for history_mb in args.history_mb:
            path = folder / f"t-{history_mb:g}-{stretch_mb:g}.jsonl"
            entries[history_mb, stretch_mb] = {
                "session_id": SESSION,
                "project_root": str(folder),
                "transcript_path": str(path),
                "stretch_transcript": str(path),
                "stretch_offset": write(path, history_mb, stretch_mb),
            }
    # every configuration once per round, so that the machine's load falls on all alike
    times: dict[tuple[float, float, bool], list[float]] = {}
    for _ in range(args.runs):
        for key, entry in entries.items():
            for whole in (False, True):
                took, made = digest({**entry, "stretch_offset": None} if whole else entry)
                first = made.first_request  # type: ignore[attr-defined]
                assert first.startswith("earlier" if whole else "stretch"), first
                times.setdefault((*key, whole), []).append(took)
    med = {key: statistics.median(found) for key, found in times.items()}
    print(
        f"{'history MB':>10} {'stretch MB':>10} {'from offset':>12} {'whole file':>11} {'ratio':>6}"
    )
    for history_mb, stretch_mb in entries:
        ours, whole = med[history_mb, stretch_mb, False], med[history_mb, stretch_mb, True]
        print(
            f"{history_mb:>10g} {stretch_mb:>10g} {ours * 1000:>10.1f}ms "
            f"{whole * 1000:>9.1f}ms {whole / ours:>5.1f}x"
        )
    low, high = args.history_mb[0], args.history_mb[-1]
    for stretch_mb in args.stretch_mb:
        growth = med[high, stretch_mb, False] / med[low, stretch_mb, False]
        print(
            f"stretch {stretch_mb:g} MB: from the offset, {high:g} MB of history costs "
            f"{growth:.2f}x what {low:g} MB does"
        )
        figure(
            f"stretch digest at {high:g} MB history / {low:g} MB (stretch {stretch_mb:g} MB)",
            round(growth, 2),
            "x",
            goal=1.5,
            issue=27,
        )
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
