"""Looking a ref up in ``packed-refs`` without reading a large one whole (N11 of redteam-2):
the status line and every hook resolve HEAD, and a repository with 800,000 tags has a 48 MB
``packed-refs``. Git writes the file sorted by name and says so in its first line (``# pack-refs
with: ... sorted``), so a large one is binary-searched with a few reads of a few kB each.
Standard library only; the file is opened without following a link or waiting on a FIFO.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_READ_ONLY = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
#: a file this small is read whole; a larger one searched
_PACKED_WINDOW = 64 * 1024
#: more than any ref line (a ref name is < 1024 bytes, an object id 64)
_PACKED_LINE = 4096


def lookup(path: Path, ref: str) -> str | None:
    """The object id text on ``ref``'s line of the ``packed-refs`` file ``path`` (unchecked:
    the caller checks it is one). A small file is read whole; a large one is
    searched (git writes it sorted and says so in its first line) with a few bounded reads,
    never read whole: the status line and every hook ask (N11). A large file that does not say
    it is sorted is not searched."""
    try:
        fd = os.open(path, _READ_ONLY)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size <= _PACKED_WINDOW:
            return _packed_line(os.pread(fd, info.st_size, 0), 0, ref.encode())
        first = os.pread(fd, 4096, 0).split(b"\n", 1)[0]
        if not first.startswith(b"# pack-refs with:") or b" sorted" not in first:
            return None
        return _search_packed(fd, len(first) + 1, info.st_size, ref.encode())
    except OSError:
        return None
    finally:
        os.close(fd)


def _packed_line(data: bytes, start: int, ref: bytes) -> str | None:
    """The object id of ``ref``'s line among the whole lines of ``data`` from ``start``."""
    for line in data[start:].split(b"\n"):
        oid, _, name = line.partition(b" ")
        if name == ref and not line.startswith((b"#", b"^")):
            return oid.decode("ascii", "replace")
    return None


def _record_at(fd: int, pos: int) -> tuple[bytes, int, int] | None:
    """(name, start, end) of the first ref line that starts at or after ``pos`` (peeled ``^``
    lines skipped); None when there is none within reach."""
    base = max(0, pos - 1)  # from the byte before: a line that starts at ``pos`` counts
    chunk = os.pread(fd, 2 * _PACKED_LINE, base)
    at = 0 if pos == 0 else chunk.find(b"\n") + 1
    if at == 0 and pos != 0:
        return None
    while True:
        end = chunk.find(b"\n", at)
        if end < 0:
            return None
        if not chunk.startswith(b"^", at):
            return chunk[at:end].partition(b" ")[2], base + at, base + end + 1
        at = end + 1


def _search_packed(fd: int, lo: int, hi: int, ref: bytes) -> str | None:
    """Binary search of a sorted ``packed-refs`` for ``ref``'s line, which starts in
    [``lo``, ``hi``) if anywhere (``lo`` a line start); then one read of what is left."""
    for _ in range(64):  # each step halves the range: 64 cover any file
        if hi - lo <= _PACKED_WINDOW:
            break
        mid = (lo + hi) // 2
        found = _record_at(fd, mid)
        if found is None or found[1] >= hi:
            hi = mid  # no line starts in [mid, hi)
            continue
        name, start, end = found
        if name == ref:
            lo, hi = start, end
        elif name < ref:
            lo = end
        else:
            hi = mid  # no line starts in [mid, start): the one sought starts before mid
    data = os.pread(fd, hi - lo + _PACKED_LINE, lo)
    return _packed_line(data[: data.rfind(b"\n") + 1], 0, ref)
