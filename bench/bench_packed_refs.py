#!/usr/bin/env python3
"""Does a huge packed-refs slow the hooks' HEAD down? ``gitread.git_head`` (what every hook and
the status line run) on a branch known only to packed-refs, with 800,000 refs (about 60 MB)
against 100 refs (N11 of redteam-2: each render read the whole file).

    python3 bench/bench_packed_refs.py [--refs 800000] [--runs 200]

Prints medians in microseconds, the ratio big/small (should stay near 1), and the bytes read
per lookup in the big repository.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from claude_session.base import gitread  # noqa: E402


def make_repo(folder: Path, refs: int) -> Path:
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b")
    env["GIT_COMMITTER_EMAIL"] = "b@b"
    subprocess.run(["git", "init", "-q", str(folder)], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(folder), "commit", "-q", "--allow-empty", "-m", "m"], check=True, env=env
    )
    oid = subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    names = sorted([f"refs/tags/t{n:08d}" for n in range(refs)] + ["refs/heads/packed"])
    with (folder / ".git" / "packed-refs").open("w") as out:
        out.write("# pack-refs with: peeled fully-peeled sorted \n")
        out.writelines(f"{oid} {name}\n" for name in names)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/packed\n")
    return folder


def median_us(repo: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        assert gitread.git_head(repo)[2]  # type: ignore[index]
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def bytes_read(repo: Path) -> int:
    total = 0
    real = os.pread

    def counting(fd: int, size: int, offset: int) -> bytes:
        nonlocal total
        data = real(fd, size, offset)
        total += len(data)
        return data

    os.pread = counting  # type: ignore[assignment]
    try:
        gitread.git_head(repo)
    finally:
        os.pread = real
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refs", type=int, default=800_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = make_repo(Path(tmp) / "small", 100)
        big = make_repo(Path(tmp) / "big", args.refs)
        size = (big / ".git" / "packed-refs").stat().st_size
        a, b = median_us(small, args.runs), median_us(big, args.runs)
        print(f"packed-refs {size / 1e6:.1f} MB, {args.refs} refs, {args.runs} runs")
        print(f"git_head median: small {a:.0f} us, big {b:.0f} us, ratio {b / a:.2f}")
        print(f"bytes read per lookup in the big one: {bytes_read(big)}")


if __name__ == "__main__":
    main()
