"""The real tracker service as processes, the way people run it: ``claude-session tracker serve``.

served_by_cli(*argv)   ``tracker serve ARGV`` on a free port of 127.0.0.1; yields its base URL.
                       Its output (the start-up lines, uvicorn's access and error logs)
                       goes to ``log`` (a file: a pipe nobody reads would stall a busy server).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

SERVER = str(Path(__file__).resolve().parents[2] / "server")


def children(pid: int) -> list[int]:
    """The process ids whose parent is ``pid`` (uvicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def served_by_cli(
    *argv: str, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[str]:
    """``claude-session tracker serve ARGV`` as a process on a free port; yields its base URL.
    With ``--workers N``, checks that N worker processes served."""
    port = free_port()
    with contextlib.ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "serve.log"
        err = stack.enter_context(log.open("wb"))
        server = subprocess.Popen(
            [sys.executable, "-m", "claude_session.edges.cli", "tracker", "serve"]
            + ["--port", str(port), *argv],
            env={**os.environ, "PYTHONPATH": SERVER, **(env or {})},
            stdout=err,  # uvicorn's access log
            stderr=err,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline or server.poll() is not None:
                    server.kill()
                    raise AssertionError(f"the tracker did not start: {log.read_text()!r}")
                time.sleep(0.2)
            yield base
            workers = int(argv[argv.index("--workers") + 1]) if "--workers" in argv else 0
            assert len(children(server.pid)) >= workers
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
