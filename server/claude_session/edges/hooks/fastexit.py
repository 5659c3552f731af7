"""Ending a short-lived process (a hook, the status line) at once. Standard library only.

Claude Code waits for a hook's process to exit, and runs the status line after every message.
By the time their work is done everything that matters is on disk: state files are written
with ``atomic_write`` (fsynced, closed), logs are appended with ``append_log`` (unbuffered
``os.write``), no thread or exit handler is left (a test checks that a hook's warnings reach
``logs/hooks.log``). The interpreter's own teardown (unloading some 80 modules) then only costs
time.

It pays (paired, alternating runs, ``--compare fastexit``, 2026-12-04): the busy status line is
3.19x a bare start with it and 3.71x without (goal 3, spread +-0.45; ``bench_statusline.py``);
the SessionStart hook 3.61x with it and 4.16x without (spread +-0.26), Stop 3.35x and 3.80x
(+-0.30) against ``python -I -S -c pass`` (``bench_claude_code.py --hooks-only``).
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
