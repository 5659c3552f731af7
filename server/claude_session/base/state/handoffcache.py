"""What the SessionStart hook knows about claude.ai answers without a network call.

The core writes, after each ClaudeSync check, whether an answer waits for a project; the hook
reads it. Standard library only.
"""

from __future__ import annotations

from claude_session.base.clock import now_iso
from claude_session.base.statefile import StateFile
from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing


def cache_file(paths: Paths) -> StateFile:
    return StateFile(paths.handoff_cache, empty=lambda: {"projects": {}})


def write(
    paths: Paths, project_key: str, item_title: str | None, *, state: StateFile | None = None
) -> None:
    """Record whether a claude.ai answer waits for the project (``item_title`` names it)."""
    with (state or cache_file(paths)).update() as data:
        projects = data.setdefault("projects", {})
        if not isinstance(projects, dict):
            projects = data["projects"] = {}
        projects[project_key] = {
            "waiting": item_title is not None,
            "item": item_title,
            "checked_at": now_iso(),
        }


def waiting(paths: Paths, project_key: str) -> str | None:
    """The title of the item whose answer waits for the project, or None."""
    projects: Any = cache_file(paths).read().get("projects")
    entry = projects.get(project_key) if isinstance(projects, dict) else None
    if isinstance(entry, dict) and entry.get("waiting"):
        item = entry.get("item")
        return str(item) if item else "a ClaudeSync item"
    return None
