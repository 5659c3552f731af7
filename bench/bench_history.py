#!/usr/bin/env python3
"""Tool latency against repository history: it must not grow with the number of commits.

    python3 bench/bench_history.py [--sizes 1000,20000,100000] [--files 2000] [--runs 10] [--quick]

Repositories come from bench_git.build (git fast-import, cached under /tmp). In each, medians of
``Core.start``, ``Core.pause`` and ``Core.end`` (no push; a session with one new commit) through
one long-lived ``Core``, as the MCP server runs them; ``end`` of a fresh ``Core`` besides (what
the first call after a server start pays: the local tracker opened); and the SessionStart hook
as a process. ``--quick``: 1,000 and 5,000 commits, 3 runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_git import build  # noqa: E402
from figures import figure  # noqa: E402


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def measure(repo: Path, runs: int) -> dict[str, float]:
    """Medians of each flow. ``start``/``pause``/``end``: through one long-lived ``Core``, as
    the MCP server runs every tool call of a Claude Code session (its tracker and vault opened
    once); ``end (new Core)``: the first end of a fresh ``Core`` (opening the local tracker
    included); ``hook``: the SessionStart hook as a process."""
    from claude_session.core.facade import Core
    from claude_session.core.repository import Repository

    times: dict[str, list[float]] = {
        "start": [],
        "pause": [],
        "end": [],
        "end (git asked)": [],
        "end (new Core)": [],
        "hook": [],
    }
    predicted = Repository.committed_state

    def asking_git(self: Repository, before: object, sha: str) -> None:
        return None  # as if the state after the commit could not be predicted: git is asked

    def end_once(server: Core, sid: str, label: str) -> None:
        """One session with one new file, ended: ``label`` 'end' with the working state after
        the commit predicted (``Repository.committed_state``), 'end (git asked)' without."""
        server.start(repo, session_id=sid, no_import=True, on_mismatch="stay")
        (repo / f"{sid}.txt").write_text("change\n")
        Repository.committed_state = predicted if label == "end" else asking_git  # type: ignore[method-assign]
        try:
            t0 = time.perf_counter()
            server.end(repo, session_id=sid, summary="bench end", message="bench", push=False)
            times[label].append(_ms(t0))
        finally:
            Repository.committed_state = predicted  # type: ignore[method-assign]

    hook = ROOT / "hooks" / "run.py"
    with Core() as server:
        server.status(repo)  # as a server that has answered a call before
        for n in range(runs):
            sid = f"hist-{os.getpid()}-{n}"
            t0 = time.perf_counter()
            server.start(repo, session_id=sid, no_import=True, on_mismatch="stay")
            times["start"].append(_ms(t0))
            (repo / f"bench-{n}.txt").write_text("change\n")
            t0 = time.perf_counter()
            server.pause(repo, session_id=sid, summary="bench pause")
            times["pause"].append(_ms(t0))
            server.end(repo, session_id=sid, summary="bench end", message="bench", push=False)
            # the two ways of knowing the state after end's commit, alternating which goes first
            order = ("end", "end (git asked)") if n % 2 == 0 else ("end (git asked)", "end")
            for label in order:
                end_once(server, f"{sid}-{label.split()[-1].strip(')')}", label)
            server.start(repo, session_id=sid + "-new", no_import=True, on_mismatch="stay")
            (repo / f"bench-{n}-new.txt").write_text("change\n")
            with Core() as fresh:
                t0 = time.perf_counter()
                fresh.end(repo, session_id=sid + "-new", summary="end", message="b", push=False)
                times["end (new Core)"].append(_ms(t0))
            event = json.dumps({"session_id": sid + "-hook", "cwd": str(repo), "source": "startup"})
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, str(hook), "SessionStart"],
                input=event,
                text=True,
                cwd=repo,
                capture_output=True,
                check=True,
            )
            times["hook"].append(_ms(t0))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000,100000")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.files, args.runs = "1000,5000", 500, 3
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="cs-bench-history-") as tmp:
        os.environ["CLAUDE_CONFIG_DIR"] = str(Path(tmp) / "home")
        # the flows commit: an identity even where git has none configured (a fresh machine)
        for variable, value in (
            ("GIT_AUTHOR_NAME", "bench"),
            ("GIT_AUTHOR_EMAIL", "bench@example.invalid"),
            ("GIT_COMMITTER_NAME", "bench"),
            ("GIT_COMMITTER_EMAIL", "bench@example.invalid"),
        ):
            os.environ.setdefault(variable, value)
        rows = []
        for size in sizes:
            t0 = time.perf_counter()
            cached = build(size, args.files)
            repo = Path(tmp) / f"repo-{size}"
            # a private clone-by-copy: the flows commit into it, the cache stays clean
            shutil.copytree(cached, repo, symlinks=True)
            built = time.perf_counter() - t0
            rows.append((size, built, measure(repo, args.runs)))
    print(f"tool latency vs history ({args.files} files, median of {args.runs}, ms)")
    first = rows[0][2]
    for size, built, result in rows:
        parts = ", ".join(f"{k} {v:.0f} ms (x{v / first[k]:.2f})" for k, v in result.items())
        print(f"{size} commits: {parts} [repo ready in {built:.1f} s]")
        figure(
            f"end, no push, {size} commits (MCP server's Core)",
            result["end"],
            "ms",
            goal=50.0,
            issue=17,
        )
        figure(
            f"end, no push, {size} commits, git asked after the commit",
            result["end (git asked)"],
            "ms",
            goal=50.0,
            peer="the same end with the state after the commit predicted",
            peer_value=result["end"],
        )
        figure(f"end, no push, {size} commits (new Core)", result["end (new Core)"], "ms")
        if size != rows[0][0]:
            for flow in ("start", "pause", "end"):
                figure(
                    f"{flow} at {size} / at {rows[0][0]} commits",
                    result[flow] / first[flow],
                    "x",
                    goal=1.5,
                    peer=f"{flow} at {rows[0][0]} commits",
                    peer_value=first[flow],
                    issue=17,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
