#!/usr/bin/env python3
"""Does a big state home slow start down? pause-state.json with 1,000 projects and 10,000
context files, against an empty home.

    python3 bench/bench_state.py [--projects 1000] [--contexts 10000] [--runs 15] [--quick]

Measured in both homes, medians: the SessionStart hook (a process fed hook JSON, in a paused
project), ``Core.start`` in process, and ``Core.pause`` (which rewrites pause-state.json).
The ratio big/empty should stay near 1 for start.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))


def make_home(home: Path, projects: int, contexts: int, work: Path) -> None:
    """A home with ``projects`` pause entries and ``contexts`` context files."""
    (home / "contexts").mkdir(parents=True, exist_ok=True)
    for i in range(contexts):
        (
            home / "contexts" / f"proj{i % max(projects, 1):04d}-20250101-000000-pause-{i:06x}.md"
        ).write_text(f"---\nproject: proj{i}\nkind: pause\n---\n\n## Summary\nwork {i}\n")
    entries = {}
    for i in range(projects):
        root = str(work / f"proj{i:04d}")
        entries[root] = {
            "project": f"proj{i:04d}",
            "project_root": root,
            "branch": "main",
            "head": "0" * 40,
            "context_file": str(
                home / "contexts" / f"proj{i:04d}-20250101-000000-pause-{i:06x}.md"
            ),
            "paused_at": "2025-01-01T00:00:00+00:00",
            "session_id": f"s{i}",
            "summary": "x" * 200,
        }
    (home / "pause-state.json").write_text(json.dumps({"version": 1, "projects": entries}))


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(home: Path, project: Path, runs: int) -> dict[str, float]:
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(home))
    event = json.dumps(
        {
            "session_id": "bench-hook",
            "cwd": str(project),
            "source": "startup",
            "hook_event_name": "SessionStart",
            "transcript_path": "",
        }
    )
    hook = ROOT / "hooks" / "run.py"

    def run_hook() -> None:
        subprocess.run(
            [sys.executable, str(hook), "SessionStart"],
            input=event,
            env=env,
            cwd=project,
            text=True,
            capture_output=True,
            check=True,
        )

    os.environ["CLAUDE_CONFIG_DIR"] = str(home)
    from claude_session.core.facade import Core

    counter = iter(range(10**6))
    with Core() as core:
        results = {"SessionStart hook": median_ms(run_hook, runs)}
        results["Core.start"] = median_ms(
            lambda: core.start(
                project, session_id=f"b{next(counter)}", no_import=True, on_mismatch="stay"
            ),
            runs,
        )
        results["Core.pause"] = median_ms(
            lambda: core.pause(project, session_id="bp", summary="bench"), runs
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--contexts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="100 projects, 1,000 files, 5 runs")
    args = parser.parse_args()
    if args.quick:
        args.projects, args.contexts, args.runs = 100, 1000, 5
    with tempfile.TemporaryDirectory(prefix="cs-bench-state-") as tmp:
        base = Path(tmp)
        project = base / "work" / "proj0000"
        project.mkdir(parents=True)
        empty, big = base / "empty" / ".claude", base / "big" / ".claude"
        empty.mkdir(parents=True)
        t0 = time.perf_counter()
        make_home(big, args.projects, args.contexts, base / "work")
        built = time.perf_counter() - t0
        small = measure(empty, project, args.runs)
        large = measure(big, project, args.runs)
    print(
        f"state home: {args.projects} paused projects, {args.contexts} context files "
        f"(built in {built:.1f} s), median of {args.runs}"
    )
    for name in small:
        print(
            f"{name}: empty {small[name]:.1f} ms, big {large[name]:.1f} ms, "
            f"ratio {large[name] / small[name]:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
