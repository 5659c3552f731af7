#!/usr/bin/env python3
"""How long do commands take when 1Password never answers?

    python3 bench/bench_onepassword_stall.py [--runs 1] [--blocking] [--baseline] [--deadline S]

Runs the real CLI (``start``, ``pause --handoff``, ``sync``) as processes in a throwaway home
and git repository, with ``OP_SERVICE_ACCOUNT_TOKEN`` set and onepassword-sdk's
``Client.authenticate`` replaced by a coroutine that never returns: a sign-in whose request
the network swallows. ``--blocking`` makes it block its thread instead (the desktop app's
ctypes call waiting for approval holds the event loop). Prints the wall time of each command,
its exit status, and whether the hand-off waited in pending-handoffs. ``--deadline`` sets
``CLAUDE_SESSION_OP_DEADLINE`` (the seconds a command may spend on 1Password; 5 by default).

The review of issue 12 measured 61 s (start), 31 s (pause --handoff) and 91 s (sync) against a
server that accepts connections and never answers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import figure

ROOT = Path(__file__).resolve().parent.parent
#: seconds a command may take in all while 1Password never answers
STALL_GOAL = 8.0

RUNNER = """
import asyncio, sys, time
import onepassword

async def never(auth, name, version):
    if {blocking}:
        time.sleep(3600)
    await asyncio.sleep(3600)

onepassword.Client.authenticate = never
from claude_session.edges.cli import main
sys.exit(main(sys.argv[1:]))
"""

COMMANDS = [
    ("start", ["start", "--session-id", "s1"]),
    ("pause --handoff", ["pause", "--session-id", "s1", "--summary", "half", "--handoff"]),
    ("sync", ["sync"]),
]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--blocking", action="store_true")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="no 1Password at all (local vault): the commands' own time",
    )
    parser.add_argument(
        "--deadline", help="CLAUDE_SESSION_OP_DEADLINE for the commands (default: unset, 5 s)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        (home / ".claude").mkdir(parents=True)
        repo = Path(tmp) / "shop"
        repo.mkdir()
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLAUDE_SESSION_", "CLAUDE_CODE_", "GIT_"))
        }
        env.update(
            HOME=str(home),
            CLAUDE_CONFIG_DIR=str(home / ".claude"),
            OP_SERVICE_ACCOUNT_TOKEN="ops_never-used-by-the-replaced-sign-in",
            PYTHONPATH=str(ROOT / "server"),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=str(home / ".gitconfig-none"),
            GIT_AUTHOR_NAME="Bench",
            GIT_AUTHOR_EMAIL="bench@example.com",
            GIT_COMMITTER_NAME="Bench",
            GIT_COMMITTER_EMAIL="bench@example.com",
        )
        if args.baseline:
            del env["OP_SERVICE_ACCOUNT_TOKEN"]
        if args.deadline is not None:
            env["CLAUDE_SESSION_OP_DEADLINE"] = args.deadline
        os.environ.update(env)
        git(repo, "init", "-q", "-b", "main")
        (repo / "README").write_text("x\n")
        git(repo, "add", "README")
        git(repo, "commit", "-q", "-m", "init")
        code = RUNNER.format(blocking=args.blocking)
        print(
            "no 1Password (local vault)"
            if args.baseline
            else f"1Password never answers ({'blocking' if args.blocking else 'async'} sign-in), "
            f"deadline {args.deadline or 'default'}"
        )
        took_by: dict[str, list[float]] = {label: [] for label, _ in COMMANDS}
        for run in range(args.runs):
            for label, argv in COMMANDS:
                began = time.monotonic()
                done = subprocess.run(
                    [sys.executable, "-c", code, *argv],
                    cwd=repo,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                took = time.monotonic() - began
                took_by[label].append(took)
                said = [
                    line
                    for line in done.stderr.splitlines() + done.stdout.splitlines()
                    if "1Password" in line
                ][:1]
                print(
                    f"  run {run + 1} {label:<16} {took:6.2f} s  rc={done.returncode}  "
                    f"{said[0][:110] if said else ''}"
                )
        pending = list((home / ".claude" / "claude-session" / "pending-handoffs").glob("*.json"))
        print(f"  pending hand-offs kept: {len(pending)}")
        if not args.baseline:
            for label, times in took_by.items():
                # "a few seconds on 1Password in all": the 5 s deadline and the command's work
                figure(
                    f"{label} with 1Password never answering",
                    statistics.median(times),
                    "s",
                    goal=STALL_GOAL,
                    issue=12,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
