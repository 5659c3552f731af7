"""Whole-file locks behind one small interface, so that no module imports a POSIX-only module on
a path Windows would take: ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows. Standard
library only (hooks use it through ``statefile``).

A lock belongs to an open file descriptor and ends when it is closed (or its process dies).
"""

from __future__ import annotations

import os
import sys

if sys.platform == "win32":  # pragma: no cover - tested on Linux; see the README's platforms
    import msvcrt

    def try_lock(fd: int) -> bool:
        """Take the lock if it is free; False when another holder has it."""
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def lock(fd: int) -> None:
        """Wait for the lock."""
        import time

        while not try_lock(fd):
            time.sleep(0.01)

    def set_blocking(fd: int) -> None:
        """Reads and writes on ``fd`` wait (regular files always do on Windows)."""

else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Take the lock if it is free; False when another holder has it. A file system
        without flock raises OSError (not BlockingIOError): callers decide what that means."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def lock(fd: int) -> None:
        """Wait for the lock."""
        fcntl.flock(fd, fcntl.LOCK_EX)

    def set_blocking(fd: int) -> None:
        """Reads and writes on ``fd`` wait again (it was opened O_NONBLOCK to never hang on a
        FIFO)."""
        os.set_blocking(fd, True)
