"""How fast claude_session.core.repository and the session readers of base.gitread stay on a
big repository (20,000 commits, 5,000 files).

The repository is built once with ``git fast-import`` and cached under /tmp; later runs reuse
it. Prints the median of 20 runs for each operation.

    python3 bench/bench_git.py [--commits N] [--files N] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))

from claude_session.base.gitread import session_commits, session_files  # noqa: E402
from claude_session.core.repository import Repository  # noqa: E402

IDENTITY = "Bench <bench@example.com>"


def _blob(text: str) -> bytes:
    data = text.encode()
    return b"data %d\n%s\n" % (len(data), data)


def _stream(commits: int, files: int) -> Iterator[bytes]:
    """A fast-import stream: one commit adding every file, then one small change per commit."""
    when = 1_700_000_000
    for number in range(commits):
        message = _blob(f"commit {number}")
        yield b"commit refs/heads/main\n"
        yield f"committer {IDENTITY} {when + number * 60} +0000\n".encode() + message
        if number == 0:
            for index in range(files):
                yield f"M 100644 inline {_path(index)}\n".encode()
                yield _blob(f"file {index}\n")
        else:
            yield f"M 100644 inline {_path(number % files)}\n".encode()
            yield _blob(f"file {number % files} version {number}\n")
        yield b"\n"


def _path(index: int) -> str:
    return f"src/pkg{index % 50:02d}/module_{index:05d}.txt"


def build(commits: int, files: int) -> Path:
    """The cached benchmark repository, built when missing."""
    path = Path(tempfile.gettempdir()) / "claude-session-bench" / f"repo-{commits}x{files}"
    done = path / ".git" / "bench-complete"
    if done.exists():
        return path
    subprocess.run(["rm", "-rf", str(path)], check=True)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    started = time.perf_counter()
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    assert importer.stdin is not None
    for chunk in _stream(commits, files):
        importer.stdin.write(chunk)
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "reset", "-q", "--hard"], cwd=path, check=True)
    # Files written in the same second as the index are "racily clean" and re-read by every
    # status until the index is rewritten; state() never rewrites it (GIT_OPTIONAL_LOCKS=0),
    # the user's own git commands do. Refresh once so runs measure the usual case.
    time.sleep(1.1)
    subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=path, check=False)
    done.write_text("ok\n")
    print(f"built {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm-up: imports, file-system cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _raw_status(path: Path) -> object:
    return subprocess.run(
        ["git", "status", "--porcelain=v2", "--branch", "-z"], cwd=path, capture_output=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    path = build(args.commits, args.files)
    ten_back = subprocess.run(
        ["git", "rev-parse", "HEAD~10"], cwd=path, capture_output=True, text=True, check=True
    ).stdout.strip()
    root_commit = subprocess.run(
        ["git", "rev-list", "--max-parents=0", "HEAD"],
        cwd=path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    def state() -> object:
        with Repository(path) as repo:
            return repo.state()

    assert len(session_commits(path, ten_back)) == 10
    rows = [
        ("Repository(path).state()  [open + 2 git calls + close]", state),
        ("  for scale: bare `git status --porcelain=v2` subprocess", lambda: _raw_status(path)),
        ("session_commits(HEAD~10)", lambda: session_commits(path, ten_back)),
        ("session_files(HEAD~10)", lambda: session_files(path, ten_back)),
        (
            f"session_commits(root)  [{args.commits - 1} commits]",
            lambda: session_commits(path, root_commit),
        ),
        ("session_files(root)", lambda: session_files(path, root_commit)),
    ]
    print(f"{args.commits} commits, {args.files} files; median of {args.runs} runs")
    for label, action in rows:
        print(f"  {label:<58} {median_ms(action, args.runs):8.1f} ms")


if __name__ == "__main__":
    main()
