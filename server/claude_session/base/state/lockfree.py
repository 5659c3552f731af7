"""The lock-free read every state file's ``peek`` uses: for the status line, which runs after
every message and must never wait, write or move a file aside.

State files are replaced by atomic renames, so a read sees the old file or the new one. What
does not parse reads as nothing. Standard library only, and cheap to import: the status line
imports this, not the locking writer (``statefile``).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: the largest state file read (pause-state.json with a thousand projects is ~0.5 MB)
MAX_STATE_BYTES = 8 * 1024 * 1024


def read_json(path: Path, *, limit: int = MAX_STATE_BYTES) -> dict[str, Any]:
    """A state file's JSON object; {} when it is missing, not a regular file, too big or not
    an object. Never blocks on a FIFO, never follows a symlink, never writes."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return {}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {}
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            return {}
        data = json.loads(b"".join(chunks))
    except (OSError, ValueError):
        return {}
    finally:
        os.close(fd)
    return data if isinstance(data, dict) else {}


def project_entry(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """``data["projects"][key]`` when both are objects (the per-project state files)."""
    projects = data.get("projects")
    entry = projects.get(key) if isinstance(projects, dict) else None
    return entry if isinstance(entry, dict) else None
