"""``remind-state.json``: automatic reminder settings per project, a global default, and when
each project was last reminded. Standard library only: the UserPromptSubmit hook reads it."""

from __future__ import annotations

from typing import Any

from claude_session.paths import Paths
from claude_session.statefile import StateFile

DEFAULTS: dict[str, Any] = {"enabled": False, "every_minutes": 30, "dirty_files": 10}


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    for key in ("projects", "last_reminded"):
        if not isinstance(data.setdefault(key, {}), dict):
            raise ValueError(f"'{key}' is not an object")
    if not isinstance(data.setdefault("default", dict(DEFAULTS)), dict):
        raise ValueError("'default' is not an object")
    return data


def remind_file(paths: Paths) -> StateFile:
    return StateFile(paths.remind_state, validate=_validate,
                     empty=lambda: {"default": dict(DEFAULTS), "projects": {}, "last_reminded": {}})


def settings_for(data: dict[str, Any], root: str) -> dict[str, Any]:
    """Project settings over the global default over the built-in defaults."""
    merged = dict(DEFAULTS)
    merged.update({k: v for k, v in data.get("default", {}).items() if k in DEFAULTS})
    project = data.get("projects", {}).get(root, {})
    merged.update({k: v for k, v in project.items() if k in DEFAULTS})
    return merged


def set_settings(paths: Paths, root: str | None, changes: dict[str, Any]) -> dict[str, Any]:
    """Change the project's settings (or the global default when ``root`` is None)."""
    with remind_file(paths).update() as data:
        target = data["default"] if root is None else data["projects"].setdefault(root, {})
        target.update({k: v for k, v in changes.items() if k in DEFAULTS and v is not None})
        return settings_for(data, root or "")


def mark_reminded(paths: Paths, root: str, when: str) -> None:
    with remind_file(paths).update() as data:
        data["last_reminded"][root] = when
