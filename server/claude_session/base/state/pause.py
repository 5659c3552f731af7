"""``pause-state.json``: one pause entry per project, keyed by the absolute project root.

The one owner of the file's shape: ``new_entry`` builds an entry (``models.PauseEntry`` is its
typed form in the core, validated from this dict), the locked read-modify-writes change it, and
``peek`` reads it without a lock for the status line. An entry that is not one (a required field
missing or of the wrong type) is dropped and reported on its own, the others kept, and the file
as it was is kept beside it. Standard library only: the SessionStart hook reads it.
"""

from __future__ import annotations

from claude_session.base.clock import parse_time
from claude_session.base.state.lockfree import project_entry, read_json
from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from claude_session.base.statefile import StateFile
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Entry = dict[str, Any]
#: what every entry holds, as text (``paused_at``: an ISO-8601 time)
REQUIRED = ("project", "project_root", "context_file", "paused_at")


def new_entry(
    *,
    project: str,
    project_root: str,
    context_file: str,
    paused_at: str,
    repository_url: str | None = None,
    repository: str | None = None,
    branch: str | None = None,
    head: str | None = None,
    session_id: str | None = None,
    wip_commit: str | None = None,
    note: str | None = None,
    summary: str = "",
    record_id: str | None = None,
    unended: bool = False,
) -> Entry:
    """The one shape of a pause entry. ``repository``: origin normalised (finds the pause after
    the folder moved); ``record_id``: the paused session's record, which a resume continues;
    ``unended``: written by the finalization of a session that ended without /end."""
    return {
        "project": project,
        "project_root": project_root,
        "repository_url": repository_url,
        "repository": repository,
        "branch": branch,
        "head": head,
        "context_file": context_file,
        "paused_at": paused_at,
        "session_id": session_id,
        "wip_commit": wip_commit,
        "note": note,
        "summary": summary,
        "resumed_at": None,
        "resumed_by": None,
        "record_id": record_id,
        "handoff_item": None,  # set once the pause's ClaudeSync item is made
        "unended": unended,
    }


def is_entry(entry: object) -> bool:
    """True for a dict with every ``REQUIRED`` field (what the core's model needs)."""
    return (
        isinstance(entry, dict)
        and all(isinstance(entry.get(key), str) for key in REQUIRED)
        and parse_time(entry["paused_at"]) is not None
    )


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    """The file's entries; unreadable ones are dropped one by one (``PartialState``), never the
    whole file."""
    from claude_session.base.statefile import PartialState

    projects = data.setdefault("projects", {})
    if not isinstance(projects, dict):
        raise ValueError("'projects' is not an object")
    bad = [key for key, entry in projects.items() if not is_entry(entry)]
    for key in bad:
        del projects[key]
    if bad:
        raise PartialState(
            data,
            f"{len(bad)} unreadable pause entr"
            f"{'y' if len(bad) == 1 else 'ies'} ({', '.join(map(repr, bad))})",
        )
    return data


def salvage(text: str) -> dict[str, Any] | None:
    """The entries still whole in a file that does not parse (hand-edited, or damaged on
    disk), keyed by their own project root; None when there is none. An entry is a flat JSON
    object, so each one is tried where an object starts."""
    import json

    decoder = json.JSONDecoder()
    found: dict[str, Entry] = {}
    start = text.find("{", 1)
    while start != -1:
        try:
            entry = decoder.raw_decode(text, start)[0]
        except ValueError:
            entry = None
        if is_entry(entry):
            found[entry["project_root"]] = entry
        start = text.find("{", start + 1)
    return {"projects": found} if found else None


def _file(paths: Paths) -> StateFile:
    # imported here: ``peek`` (the status line) never loads the locking writer
    from claude_session.base.statefile import StateFile

    return StateFile(
        paths.pause_state, validate=_validate, empty=lambda: {"projects": {}}, salvage=salvage
    )


def _entries(paths: Paths) -> dict[str, Entry]:
    """Every entry, read validated (a file of a newer format is read as it is: its entries are
    checked here)."""
    projects = _file(paths).read().get("projects")
    if not isinstance(projects, dict):
        return {}
    return {root: entry for root, entry in projects.items() if is_entry(entry)}


def get(paths: Paths, root: str) -> Entry | None:
    entry = _entries(paths).get(root)
    return dict(entry) if entry is not None else None


def peek(paths: Paths, root: str) -> Entry | None:
    """The project's entry without a lock and without writing (``lockfree``); None when there
    is none or it is not one."""
    entry = project_entry(read_json(paths.pause_state), root)
    return entry if is_entry(entry) else None


def waiting(entry: Entry | None) -> Entry | None:
    """The entry when it still waits to be picked up (not yet resumed)."""
    return entry if entry is not None and not entry.get("resumed_by") else None


def find_by_repository(paths: Paths, repository: str) -> Entry | None:
    """The newest entry whose normalised remote is ``repository`` (a project moved on disk)."""
    entries = [e for e in _entries(paths).values() if e.get("repository") == repository]
    entries.sort(key=lambda e: str(e.get("paused_at", "")), reverse=True)
    return dict(entries[0]) if entries else None


def put(paths: Paths, root: str, entry: Entry) -> None:
    with _file(paths).update() as data:
        data["projects"][root] = entry


def patch(paths: Paths, root: str, changes: Entry) -> Entry | None:
    with _file(paths).update() as data:
        entry = data["projects"].get(root)
        if entry is None:
            return None
        entry.update(changes)
        return dict(entry)


def clear(paths: Paths, root: str) -> Entry | None:
    with _file(paths).update() as data:
        removed = data["projects"].pop(root, None)
    return removed if isinstance(removed, dict) else None


def clear_of(paths: Paths, root: str, session_id: str) -> Entry | None:
    """Clear the project's entry if it is this session's pause or one this session resumed;
    another session's pause stays (redteam N49). Returns what was cleared."""
    with _file(paths).update() as data:
        entry = data["projects"].get(root)
        if not isinstance(entry, dict) or session_id not in (
            entry.get("session_id"),
            entry.get("resumed_by"),
        ):
            return None
        removed = data["projects"].pop(root)
    return dict(removed)


def move(paths: Paths, old_root: str, new_root: str) -> Entry | None:
    """Re-key a pause whose repository moved on disk; None if it was gone meanwhile."""
    with _file(paths).update() as data:
        moved = data["projects"].pop(old_root, None)
        if not isinstance(moved, dict):
            return None
        moved["project_root"] = new_root
        data["projects"][new_root] = moved
        return dict(moved)
