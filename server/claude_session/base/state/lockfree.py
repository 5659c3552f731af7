"""The lock-free read every state file's ``peek`` uses: for the status line, which runs after
every message and must never wait, write or move a file aside.

State files are replaced by atomic renames, so a read sees the old file or the new one. What
does not parse reads as nothing. Standard library only, and cheap to import: the status line
imports this, not the locking writer (``statefile``).
"""

from __future__ import annotations

import json
from pathlib import Path

from claude_session.base.bounded import read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: the largest state file read (pause-state.json with a thousand projects is ~0.5 MB)
MAX_STATE_BYTES = 8 * 1024 * 1024


def read_json(path: Path, *, limit: int = MAX_STATE_BYTES) -> dict[str, Any]:
    """A state file's JSON object; {} when it is missing, not a regular file, too big or not
    an object. Never blocks on a FIFO, never follows a symlink, never writes."""
    try:
        data = json.loads(read_regular(path, limit=limit))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def project_entry(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    """``data["projects"][key]`` when both are objects (the per-project state files)."""
    projects = data.get("projects")
    entry = projects.get(key) if isinstance(projects, dict) else None
    return entry if isinstance(entry, dict) else None
