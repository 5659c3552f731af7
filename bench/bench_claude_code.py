"""What claude-session costs Claude Code: hook latency, MCP start-up, tool latency.

    python3 bench/bench_claude_code.py [--quick]

1. SessionStart hook wall time (a process fed real hook JSON, in a 20,000-commit repository,
   with a paused session to report) and its ratio to a bare ``python3 -c pass`` in the same run.
2. MCP server spawn-to-initialized (raw JSON-RPC ``initialize`` over stdio) and its ratio to
   ``mcp-server-git`` from PyPI (installed once into its own virtualenv under /tmp).
3. ``start_session`` and ``end_session`` latency (the core flows, in process) in that repository.
Medians; ``--quick`` uses a small repository and few runs (CI smoke run).
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
sys.path.insert(0, str(ROOT / "bench"))

from bench_git import build  # noqa: E402

BENCH = Path(tempfile.gettempdir()) / "claude-session-bench"


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def isolated_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "OP_"))}
    env.update(HOME=str(home), CLAUDE_CONFIG_DIR=str(home / ".claude"),
               PYTHONPATH=str(ROOT / "server"))
    return env


def hook_bench(repo: Path, env: dict[str, str], runs: int) -> tuple[float, float]:
    from claude_session.config import Settings
    from claude_session.lifecycle import Core

    with Core(Settings.from_env(env)) as core:
        core.pause(repo, summary="benchmark pause")
    payload = json.dumps({"session_id": "bench", "cwd": str(repo), "source": "startup",
                          "hook_event_name": "SessionStart",
                          "transcript_path": str(repo / "t.jsonl")})
    script = str(ROOT / "hooks" / "session_start.py")

    def hook() -> None:
        proc = subprocess.run([sys.executable, script], input=payload, capture_output=True,
                              text=True, env=env, cwd=repo, check=True)
        assert "paused" in proc.stdout, proc.stdout + proc.stderr

    def bare() -> None:
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)

    return median_ms(hook, runs), median_ms(bare, runs)


INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {},
    "clientInfo": {"name": "bench", "version": "1"}}}) + "\n"


def spawn_to_initialized(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, cwd=cwd, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(INIT)
    proc.stdin.flush()
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - started
    proc.stdin.close()
    proc.terminate()
    proc.wait(10)
    if '"result"' not in line:
        raise SystemExit(f"{command[0]} did not initialize: {line[:200]}")
    return elapsed * 1000


def git_server_python() -> Path | None:
    venv = BENCH / "mcp-server-git-venv"
    python = venv / "bin" / "python"
    if (venv / ".ready").exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "mcp-server-git"],
                         check=False)
    if pip.returncode != 0:
        return None
    (venv / ".ready").write_text("ok")
    return python


def mcp_bench(repo: Path, env: dict[str, str], runs: int) -> tuple[float, float | None]:
    ours = [sys.executable, "-m", "claude_session.cli", "mcp"]
    our_times = [spawn_to_initialized(ours, env, repo) for _ in range(runs)]
    other = git_server_python()
    if other is None:
        return statistics.median(our_times), None
    theirs = [str(other), "-m", "mcp_server_git", "--repository", str(repo)]
    their_times = [spawn_to_initialized(theirs, env, repo) for _ in range(runs)]
    return statistics.median(our_times), statistics.median(their_times)


def tool_bench(repo: Path, env: dict[str, str], runs: int) -> tuple[float, float]:
    from claude_session.config import Settings
    from claude_session.lifecycle import Core

    starts, ends = [], []
    with Core(Settings.from_env(env)) as core:
        core.start(repo, session_id="warm", on_mismatch="stay")
        core.end(repo, session_id="warm", push=False)
        for i in range(runs):
            t0 = time.perf_counter()
            core.start(repo, session_id=f"b{i}")
            t1 = time.perf_counter()
            core.end(repo, session_id=f"b{i}", summary="bench", push=False)
            t2 = time.perf_counter()
            starts.append(t1 - t0)
            ends.append(t2 - t1)
    return statistics.median(starts) * 1000, statistics.median(ends) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small repository, few runs")
    args = parser.parse_args()
    commits, files, runs = (200, 50, 5) if args.quick else (20_000, 5_000, 21)
    repo = build(commits, files)
    home = Path(tempfile.mkdtemp(prefix="cs-bench-home-"))
    env = isolated_env(home)
    os.environ.update({k: env[k] for k in ("HOME", "CLAUDE_CONFIG_DIR")})
    hook, bare = hook_bench(repo, env, runs)
    print(f"repository: {commits} commits, {files} files; medians of {runs} runs")
    print(f"SessionStart hook         {hook:8.1f} ms   bare python3 {bare:6.1f} ms   "
          f"ratio {hook / bare:4.2f}x   (hook adds {hook - bare:.1f} ms)")
    mcp_runs = 3 if args.quick else 7
    ours, theirs = mcp_bench(repo, env, mcp_runs)
    ratio = f"ratio {ours / theirs:4.2f}x" if theirs else "mcp-server-git unavailable"
    print(f"MCP spawn-to-initialized  {ours:8.1f} ms   mcp-server-git "
          f"{theirs or float('nan'):6.1f} ms   {ratio}")
    start, end = tool_bench(repo, env, runs)
    print(f"start_session             {start:8.1f} ms")
    print(f"end_session (no push)     {end:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
