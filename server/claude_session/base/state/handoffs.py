"""``claude-session/pending-handoffs/``: ClaudeSync items a pause or an end could not create
yet (the vault out of reach), one file per request, retried by later commands.

The request's shape is ``models.PendingHandoff`` (the core's, validated from the dicts read
here); this module owns where and how the files are kept. Standard library only.
"""

from __future__ import annotations

import json
from pathlib import Path

from claude_session.base import statefile
from claude_session.paths import Paths, file_stem

TYPE_CHECKING = False
if TYPE_CHECKING:
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
