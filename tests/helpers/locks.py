"""Another process holding one of git's lock files, as a second git command does."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Takes the lock the way git does (O_CREAT|O_EXCL), says so, waits until the GIT_TRACE file
# shows that the git command under test has started (so that command certainly meets the
# lock), holds it ``hold`` seconds more and removes it. Exit 3: the command never came.
_HOLDER = textwrap.dedent("""
    import os, sys, time
    lock, trace, seen, hold = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    print("held", flush=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            with open(trace) as f:
                if seen in f.read():
                    break
        except FileNotFoundError:
            pass
        if time.monotonic() > deadline:
            sys.exit(3)
        time.sleep(0.01)
    time.sleep(hold)
    os.close(fd)
    os.unlink(lock)
""")


@contextmanager
def lock_held_until_tried(
    lock: Path, trace: Path, command: str, hold: float = 1.0
) -> Iterator[subprocess.Popen[str]]:
    """Hold ``lock`` from another process until ``command`` (e.g. "git add") appears in the
    GIT_TRACE file ``trace``, then ``hold`` seconds more; the caller sets GIT_TRACE."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lock), str(trace), f"built-in: {command}", str(hold)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def attempts(trace: Path, command: str) -> int:
    """How many times ``command`` (e.g. "git add") was started, from a GIT_TRACE file."""
    if not trace.exists():
        return 0
    return trace.read_text().count(f"built-in: {command}")
