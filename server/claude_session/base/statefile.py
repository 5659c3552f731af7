"""Atomic, locked, versioned JSON files (pause-state, remind-state, ledger entries, caches).

Every write goes to a temp file in the same folder, is fsynced and renamed over the old one, so a
writer killed at any point leaves the old file or the new one, never a torn one. Every
read-modify-write runs under an exclusive ``flock`` on a sidecar lock file, because several
Claude Code sessions share these files. A file that cannot be parsed is moved aside
(``<name>.corrupt-<timestamp>``), never overwritten, and a warning says where it went.

Standard library only: hooks import it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from claude_session.base import flow, locking
from claude_session.base.bounded import NotStateFile, read_regular
from claude_session.base.text import clean_data, may_hold_lone_surrogate, to_utf8
from claude_session.errors import StateError
from claude_session.paths import FILE_MODE, ensure_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Data = dict[str, Any]
Validator = Callable[[Data], Data]


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _os_error_message(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"The disk is full: could not write {path}. Free some space and try again."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"Cannot write {path} ({exc.strerror}). Check that the folder is writable "
            f"(or point CLAUDE_CONFIG_DIR at one that is)."
        )
    return f"Could not write {path}: {exc.strerror or exc}."


def _temp_file(path: Path) -> tuple[int, str]:
    """A new private file beside ``path`` (random name, ``O_EXCL``, 0600): what
    ``tempfile.mkstemp`` does, without importing ``tempfile`` (and ``shutil``, ``random``) into
    every hook."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp")
        try:
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def atomic_write(path: Path, content: str | bytes, *, mode: int = FILE_MODE) -> None:
    """Replace ``path`` with ``content`` atomically (temp file, fsync, rename). A lone surrogate
    that slipped past the entry points is written as U+FFFD rather than failing the write."""
    data = to_utf8(content) if isinstance(content, str) else content
    try:
        ensure_dir(path.parent)
        fd, tmp = _temp_file(path)
    except OSError as exc:
        raise StateError(_os_error_message(path, exc)) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StateError(_os_error_message(path, exc)) from exc
    _fsync_dir(path.parent)


_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def open_private(path: Path, flags: int) -> int:
    """Open (creating it 0600 if missing) our own regular file ``path``, never through a link.

    A symlink or other non-regular file in its place (a lock or log name pointed elsewhere) is
    moved aside, with a warning (``flow.warn``), and a fresh file is made: nothing outside our
    folder is created, truncated or appended to. ``O_NONBLOCK`` keeps a FIFO from blocking the
    open; it is cleared again on the regular file. The mode is set to 0600 if it was not.
    """
    for attempt in (1, 2):
        try:
            fd = os.open(path, flags | os.O_CREAT | _NOFOLLOW, FILE_MODE)
        except OSError as exc:  # ELOOP: a symlink; ENXIO: a FIFO nobody reads
            if exc.errno not in (errno.ELOOP, errno.ENXIO) or attempt == 2:
                raise
            flow.warn(move_aside(path, "a link or FIFO where claude-session keeps its own file"))
            continue
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode):
            locking.set_blocking(fd)
            if info.st_mode & 0o777 != FILE_MODE:
                with contextlib.suppress(OSError):
                    os.fchmod(fd, FILE_MODE)
            return fd
        os.close(fd)
        if attempt == 2:
            break
        flow.warn(move_aside(path, "not a regular file where claude-session keeps its own file"))
    raise OSError(errno.EEXIST, "not a regular file", str(path))


#: a log file is rotated past this size (``NAME.1``, ``NAME.2`` keep the two before)
LOG_LIMIT = 1024 * 1024
LOG_KEEP = 2


def _rotate(path: Path, keep: int) -> None:
    """``NAME`` -> ``NAME.1`` -> ... -> ``NAME.<keep>`` (the oldest dropped). Two processes
    rotating at once at worst drop one generation: a log, never state."""
    for n in range(keep - 1, 0, -1):
        with contextlib.suppress(OSError):
            os.replace(path.with_name(f"{path.name}.{n}"), path.with_name(f"{path.name}.{n + 1}"))
    with contextlib.suppress(OSError):
        os.replace(path, path.with_name(f"{path.name}.1"))


def _last_line(fd: int, size: int) -> bytes:
    """The last line of an open log (its last 4 kB at most, read without moving the file
    position the appends use)."""
    start = max(0, size - 4096)
    tail = os.pread(fd, size - start, start)
    return tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]


def append_log(
    path: Path, stamp: str, message: str, *, once: bool = False, limit: int = LOG_LIMIT
) -> bool:
    """Append ``stamp message`` as one line to our log ``path`` (0600, ``O_APPEND``, never
    through a link: ``open_private``; folders made 0700), rotating it first when it would pass
    ``limit`` bytes (``LOG_KEEP`` old files kept). With ``once``, a message equal to the last
    line's is not written again (a status line failing on every render logs once). True when
    a line was written. Raises ``OSError``."""
    text = " ".join(message.splitlines()).encode("utf-8", "backslashreplace")
    line = stamp.encode() + b" " + text + b"\n"
    ensure_dir(path.parent)
    fd = open_private(path, os.O_RDWR | os.O_APPEND)
    try:
        size = os.fstat(fd).st_size
        if once and size and _last_line(fd, size).split(b" ", 1)[-1] == text:
            return False
        if size and size + len(line) > limit:
            _rotate(path, LOG_KEEP)
            os.close(fd)
            fd = open_private(path, os.O_RDWR | os.O_APPEND)
        data = memoryview(line)
        while data:
            data = data[os.write(fd, data) :]
        return True
    finally:
        os.close(fd)


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float = 10.0) -> Iterator[None]:
    """Hold an exclusive lock on ``path``'s sidecar lock file."""
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        ensure_dir(lock_path.parent)
        fd = open_private(lock_path, os.O_RDWR)
    except OSError as exc:
        raise StateError(_os_error_message(lock_path, exc)) from exc
    try:
        deadline = time.monotonic() + timeout
        while True:
            if locking.try_lock(fd):
                break
            if time.monotonic() >= deadline:
                raise StateError(
                    f"{path} is locked by another claude-session process for more than "
                    f"{timeout:.0f} s. If no other session is running, delete {lock_path}."
                )
            time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _aside_name(path: Path) -> Path:
    """A free ``NAME.corrupt-<UTC time>[-N]`` beside ``path``."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    return target


def move_aside(path: Path, reason: str) -> str:
    """Move an unreadable file out of the way and return the warning for the user (the caller
    reports it: ``flow.warn``)."""
    target = _aside_name(path)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return f"{path} was unreadable ({reason}) and has already been moved aside."
    except OSError as exc:
        return (
            f"{path} is unreadable ({reason}) and could not be moved aside "
            f"({exc.strerror}); it was left as it is and ignored."
        )
    return (
        f"{path} was unreadable ({reason}); it was moved to {target.name} and a fresh "
        f"one started. Nothing in it was deleted: inspect or restore it by hand."
    )


def json_files(folder: Path, what: str) -> list[tuple[Path, int, Data]]:
    """The JSON objects kept one per file in ``folder`` (``*.json``, by name), each with its
    file and inode (read before the content: a file rewritten since has another); a file that
    is not one is moved aside (told to the calling flow), a file gone meanwhile skipped."""
    found: list[tuple[Path, int, Data]] = []
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json") and n[:1] != ".")
    except (FileNotFoundError, NotADirectoryError):
        return found
    for name in names:
        path = folder / name
        try:
            inode = os.stat(path).st_ino
            data = json.loads(read_regular(path).decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except FileNotFoundError:
            continue  # taken by another process
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            flow.warn(move_aside(path, f"not {what} ({type(exc).__name__})"))
            continue
        found.append((path, inode, data))
    return found


def remove_if_same(path: Path, inode: int) -> None:
    """Delete ``path`` unless it was rewritten since ``inode`` was read (writers replace files
    by rename: a newer copy has another inode, and is read next time)."""
    with contextlib.suppress(FileNotFoundError):
        if os.stat(path).st_ino == inode:
            os.unlink(path)


class PartialState(ValueError):
    """Raised by a validator that could keep some of a file: ``data`` is what it kept."""

    def __init__(self, data: Data, reason: str) -> None:
        super().__init__(reason)
        self.data = data


def copy_aside(path: Path, reason: str) -> str:
    """Keep a copy of a partly unreadable file (once per content) and return the warning (the
    caller reports it: ``flow.warn``)."""
    content = read_regular(path)
    for sibling in path.parent.glob(f"{path.name}.corrupt-*"):
        with contextlib.suppress(OSError, ValueError):
            if read_regular(sibling) == content:
                target = sibling
                break
    else:
        target = _aside_name(path)
        atomic_write(target, content)
    return (
        f"{path}: {reason}; every readable entry was kept, and the file as it was is in "
        f"{target.name}. Fix or remove the entries by hand there."
    )


class StateFile:
    """One versioned JSON object on disk.

    ``read()`` never raises for content problems: a corrupt file is moved aside and the empty
    state returned, and the warning goes to the calling flow (``flow.warn``). ``update()`` is
    the only way to change the file: it locks, reads, yields the object to modify in place, and
    writes it back.
    """

    def __init__(
        self,
        path: Path,
        *,
        version: int = 1,
        empty: Callable[[], Data] | None = None,
        validate: Validator | None = None,
        lock_timeout: float = 10.0,
        salvage: Callable[[str], Data | None] | None = None,
    ) -> None:
        """``salvage``: what can be kept of a file that does not parse (its text), or None."""
        self.path = path
        self.version = version
        self._empty = empty or dict
        self._validate = validate
        self.lock_timeout = lock_timeout
        self._salvage = salvage

    def empty(self) -> Data:
        data = self._empty()
        data["version"] = self.version
        return data

    def _load(self, *, for_write: bool) -> Data:
        try:
            raw = read_regular(self.path)
        except FileNotFoundError:
            return self.empty()
        except NotStateFile as exc:  # a FIFO, a link, /dev/zero, a huge file: never read it
            flow.warn(move_aside(self.path, str(exc)))
            return self.empty()
        except OSError as exc:
            raise StateError(
                f"Cannot read {self.path} ({exc.strerror}). Check its permissions."
            ) from exc
        try:
            data = json.loads(raw.decode("utf-8"))
            if may_hold_lone_surrogate(raw):  # written before entries were cleaned
                data = clean_data(data)
            if not isinstance(data, dict):
                raise ValueError("top level is not a JSON object")
            version = data.get("version", 1)
            if not isinstance(version, int) or version < 1:
                raise ValueError(f"bad version {version!r}")
            if version > self.version:
                if for_write:
                    raise StateError(
                        f"{self.path} was written by a newer claude-session (format "
                        f"{version}, this one knows {self.version}). Upgrade claude-session."
                    )
                return data
            if self._validate is not None:
                data = dict(self._validate(data))
            data["version"] = self.version
            return data
        except PartialState as partial:
            flow.warn(copy_aside(self.path, str(partial)))
            partial.data["version"] = self.version
            return partial.data
        except StateError:
            raise
        except (ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError) as exc:
            reason = str(exc) or type(exc).__name__
            kept = self._salvaged(raw, reason, for_write=for_write)
            if kept is not None:
                return kept
            flow.warn(move_aside(self.path, reason))
            return self.empty()

    def _salvaged(self, raw: bytes, reason: str, *, for_write: bool) -> Data | None:
        """What ``salvage`` keeps of a file that does not parse, the file as it was copied aside
        and the rest told; the file is rewritten with what was kept (here under the lock, or by
        the caller's update), so that it is told once. None when nothing can be kept."""
        if self._salvage is None:
            return None
        data = self._salvage(raw.decode("utf-8", "replace"))
        if data is None:
            return None
        data = dict(self._validate(data)) if self._validate is not None else data
        data["version"] = self.version
        flow.warn(copy_aside(self.path, f"unreadable ({reason})"))
        if not for_write:
            with file_lock(self.path, timeout=self.lock_timeout):
                if self.path.read_bytes() == raw:  # not rewritten by another process meanwhile
                    self.write(data)
        return data

    def read(self) -> Data:
        return self._load(for_write=False)

    def write(self, data: Data) -> None:
        """Replace the file with ``data``; a file that already says exactly that is left as it
        is (an update that changed nothing costs no write and no fsync)."""
        data["version"] = self.version
        text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
        wanted = text.encode("utf-8")
        try:  # never through a link, never waiting on a FIFO: one is replaced by the write
            if read_regular(self.path, limit=len(wanted)) == wanted:
                return
        except (OSError, ValueError):
            pass  # no file yet, a link, something else, or another size: write it
        atomic_write(self.path, text)

    @contextlib.contextmanager
    def update(self) -> Iterator[Data]:
        with file_lock(self.path, timeout=self.lock_timeout):
            data = self._load(for_write=True)
            yield data
            self.write(data)
