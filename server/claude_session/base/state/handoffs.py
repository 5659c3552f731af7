"""``claude-session/pending-handoffs/``: ClaudeSync items a pause or an end could not create
yet (the vault out of reach), one file per request, retried by later commands.

The request's shape is ``models.PendingHandoff`` (the core's, validated from the dicts read
here); this module owns where and how the files are kept. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from claude_session.base import locking, statefile
from claude_session.paths import Paths, ensure_dir, file_stem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Request = dict[str, Any]


def save(paths: Paths, request: Request) -> Path:
    """Keep (or update) ``request`` under its ``id``."""
    path = paths.pending_handoffs / f"{file_stem(str(request['id']))}.json"
    statefile.atomic_write(path, json.dumps(request))
    return path


def saved(paths: Paths) -> list[tuple[Path, Request]]:
    """Every kept request with its file, by file name; a file that is not a JSON object is
    moved aside and told to the calling flow."""
    return [
        (path, data) for path, _, data in statefile.json_files(paths.pending_handoffs, "a hand-off")
    ]


def remove(path: Path) -> None:
    """The request's item was made: forget it."""
    path.unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive(paths: Paths, what: str) -> Iterator[bool]:
    """Whether this process may deliver ``what`` (``handoffs``, ``answers``) now: True while it
    holds the lock, False when another process is doing it (that one creates the items, so this
    one must not make them twice; findings/onepassword-2.md N2)."""
    lock = paths.pending_handoffs / f".{what}.lock"
    try:
        ensure_dir(lock.parent)
        fd = statefile.open_private(lock, os.O_RDWR)
    except OSError:
        yield True  # no lock to be had (read-only folder): deliver anyway, as before
        return
    try:
        try:
            held = locking.try_lock(fd)
        except OSError:
            held = True  # a file system without flock: no other process can be told apart
        yield held
    finally:
        os.close(fd)  # closing releases the lock
