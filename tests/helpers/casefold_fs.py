"""A real case-insensitive, case-preserving file system for tests, as macOS's APFS and
Windows' NTFS are by default: a FUSE view of a backing folder in which ``App/Src`` and
``app/src`` name the same folder, and a new name keeps the spelling it was made with.

Linux here cannot make one in the kernel (ext4 and tmpfs casefolding need CONFIG_UNICODE,
which this kernel lacks), so this is a small FUSE file system (``mfusepy`` over libfuse 3;
needs ``/dev/fuse`` and root or ``fusermount3``). ``mounted()`` skips the test with the reason
when any of that is missing. Run as a script, it serves ``BACKING`` at ``MOUNTPOINT`` in the
foreground: ``python casefold_fs.py BACKING MOUNTPOINT``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_STAT_KEYS = (
    "st_atime",
    "st_ctime",
    "st_mtime",
    "st_gid",
    "st_mode",
    "st_nlink",
    "st_size",
    "st_uid",
    "st_ino",
)


def _make_operations() -> Any:
    import mfusepy  # type: ignore[import-untyped,unused-ignore]  # only when serving

    class CaseFold(mfusepy.Operations):  # type: ignore[misc]
        use_ns = True

        def __init__(self, backing: str) -> None:
            self.backing = os.path.realpath(backing)

        def _real(self, path: str) -> str:
            """The backing path: each part as it exists, matched ignoring case; a part that
            does not exist yet keeps the spelling given."""
            full = self.backing
            for part in path.split("/"):
                if not part:
                    continue
                candidate = os.path.join(full, part)
                if not os.path.lexists(candidate):
                    folded = part.casefold()
                    try:
                        names = os.listdir(full)
                    except OSError:
                        names = []
                    same = [n for n in names if n.casefold() == folded]
                    if same:
                        candidate = os.path.join(full, same[0])
                full = candidate
            return full

        def _new(self, path: str) -> str:
            """Where a new name goes: an existing entry of any case, or the given spelling."""
            parent, _, leaf = path.rpartition("/")
            real = self._real(path)
            return real if os.path.lexists(real) else os.path.join(self._real(parent), leaf)

        def access(self, path: str, amode: int) -> int:
            if not os.access(self._real(path), amode):
                raise mfusepy.FuseOSError(13)
            return 0

        def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
            st = os.lstat(self._real(path))
            found = {key: getattr(st, key) for key in _STAT_KEYS}
            for key in ("st_atime", "st_ctime", "st_mtime"):
                found[key] = getattr(st, key + "_ns")
            return found

        def readdir(self, path: str, fh: int) -> list[tuple[str, dict[str, int], int]]:
            # with use_ino an entry needs its inode number: 0 would hide it
            folder = self._real(path)
            found = []
            for name in [".", "..", *os.listdir(folder)]:
                st = os.lstat(os.path.join(folder, name))
                found.append((name, {"st_mode": st.st_mode, "st_ino": st.st_ino}, 0))
            return found

        def readlink(self, path: str) -> str:
            return os.readlink(self._real(path))

        def mkdir(self, path: str, mode: int) -> int:
            os.mkdir(self._new(path), mode)
            return 0

        def rmdir(self, path: str) -> int:
            os.rmdir(self._real(path))
            return 0

        def unlink(self, path: str) -> int:
            os.unlink(self._real(path))
            return 0

        def symlink(self, target: str, source: str) -> int:
            os.symlink(source, self._new(target))
            return 0

        def link(self, target: str, source: str) -> int:
            os.link(self._real(source), self._new(target))
            return 0

        def rename(self, old: str, new: str) -> int:
            source = self._real(old)
            target = self._new(new)
            if os.path.lexists(target) and os.path.samefile(source, target):
                target = os.path.join(os.path.dirname(target), new.rpartition("/")[2])
            os.rename(source, target)
            return 0

        def chmod(self, path: str, mode: int) -> int:
            os.chmod(self._real(path), mode)
            return 0

        def chown(self, path: str, uid: int, gid: int) -> int:
            os.lchown(self._real(path), uid, gid)
            return 0

        def utimens(self, path: str, times: tuple[int, int] | None = None) -> int:
            if times is None:
                os.utime(self._real(path), follow_symlinks=False)
            else:
                os.utime(self._real(path), ns=times, follow_symlinks=False)
            return 0

        def truncate(self, path: str, length: int, fh: int | None = None) -> int:
            if fh is not None:
                os.ftruncate(fh, length)
            else:
                os.truncate(self._real(path), length)
            return 0

        def open(self, path: str, flags: int) -> int:
            return os.open(self._real(path), flags)

        def create(self, path: str, mode: int, fi: Any = None) -> int:
            return os.open(self._new(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)

        def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
            return os.pread(fh, size, offset)

        def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
            return os.pwrite(fh, data, offset)

        def flush(self, path: str, fh: int) -> int:
            return 0

        def fsync(self, path: str, datasync: int, fh: int) -> int:
            os.fsync(fh)
            return 0

        def release(self, path: str, fh: int) -> int:
            os.close(fh)
            return 0

        def statfs(self, path: str) -> dict[str, int]:
            st = os.statvfs(self._real(path))
            return {
                key: getattr(st, key)
                for key in (
                    "f_bavail",
                    "f_bfree",
                    "f_blocks",
                    "f_bsize",
                    "f_favail",
                    "f_ffree",
                    "f_files",
                    "f_flag",
                    "f_frsize",
                    "f_namemax",
                )
            }

    return CaseFold


def serve(backing: str, mountpoint: str) -> None:
    import mfusepy  # type: ignore[import-untyped,unused-ignore]

    mfusepy.FUSE(
        _make_operations()(backing),
        mountpoint,
        foreground=True,
        use_ino=True,
        entry_timeout=0,
        negative_timeout=0,
        attr_timeout=0,
        nothreads=True,
    )


@contextlib.contextmanager
def mounted(where: Path) -> Iterator[Path]:
    """A case-insensitive file system mounted on ``where`` (its files kept in ``where`` +
    '.backing'); unmounted afterwards. Skips the test when it cannot be made here."""
    try:
        import mfusepy  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: mfusepy finds no libfuse
        pytest.skip(
            f"no FUSE for a case-insensitive file system ({exc}); install the "
            "'fuse3' package and 'mfusepy'"
        )
    if not os.path.exists("/dev/fuse"):
        pytest.skip("no /dev/fuse on this machine")
    backing = where.with_name(where.name + ".backing")
    backing.mkdir(parents=True)
    where.mkdir()
    server = subprocess.Popen(
        [sys.executable, __file__, str(backing), str(where)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not os.path.ismount(where):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.skip(f"cannot mount a FUSE file system here: {server.communicate()[1][-500:]}")
        time.sleep(0.05)
    try:
        yield where
    finally:
        unmount = shutil.which("fusermount3")
        command = [unmount, "-u", "-z", str(where)] if unmount else ["umount", "-l", str(where)]
        subprocess.run(command, capture_output=True, check=False)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
