"""Where every file lives, under the Claude Code config home.

Standard library only: hooks import it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


class Paths:
    """Every location, under ``home``. Immutable, compared by value (a plain class: the hooks
    import this, and ``dataclasses`` would cost them a good part of their start)."""

    __slots__ = ("home",)
    home: Path

    def __init__(self, home: Path) -> None:
        object.__setattr__(self, "home", home)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Paths are read-only: cannot set {name}")

    def __eq__(self, other: object) -> bool:
        return self.home == other.home if isinstance(other, Paths) else NotImplemented

    def __hash__(self) -> int:
        return hash(self.home)

    def __repr__(self) -> str:
        return f"Paths(home={self.home!r})"

    @property
    def pause_state(self) -> Path:
        return self.home / "pause-state.json"

    @property
    def remind_state(self) -> Path:
        return self.home / "remind-state.json"

    @property
    def contexts(self) -> Path:
        return self.home / "contexts"

    @property
    def data(self) -> Path:
        return self.home / "claude-session"

    @property
    def ledger(self) -> Path:
        return self.data / "ledger"

    @property
    def tracker_db(self) -> Path:
        return self.data / "tracker.db"

    @property
    def outbox_db(self) -> Path:
        return self.data / "outbox.db"

    @property
    def vault(self) -> Path:
        return self.data / "vault"

    @property
    def logs(self) -> Path:
        return self.data / "logs"

    @property
    def handoff_cache(self) -> Path:
        return self.data / "handoff-cache.json"

    @property
    def install_manifest(self) -> Path:
        return self.data / "install-manifest.json"

    @property
    def spool(self) -> Path:
        return self.data / "spool"

    @property
    def pending_handoffs(self) -> Path:
        return self.data / "pending-handoffs"

    @property
    def pending_answers(self) -> Path:
        return self.data / "pending-answers"

    def ledger_entry(self, session_id: str) -> Path:
        return self.ledger / f"{file_stem(session_id)}.json"


def ensure_dir(path: Path) -> Path:
    """Create ``path`` and each missing parent 0700 (whatever the umask); the mode of a folder
    that already exists, such as a ``~/.claude`` Claude Code made, is left alone."""
    if path.is_dir():
        return path
    missing: list[Path] = []
    folder = path
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made by a concurrent process: its mode is its own
        os.chmod(folder, DIR_MODE)
    return path


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str, *, fallback: str = "project", max_len: int = 80) -> str:
    """A name safe as a file name and a 1Password title: no slashes, no dots-only,
    no leading '-', no control characters, bounded length."""
    if not text.isascii():  # NFKD leaves ASCII as it is: the module (a shared library) is
        import unicodedata  # loaded only for other text, not on every hook start

        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _UNSAFE.sub("-", text).strip("-._")
    text = re.sub(r"-{2,}", "-", text)[:max_len].strip("-._")
    return text or fallback


def file_stem(key: str) -> str:
    """A file name for an id: the id itself when it is already safe (Claude Code's uuids),
    else its safe form plus a hash of the original, so ids that clean up alike never share a
    file (``team/alpha`` and ``team-alpha``)."""
    name = safe_name(key, fallback="id", max_len=80)
    if name == key:
        return name
    import hashlib

    return f"{name[:60]}-{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def project_name(root: Path) -> str:
    return safe_name(Path(os.path.abspath(root)).name)


def real_path(path: str | os.PathLike[str]) -> str:
    """The one name of a folder, as hooks, CLI and MCP server all key a project by it: links
    resolved (a folder opened through a symbolic link, or under macOS's ``/tmp`` -> ``/private
    /tmp``, is the folder it points to) and, where a file system ignores letter case, each part
    spelled as on disk (``~/Code/App`` and ``~/code/app`` are one folder there)."""
    real = os.path.realpath(path)
    drive, rest = os.path.splitdrive(real)
    done = drive + os.sep
    for part in rest.split(os.sep):
        if part:
            done = os.path.join(done, _spelled_on_disk(done, part))
    return done


def _spelled_on_disk(folder: str, name: str) -> str:
    """``name`` in ``folder`` as the folder lists it. Costs one failed ``stat`` per part on a
    case-sensitive file system (the other spelling is not there); a listing only where the
    other spelling is the same file."""
    other = name.swapcase()
    if other == name:
        return name
    try:
        here = os.lstat(os.path.join(folder, name))
        if not os.path.samestat(here, os.lstat(os.path.join(folder, other))):
            return name  # two entries that differ in case only: a case-sensitive folder
        with os.scandir(folder) as entries:
            wanted = _fold(name)
            for entry in entries:
                if _fold(entry.name) == wanted and os.path.samestat(
                    here, entry.stat(follow_symlinks=False)
                ):
                    return entry.name
    except OSError:
        pass
    return name


def _fold(name: str) -> str:
    if name.isascii():
        return name.casefold()
    import unicodedata  # only for non-ASCII names

    return unicodedata.normalize("NFC", name).casefold()
