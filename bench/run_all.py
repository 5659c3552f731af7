#!/usr/bin/env python3
"""Run every benchmark under bench/ and print one table of their figures.

    python3 bench/run_all.py [--quick] [--only NAME ...]

``--quick`` (what CI runs) gives each script small inputs and few runs: a smoke run that shows
every benchmark still works, not figures to quote. Without it each script runs with its own
defaults (minutes each). A script that fails is listed with its exit status and last line, and
the command exits 1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# script -> arguments in quick mode (full mode uses each script's defaults)
QUICK = {
    "bench_git.py": ["--commits", "2000", "--files", "500", "--runs", "3"],
    "bench_claude_code.py": ["--quick"],
    "bench_transcript.py": ["--size-mb", "5", "--runs", "1", "--no-ccusage"],
    "bench_tracker.py": ["--posts", "100", "--sessions", "2000", "--runs", "5", "--repeat", "1"],
    "bench_outbox.py": ["--records", "500", "--runs", "1"],
    "bench_state.py": ["--quick"],
    "bench_history.py": ["--quick"],
    "bench_onepassword_stall.py": ["--runs", "1"],
    "bench_tokens.py": [],
}


def scripts(only: list[str] | None) -> list[Path]:
    found = sorted(p for p in HERE.glob("bench_*.py"))
    return [p for p in found if not only or p.stem in only or p.name in only]


def run(script: Path, quick: bool, timeout: float) -> tuple[int, float, list[str]]:
    args = QUICK.get(script.name, ["--quick"]) if quick else []
    t0 = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=HERE.parent,
        )
    except subprocess.TimeoutExpired:
        return 124, time.monotonic() - t0, [f"timed out after {timeout:.0f} s"]
    lines = [line.rstrip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0:
        lines.append((done.stderr.strip().splitlines() or ["(no error output)"])[-1])
    return done.returncode, time.monotonic() - t0, lines


def table(rows: list[tuple[str, int, float, list[str]]]) -> str:
    width = max(len(name) for name, *_ in rows)
    out = [
        f"{'benchmark':<{width}}  {'status':<6}  {'time':>7}  figures",
        f"{'-' * width}  ------  -------  {'-' * 60}",
    ]
    for name, status, seconds, lines in rows:
        flag = "ok" if status == 0 else f"FAIL {status}"
        for i, line in enumerate(lines or [""]):
            head = f"{name:<{width}}  {flag:<6}  {seconds:6.1f}s" if i == 0 else " " * (width + 17)
            out.append(f"{head}  {line}")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs: the CI smoke run")
    parser.add_argument("--only", nargs="*", help="run only these (bench_git or bench_git.py)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per script (default 300 quick, 3600 full)",
    )
    args = parser.parse_args()
    timeout = args.timeout or (300.0 if args.quick else 3600.0)
    rows = []
    for script in scripts(args.only):
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        rows.append((script.stem, *run(script, args.quick, timeout)))
    print(table(rows))
    return 0 if all(status == 0 for _, status, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
