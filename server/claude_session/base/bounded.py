"""Bounded reads of claude-session's own files (state, caches, contexts): a FIFO, a symbolic
link to ``/dev/zero`` or a huge file put in the state folder never hangs or fills the memory of
a hook, the status line or the MCP server. Standard library only, cheap to import (the status
line reads through it).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

#: the largest state file read whole (pause-state.json with a thousand projects is ~0.5 MB; a
#: ledger entry with a 5 MB summary ~8 MB); a bigger one is not ours, and is moved aside
MAX_STATE_BYTES = 32 * 1024 * 1024


class NotStateFile(ValueError):
    """What ``read_regular`` found instead of a small regular file (``reason`` says what: a
    link, a FIFO or device, a file past the size limit)."""


_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def read_regular(path: Path | str, *, limit: int = MAX_STATE_BYTES) -> bytes:
    """The bytes of our own small regular file: opened without following a link and without
    blocking (a FIFO never waits for a writer), checked to be a regular file after the open
    (``fstat``, so a swap between check and open cannot fool it), and read at most ``limit``
    bytes (a link to ``/dev/zero`` or a huge file never fills the memory). Raises
    ``FileNotFoundError``, ``NotStateFile`` for anything else found there, ``OSError``."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW's answer to a symlink
            raise NotStateFile("a symbolic link") from None
        if exc.errno == errno.ENXIO:
            raise NotStateFile("a socket or FIFO") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotStateFile("not a regular file (a FIFO, device or folder)")
        if info.st_size > limit:
            raise NotStateFile(f"{info.st_size} bytes, more than the {limit} read")
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # grew while read
            raise NotStateFile(f"more than the {limit} bytes read")
        return b"".join(chunks)
    finally:
        os.close(fd)


#: the largest context file read (a rendered context is kept within a few kB; a bigger one is
#: not one we wrote)
MAX_CONTEXT_BYTES = 4 * 1024 * 1024


def read_text(path: Path | str, *, limit: int = MAX_CONTEXT_BYTES) -> str:
    """``read_regular``'s bytes as UTF-8 text (``UnicodeDecodeError`` when they are not)."""
    return read_regular(path, limit=limit).decode("utf-8")
