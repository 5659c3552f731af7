#!/usr/bin/env python3
"""Run every benchmark under bench/ and print one table of their figures.

    python3 bench/run_all.py [--quick] [--only NAME ...] [--markdown]

First each script's own printout, then one table of every figure that has a goal or a peer:
the figure, its goal and whether it is met, and the peer measured in the same run (what the
figure is a ratio to, where it is one). ``--markdown`` prints that table as the README's.

``--quick`` (what CI runs) gives each script small inputs and few runs: a smoke run that shows
every benchmark still works, not figures to quote. Without it each script runs with its own
defaults (minutes each). A script that fails is listed with its exit status and last line, and
the command exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# script -> arguments in quick mode (full mode uses each script's defaults)
QUICK = {
    "bench_git.py": ["--commits", "2000", "--files", "500", "--runs", "3"],
    "bench_claude_code.py": ["--quick"],
    "bench_transcript.py": ["--size-mb", "5", "--runs", "1", "--no-ccusage"],
    "bench_tracker.py": ["--posts", "100", "--sessions", "500", "--runs", "3", "--repeat", "1"],
    "bench_outbox.py": ["--records", "500", "--runs", "1"],
    "bench_state.py": ["--quick"],
    "bench_history.py": ["--quick"],
    "bench_onepassword_stall.py": ["--runs", "1", "--deadline", "1"],
    "bench_tokens.py": [],
    "bench_redact_suites.py": [],
    "bench_ccusage.py": [],
    "bench_packed_refs.py": ["--refs", "20000", "--runs", "3"],
}


def scripts(only: list[str] | None) -> list[Path]:
    found = sorted(p for p in HERE.glob("bench_*.py"))
    return [p for p in found if not only or p.stem in only or p.name in only]


def run(script: Path, quick: bool, timeout: float) -> tuple[int, float, list[str], list[dict]]:
    """Exit status, seconds, printed lines and the figures the script recorded."""
    args = QUICK.get(script.name, ["--quick"]) if quick else []
    with tempfile.TemporaryDirectory(prefix="cs-bench-figures-") as tmp:
        figures_file = Path(tmp) / "figures.jsonl"
        env = dict(os.environ, BENCH_FIGURES=str(figures_file))
        t0 = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, str(script), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=HERE.parent,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return 124, time.monotonic() - t0, [f"timed out after {timeout:.0f} s"], []
        figures = []
        if figures_file.exists():
            figures = [json.loads(line) for line in figures_file.read_text().splitlines() if line]
    lines = [line.rstrip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0:
        lines.append((done.stderr.strip().splitlines() or ["(no error output)"])[-1])
    return done.returncode, time.monotonic() - t0, lines, figures


def _number(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("tokens",) or abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.1f} {unit}"


def goals_rows(figures: list[tuple[str, dict]]) -> list[list[str]]:
    rows = []
    for script, f in figures:
        goal = "" if f["goal"] is None else f"{f['op']} {_number(f['goal'], f['unit'])}"
        met = {True: "met", False: "NOT met", None: ""}[f["met"]]
        peer = ""
        if f.get("peer"):
            peer = f["peer"]
            if f.get("peer_value") is not None:
                unit = "ms" if f["unit"] == "x" else f["unit"]
                peer += f" = {_number(f['peer_value'], unit)}"
        issue = f"#{f['issue']}" if f.get("issue") else ""
        rows.append([f["name"], _number(f["value"], f["unit"]), goal, met, peer, issue, script])
    return rows


HEADERS = ["figure", "value", "goal", "", "peer in the same run", "issue", "script"]


def goals_table(rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADERS)]
    out = ["  ".join(h.ljust(w) for h, w in zip(HEADERS, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def goals_markdown(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


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
    parser.add_argument("--markdown", action="store_true", help="the goals table as Markdown")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per script (default 300 quick, 3600 full)",
    )
    args = parser.parse_args()
    timeout = args.timeout or (300.0 if args.quick else 3600.0)
    rows = []
    figures: list[tuple[str, dict]] = []
    for script in scripts(args.only):
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        status, seconds, lines, found = run(script, args.quick, timeout)
        rows.append((script.stem, status, seconds, lines))
        figures += [(script.stem, f) for f in found]
    print(table(rows))
    if figures:
        goal_rows = goals_rows(figures)
        print()
        print(
            "figures against their goals"
            + (" (--quick: smoke sizes, not to quote)" if args.quick else "")
        )
        print(goals_markdown(goal_rows) if args.markdown else goals_table(goal_rows))
    return 0 if all(status == 0 for _, status, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
