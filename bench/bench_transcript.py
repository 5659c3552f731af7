#!/usr/bin/env python3
"""Transcript token accounting: speed and memory on a 100 MB transcript, and ccusage's totals.

    python3 bench/bench_transcript.py [--size-mb 100] [--runs 5] [--no-ccusage]

The transcript (plus two subagent transcripts) is generated once into
$TMPDIR/claude-session-bench/ and reused. ccusage is installed with
`npm install --prefix /tmp/ccusage ccusage` when it is not there yet, and pointed at the
generated folder through CLAUDE_CONFIG_DIR.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from claude_session.base.tokens import Usage, usage_from_transcript  # noqa: E402

GENERATOR_VERSION = 2  # bump when the generated data changes
BENCH = Path(tempfile.gettempdir()) / "claude-session-bench"
SESSION = "0d6f3c2a-7b1e-4f5a-9c8d-2e4b6a8c0f1e"
CCUSAGE_PREFIX = Path("/tmp/ccusage")
CCUSAGE_BIN = CCUSAGE_PREFIX / "node_modules" / ".bin" / "ccusage"
MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001")


# -- generating a realistic transcript ----------------------------------------------------------


class Writer:
    """Writes Claude Code-shaped lines (compact JSON) and keeps the expected totals."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seq = 0
        self.expected = {
            "input": 0,
            "output": 0,
            "cache_creation": 0,
            "cache_read": 0,
            "responses": 0,
        }

    def common(self, kind: str, sidechain: bool, **extra: Any) -> dict[str, Any]:
        self.seq += 1
        minute, second = divmod(self.seq // 4, 60)
        line = {
            "parentUuid": f"u-{self.seq - 1}",
            "isSidechain": sidechain,
            "userType": "external",
            "cwd": "/home/dev/shop",
            "sessionId": SESSION,
            "version": "2.1.197",
            "gitBranch": "main",
            "type": kind,
            "uuid": f"u-{self.seq}",
            "timestamp": f"2026-11-20T{10 + minute // 60 % 12:02d}:{minute % 60:02d}:"
            f"{second:02d}.{self.seq % 1000:03d}Z",
        }
        line.update(extra)
        return line

    def turn(self, n: int, sidechain: bool = False, prefix: str = "") -> list[dict[str, Any]]:
        """A prompt, one response streamed as 2-4 copies with growing output, a tool result."""
        rng = self.rng
        model = MODELS[0] if rng.random() < 0.8 else rng.choice(MODELS[1:])
        inp, out = rng.randint(1, 40), rng.randint(20, 2500)
        five, hour, read = rng.randint(0, 3000), rng.choice((0, 0, 800)), rng.randint(0, 90000)
        lines = [
            self.common(
                "user",
                sidechain,
                message={
                    "role": "user",
                    "content": f"step {n}: run the checkout tests and fix what fails",
                },
            )
        ]
        copies = rng.randint(2, 4)
        for i in range(copies):
            grown = out if i == copies - 1 else rng.randint(1, out)
            lines.append(
                self.common(
                    "assistant",
                    sidechain,
                    requestId=f"req_{prefix}{n:08d}",
                    message=_message(
                        f"msg_{prefix}{n:08d}", model, i, inp, grown, five, hour, read
                    ),
                )
            )
        self.expected["input"] += inp
        self.expected["output"] += out
        self.expected["cache_creation"] += five + hour
        self.expected["cache_read"] += read
        self.expected["responses"] += 1
        result = "tests/test_checkout.py::test_total PASSED\n" * rng.randint(5, 400)
        lines.append(
            self.common(
                "user",
                sidechain,
                message={
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": f"toolu_{n}", "content": result}
                    ],
                },
                toolUseResult={"stdout": result, "stderr": "", "interrupted": False},
            )
        )
        return lines

    def extras(self, n: int) -> list[dict[str, Any]]:
        """Lines without usage, and locally made (<synthetic>) ones with zero usage."""
        out: list[dict[str, Any]] = []
        if n % 50 == 0:
            out.append(
                {
                    "type": "file-history-snapshot",
                    "messageId": f"u-{self.seq}",
                    "snapshot": {"trackedFileBackups": {}, "timestamp": "2026-11-20"},
                }
            )
        if n % 300 == 0:
            out.append(
                self.common(
                    "assistant",
                    False,
                    message=_message(f"synthetic-{n}", "<synthetic>", 1, 0, 0, 0, 0, 0),
                    isApiErrorMessage=True,
                )
            )
        if n % 2000 == 0:
            out.append(
                self.common(
                    "system",
                    False,
                    subtype="compact_boundary",
                    parentUuid=None,
                    content="Conversation compacted",
                    compactMetadata={"trigger": "auto", "preTokens": 160000},
                )
            )
        return out


def _message(
    mid: str, model: str, block: int, inp: int, out: int, five: int, hour: int, read: int
) -> dict[str, Any]:
    content = [
        [
            {
                "type": "thinking",
                "thinking": "The test fails because the total ignores tax. " * 4,
                "signature": "EqQBCkYIBxgCKkD" * 8,
            }
        ],
        [{"type": "text", "text": "The failure is in the tax rounding; fixing it now."}],
        [
            {
                "type": "tool_use",
                "id": f"toolu_{mid}",
                "name": "Edit",
                "input": {
                    "file_path": "/home/dev/shop/checkout.py",
                    "old_string": "round(x)",
                    "new_string": "round(x, 2)",
                },
            }
        ],
    ][block % 3]
    return {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if block else None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": inp,
            "cache_creation_input_tokens": five + hour,
            "cache_read_input_tokens": read,
            "output_tokens": out,
            "cache_creation": {
                "ephemeral_5m_input_tokens": five,
                "ephemeral_1h_input_tokens": hour,
            },
            "service_tier": "standard",
        },
    }


def _dump(handle: Any, lines: list[dict[str, Any]]) -> None:
    handle.write("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines))


def generate(size_mb: int) -> tuple[Path, dict[str, int]]:
    """The bench transcript under BENCH/config, generated unless a matching one is cached."""
    config = BENCH / "config"
    main = config / "projects" / "-home-dev-shop" / f"{SESSION}.jsonl"
    marker = BENCH / "generated.json"
    wanted = {"version": GENERATOR_VERSION, "size_mb": size_mb}
    if marker.is_file() and main.is_file():
        cached = json.loads(marker.read_text())
        if {k: cached.get(k) for k in wanted} == wanted:
            return main, cached["expected"]
    print(f"generating a {size_mb} MB transcript in {main.parent} ...", flush=True)
    main.parent.mkdir(parents=True, exist_ok=True)
    writer = Writer(random.Random(42))
    n = 0
    with main.open("w", encoding="utf-8") as handle:
        while handle.tell() < size_mb * 1024 * 1024:
            n += 1
            _dump(handle, writer.turn(n) + writer.extras(n))
    subagents = main.with_suffix("") / "subagents"
    subagents.mkdir(parents=True, exist_ok=True)
    for agent in ("a1f3", "b7c2"):
        with (subagents / f"agent-{agent}.jsonl").open("w", encoding="utf-8") as handle:
            for k in range(1, 200):
                _dump(
                    handle,
                    [
                        line | {"agentId": agent}
                        for line in writer.turn(k, sidechain=True, prefix=agent)
                    ],
                )
    marker.write_text(json.dumps(wanted | {"expected": writer.expected}))
    return main, writer.expected


# -- measuring ----------------------------------------------------------------------------------


def measure(main: Path, runs: int) -> tuple[Usage, float, float, int]:
    """(usage, median seconds, tracemalloc peak bytes, bytes read)."""
    files = [main, *sorted((main.with_suffix("") / "subagents").glob("*.jsonl"))]
    size = sum(f.stat().st_size for f in files)
    times = []
    usage = Usage()
    for _ in range(runs):
        start = time.perf_counter()
        usage = usage_from_transcript(main)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    usage_from_transcript(main)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return usage, statistics.median(times), peak, size


# -- ccusage ------------------------------------------------------------------------------------


def _native_package() -> str:
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}.get(platform.system(), "")
    arch = {"x86_64": "x64", "AMD64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), ""
    )
    return f"@ccusage/ccusage-{system}-{arch}"


def _npm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["npm", *args], capture_output=True, text=True, timeout=600)


def _run_ccusage(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CCUSAGE_BIN), "claude", "session", "--json", "--offline"],
        capture_output=True,
        text=True,
        timeout=600,
        env={
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "NO_COLOR": "1",
            "CLAUDE_CONFIG_DIR": str(config),
            "HOME": str(BENCH),
        },
    )


def ccusage_ready() -> str | None:
    """None when ccusage runs here, else why not."""
    try:
        if not CCUSAGE_BIN.exists():
            done = _npm("install", "--prefix", str(CCUSAGE_PREFIX), "ccusage")
            if done.returncode:
                return f"npm install ccusage failed: {done.stderr.strip()[-300:]}"
        probe = _run_ccusage(BENCH)
        if "native binary is not available" not in probe.stderr + probe.stdout:
            return None
        # The registry may lag: the newest ccusage can lack its native package for this
        # platform; the newest version that has one is installed instead.
        native = _npm("view", _native_package(), "version")
        version = native.stdout.strip()
        if native.returncode or not version:
            return f"ccusage has no native binary for this platform ({_native_package()})"
        done = _npm("install", "--prefix", str(CCUSAGE_PREFIX), f"ccusage@{version}")
        return None if done.returncode == 0 else f"npm install ccusage@{version} failed"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"ccusage could not be installed or run: {exc}"


def ccusage_sessions(config: Path) -> tuple[dict[str, Any], float]:
    """ccusage's session report for a config folder, and how long it took."""
    start = time.perf_counter()
    done = _run_ccusage(config)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(done.stderr.strip() or done.stdout.strip())
    return json.loads(done.stdout), elapsed


def _ours(usage: Usage) -> tuple[int, int, int, int]:
    return (usage.input, usage.output, usage.cache_creation, usage.cache_read)


def _theirs(record: dict[str, Any]) -> tuple[int, int, int, int]:
    return (
        record["inputTokens"],
        record["outputTokens"],
        record["cacheCreationTokens"],
        record["cacheReadTokens"],
    )


# -- edge cases where the two may part ---------------------------------------------------------


def edge_cases() -> dict[str, Path]:
    """One tiny session per case, each under its own config folder: ccusage deduplicates
    across every file it reads, so cases sharing a folder would mask each other."""
    writer = Writer(random.Random(7))
    msg = _message

    def line(sidechain: bool, request: str | None, *args: Any) -> dict[str, Any]:
        extra = {"requestId": request} if request else {}
        return writer.common("assistant", sidechain, message=msg(*args), **extra)

    cases: dict[str, list[dict[str, Any]]] = {
        "streamed-growth": [
            line(False, "req_g1", "msg_g1", MODELS[0], i, 5, out, 100, 0, 9000)
            for i, out in enumerate((3, 40, 310))
        ],
        "btw-replay": [
            line(False, "req_b1", "msg_b1", MODELS[0], 1, 5, 300, 100, 0, 9000),
            line(True, "req_btw", "msg_b1", MODELS[0], 1, 5, 300, 100, 0, 9000),
        ],
        "requestless-copy": [
            line(False, "req_r1", "msg_r1", MODELS[0], 1, 5, 30, 0, 0, 100),
            line(False, None, "msg_r1", MODELS[0], 2, 5, 300, 0, 0, 100),
        ],
        "synthetic-with-tokens": [
            line(False, "req_s0", "msg_s0", MODELS[0], 1, 1, 1, 0, 0, 0),
            line(False, "req_s1", "msg_s1", "<synthetic>", 1, 50, 50, 0, 0, 0),
        ],
    }
    configs: dict[str, Path] = {}
    for name, lines in cases.items():
        configs[name] = BENCH / "edge" / name
        path = configs[name] / "projects" / f"-edge-{name}" / f"{SESSION}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            _dump(handle, lines)
    return configs


def compare_edge_cases() -> None:
    print("edge cases (input, output, cache_creation, cache_read):")
    for name, config in edge_cases().items():
        (path,) = config.glob("projects/*/*.jsonl")
        ours = _ours(usage_from_transcript(path))
        report, _ = ccusage_sessions(config)
        theirs = _theirs(report["totals"])
        verdict = "agree" if ours == theirs else "DIFFER"
        print(f"  {name:22} ours {ours}  ccusage {theirs}  {verdict}")
    print(
        "  (ours by design: /btw replays dropped, request-less copies folded into their "
        "message, <synthetic> skipped; see transcript.py)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-ccusage", action="store_true")
    args = parser.parse_args()

    main_file, expected = generate(args.size_mb)
    usage, median, peak, size = measure(main_file, args.runs)
    exact = all(getattr(usage, k) == v for k, v in expected.items())
    print(
        f"transcript: {size / 1e6:.1f} MB ({main_file}), {usage.lines} lines, "
        f"{usage.responses} responses"
    )
    print(
        f"ours: input {usage.input}, output {usage.output}, cache_creation "
        f"{usage.cache_creation}, cache_read {usage.cache_read}; "
        f"{'matches' if exact else 'DOES NOT MATCH'} the generator's totals"
    )
    print(
        f"speed: median {size / 1e6 / median:.1f} MB/s over {args.runs} runs "
        f"({median:.2f} s per run)"
    )
    print(
        f"memory: tracemalloc peak {peak / 1e6:.2f} MB; process max RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB"
    )
    if args.no_ccusage:
        return 0 if exact else 1
    problem = ccusage_ready()
    if problem:
        print(f"ccusage: not available ({problem})")
        return 0 if exact else 1
    try:
        report, elapsed = ccusage_sessions(main_file.parents[2])
        theirs = _theirs(report["totals"])
        print(
            f"ccusage {_ccusage_version()}: input {theirs[0]}, output {theirs[1]}, "
            f"cache_creation {theirs[2]}, cache_read {theirs[3]} ({elapsed:.2f} s); "
            f"{'AGREES with ours' if theirs == _ours(usage) else 'DISAGREES with ours'}"
        )
        compare_edge_cases()
    except (RuntimeError, KeyError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"ccusage: failed to run ({exc})")
    return 0 if exact else 1


def _ccusage_version() -> str:
    package = CCUSAGE_PREFIX / "node_modules" / "ccusage" / "package.json"
    try:
        return str(json.loads(package.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
