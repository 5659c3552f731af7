"""claude.ai answers: whether one waits for a project (``handoff-cache.json``), the answers
merged here whose item could not be marked imported yet (``merged`` in the same file), and the
answers ``handoff receive`` had to keep (``claude-session/pending-answers/``, one file each).

Merged answers. An answer is merged into a context file, then its item is marked imported in the
vault. When the mark fails (a refused write, a reply that missed the deadline), the answer is
recorded here by item id and the hash of its text: it is never merged twice on this machine,
and the next command marks the item instead (findings/onepassword-2.md N1, N14).

The core writes, after each ClaudeSync check, whether an answer waits; the SessionStart hook
(``waiting``) and the status line (``peek_waiting``, lock-free) read it without a network call.
A kept answer's shape is ``models.PendingAnswer`` (the core's, validated from the dicts read
here); this module owns where and how the files are kept. Standard library only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from claude_session.base.clock import now_iso
from claude_session.base.state.lockfree import project_entry, read_json
from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from claude_session.base.statefile import StateFile
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Answer = dict[str, Any]
#: how an item is named when the cache does not say
SOME_ITEM = "a ClaudeSync item"


# --- is an answer waiting -----------------------------------------------------------------------


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    """The cache's entries; one that is not an object is dropped on its own (``PartialState``),
    the others kept."""
    from claude_session.base.statefile import PartialState

    projects = data.setdefault("projects", {})
    if not isinstance(projects, dict):
        raise ValueError("'projects' is not an object")
    if not isinstance(data.setdefault("merged", {}), dict):
        data["merged"] = {}
    bad = [key for key, entry in projects.items() if not isinstance(entry, dict)]
    for key in bad:
        del projects[key]
    if bad:
        raise PartialState(data, f"unreadable entries for {', '.join(map(repr, bad))}")
    return data


def _cache(paths: Paths) -> StateFile:
    # imported here: ``peek_waiting`` (the status line) never loads the locking writer
    from claude_session.base.statefile import StateFile

    return StateFile(
        paths.handoff_cache, validate=_validate, empty=lambda: {"projects": {}, "merged": {}}
    )


def set_waiting(paths: Paths, project_key: str, item_title: str | None) -> None:
    """Record whether a claude.ai answer waits for the project (``item_title`` names it)."""
    with _cache(paths).update() as data:
        data["projects"][project_key] = {
            "waiting": item_title is not None,
            "item": item_title,
            "checked_at": now_iso(),
        }


def _title(entry: dict[str, Any] | None) -> str | None:
    if entry is None or not entry.get("waiting"):
        return None
    item = entry.get("item")
    return str(item) if item else SOME_ITEM


def waiting(paths: Paths, project_key: str) -> str | None:
    """The title of the item whose answer waits for the project, or None."""
    return _title(project_entry(_cache(paths).read(), project_key))


def peek_waiting(paths: Paths, project_key: str) -> str | None:
    """``waiting`` without a lock and without writing (``lockfree``); the title as stored
    (made fit for a terminal by whoever shows it)."""
    return _title(project_entry(read_json(paths.handoff_cache), project_key))


# --- answers merged here, their item not marked imported yet -----------------------------------

#: merged answers remembered at most (the oldest go first: by then their items are long marked)
MERGED_KEPT = 200


def _merged_key(item_id: str, digest: str) -> str:
    return f"{item_id}:{digest}"


def record_merged(paths: Paths, item_id: str, digest: str, context_file: str) -> None:
    """The answer (``digest``) of the item ``item_id`` is merged into ``context_file``."""
    with _cache(paths).update() as data:
        merged = data["merged"]
        merged[_merged_key(item_id, digest)] = {"file": context_file, "at": now_iso()}
        for key in sorted(merged, key=lambda k: str(merged[k].get("at", "")))[:-MERGED_KEPT]:
            del merged[key]


def merged_into(paths: Paths, item_id: str, digest: str) -> str | None:
    """The context file this answer was merged into on this machine, if it was."""
    entry = _cache(paths).read().get("merged", {}).get(_merged_key(item_id, digest))
    return str(entry.get("file") or "") if isinstance(entry, dict) else None


def forget_merged(paths: Paths, item_id: str, digest: str) -> None:
    """The item is marked imported: nothing more to remember."""
    key = _merged_key(item_id, digest)
    if key in _cache(paths).read().get("merged", {}):
        with _cache(paths).update() as data:
            data["merged"].pop(key, None)


# --- answers kept until they can be stored --------------------------------------------------------


def keep(paths: Paths, answer: Answer) -> Path:
    """Keep ``answer`` (``models.PendingAnswer``'s shape, plain JSON) in a file of its own."""
    from claude_session.base.clock import new_id
    from claude_session.base.statefile import atomic_write

    path = paths.pending_answers / f"{new_id()}.json"
    atomic_write(path, json.dumps(answer))
    return path


def kept(paths: Paths) -> list[tuple[Path, Answer]]:
    """Every kept answer with its file, by file name; a file that is not a JSON object is moved
    aside and told to the calling flow."""
    from claude_session.base.statefile import json_files

    return [(path, data) for path, _, data in json_files(paths.pending_answers, "a kept answer")]


def kept_count(paths: Paths, project_key: str) -> int:
    """How many kept answers are the project's: read without a lock and without moving
    anything aside (the SessionStart hook tells the person, N3)."""
    try:
        names = [n for n in os.listdir(paths.pending_answers) if n.endswith(".json")]
    except OSError:
        return 0
    count = 0
    for name in names:
        data = read_json(paths.pending_answers / name)
        if isinstance(data, dict) and data.get("project_root") == project_key:
            count += 1
    return count


def remove(path: Path) -> None:
    """The answer was stored: forget it."""
    path.unlink(missing_ok=True)
