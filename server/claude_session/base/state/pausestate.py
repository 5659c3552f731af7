"""``pause-state.json``: one entry per project, keyed by the absolute project root.

Standard library only (the SessionStart hook reads it); entries are plain dicts here, and
``models.PauseEntry`` is their typed form in the core.
"""

from __future__ import annotations

from claude_session.base.statefile import PartialState, StateFile
from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Entry = dict[str, Any]


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    """The file's entries; unreadable ones are dropped one by one (``PartialState``), never the
    whole file."""
    projects = data.setdefault("projects", {})
    if not isinstance(projects, dict):
        raise ValueError("'projects' is not an object")
    bad = [
        key
        for key, entry in projects.items()
        if not isinstance(entry, dict) or not isinstance(entry.get("context_file"), str)
    ]
    for key in bad:
        del projects[key]
    if bad:
        raise PartialState(
            data,
            f"{len(bad)} unreadable pause entr"
            f"{'y' if len(bad) == 1 else 'ies'} ({', '.join(map(repr, bad))})",
        )
    return data


def pause_file(paths: Paths) -> StateFile:
    return StateFile(paths.pause_state, validate=_validate, empty=lambda: {"projects": {}})


def get(paths: Paths, root: str, *, state: StateFile | None = None) -> Entry | None:
    entry = (state or pause_file(paths)).read().get("projects", {}).get(root)
    return dict(entry) if isinstance(entry, dict) else None


def find_by_repository(paths: Paths, repository: str) -> Entry | None:
    """The newest entry whose normalised remote is ``repository`` (a project moved on disk)."""
    entries = [
        e
        for e in pause_file(paths).read().get("projects", {}).values()
        if isinstance(e, dict) and e.get("repository") == repository
    ]
    entries.sort(key=lambda e: str(e.get("paused_at", "")), reverse=True)
    return dict(entries[0]) if entries else None


def put(paths: Paths, root: str, entry: Entry, *, state: StateFile | None = None) -> None:
    with (state or pause_file(paths)).update() as data:
        data["projects"][root] = entry


def patch(
    paths: Paths, root: str, changes: Entry, *, state: StateFile | None = None
) -> Entry | None:
    with (state or pause_file(paths)).update() as data:
        entry = data["projects"].get(root)
        if entry is None:
            return None
        entry.update(changes)
        return dict(entry)


def clear(paths: Paths, root: str, *, state: StateFile | None = None) -> Entry | None:
    with (state or pause_file(paths)).update() as data:
        removed = data["projects"].pop(root, None)
    return removed if isinstance(removed, dict) else None


def move(
    paths: Paths, old_root: str, new_root: str, *, state: StateFile | None = None
) -> Entry | None:
    """Re-key a pause whose repository moved on disk; None if it was gone meanwhile."""
    with (state or pause_file(paths)).update() as data:
        moved = data["projects"].pop(old_root, None)
        if not isinstance(moved, dict):
            return None
        moved["project_root"] = new_root
        data["projects"][new_root] = moved
        return dict(moved)
