"""Ending a short-lived process (a hook, the status line) at once. Standard library only.

Claude Code waits for a hook's process to exit, and runs the status line after every message.
By the time their work is done everything that matters is on disk: state files are written
with ``atomic_write`` (fsynced, closed), logs are appended and closed, no thread or exit handler
is left. The interpreter's own teardown (unloading some 80 modules) then only costs time: about
a tenth of a hook's run on this project's machine kind (``bench/bench_claude_code.py``).
"""

from __future__ import annotations

import contextlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def exit_now(code: int = 0) -> NoReturn:
    """Flush stdout and stderr, then end the process with ``code``, skipping the teardown."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):  # a reader gone, a closed stream
                    stream.flush()
    finally:
        os._exit(code)
