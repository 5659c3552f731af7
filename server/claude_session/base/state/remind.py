"""``remind-state.json``: automatic reminder settings per project, a global default, and when
each project was last reminded.

The one owner of the file and of the settings' defaults and ranges: ``settings_for`` is the one
merge (project over global default over ``DEFAULTS``, each value clamped to its range) that the
core, the UserPromptSubmit hook and the status line (through the lock-free ``peek``) all use.
Standard library only.
"""

from __future__ import annotations

import math

from claude_session.base.clock import parse_time
from claude_session.base.state.lockfree import read_json
from claude_session.errors import ClaudeSessionError
from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from claude_session.base.statefile import StateFile
else:
    Any = object  # annotations and aliases only: the hooks never import typing

#: the one table of reminder defaults
DEFAULTS: dict[str, Any] = {"enabled": False, "every_minutes": 30, "dirty_files": 10}
EVERY_RANGE = (1, 1440)
"""Minutes between reminders: one minute to one day."""
DIRTY_RANGE = (1, 10_000)
"""Uncommitted files that trigger a reminder."""
_RANGES = {"every_minutes": EVERY_RANGE, "dirty_files": DIRTY_RANGE}
_NAMES = {
    "every_minutes": ("reminder interval", "minutes", "--every", "every_minutes"),
    "dirty_files": ("dirty-file threshold", "files", "--dirty-files", "dirty_files"),
}


def check_settings(every: Any = None, dirty_files: Any = None) -> None:
    """Refuse a reminder value outside its range, saying the range (None means unchanged)."""
    for key, value in (("every_minutes", every), ("dirty_files", dirty_files)):
        if value is None:
            continue
        low, high = _RANGES[key]
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            continue
        what, unit, option, field = _NAMES[key]
        shown = repr(value) if len(repr(value)) <= 24 else repr(value)[:20] + "..."
        raise ClaudeSessionError(
            f"The {what} must be a whole number of {unit} from {low} to {high}; {shown} is "
            f"not. Nothing was changed: give a value in that range ({option} N on the command "
            f"line, {field}=N over MCP)."
        )


def _sane(key: str, value: Any) -> Any:
    """A stored value as the hooks may use it: out of range is clamped, nonsense is the default
    (the file may be old, hand-edited or written by a version without these limits)."""
    if key == "enabled":
        return value is True
    low, high = _RANGES[key]
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return DEFAULTS[key]
    return min(max(value, low), high)


def _validate(data: dict[str, Any]) -> dict[str, Any]:
    """The file's settings; an unreadable part is dropped on its own (``PartialState``), the
    rest kept."""
    from claude_session.base.statefile import PartialState

    bad = []
    for key, empty in (("projects", {}), ("last_reminded", {}), ("default", dict(DEFAULTS))):
        if not isinstance(data.setdefault(key, empty), dict):
            data[key] = empty
            bad.append(f"'{key}' is not an object")
    projects = data["projects"]
    for root in [root for root, entry in projects.items() if not isinstance(entry, dict)]:
        del projects[root]
        bad.append(f"the entry for {root!r} is not an object")
    if bad:
        raise PartialState(data, "; ".join(bad))
    return data


def _file(paths: Paths) -> StateFile:
    # imported here: ``peek`` (the status line) never loads the locking writer
    from claude_session.base.statefile import StateFile

    return StateFile(
        paths.remind_state,
        validate=_validate,
        empty=lambda: {"default": dict(DEFAULTS), "projects": {}, "last_reminded": {}},
    )


def read(paths: Paths) -> dict[str, Any]:
    """The whole file, validated (an unreadable part is moved aside and told)."""
    return _file(paths).read()


def peek(paths: Paths) -> dict[str, Any]:
    """The whole file without a lock and without writing (``lockfree``): {} when unreadable.
    Read it through ``settings_for`` and ``last_reminded``, which take any shape."""
    return read_json(paths.remind_state)


def settings_for(data: dict[str, Any], root: str | None) -> dict[str, Any]:
    """Project settings over the global default over the built-in defaults, each value within
    its range whatever the file holds (the UserPromptSubmit hook reads them through this)."""
    merged = dict(DEFAULTS)
    projects = data.get("projects")
    project = projects.get(root) if isinstance(projects, dict) and root is not None else None
    for layer in (data.get("default"), project):
        if isinstance(layer, dict):
            merged.update({k: _sane(k, v) for k, v in layer.items() if k in DEFAULTS})
    return merged


def last_reminded(data: dict[str, Any], root: str) -> datetime | None:
    """When the project was last reminded, from ``read``'s or ``peek``'s data."""
    times = data.get("last_reminded")
    return parse_time(times.get(root)) if isinstance(times, dict) else None


def set_settings(paths: Paths, root: str | None, changes: dict[str, Any]) -> dict[str, Any]:
    """Change the project's settings (or the global default when ``root`` is None)."""
    check_settings(changes.get("every_minutes"), changes.get("dirty_files"))
    with _file(paths).update() as data:
        target = data["default"] if root is None else data["projects"].setdefault(root, {})
        target.update({k: v for k, v in changes.items() if k in DEFAULTS and v is not None})
        return settings_for(data, root or "")


def mark_reminded(paths: Paths, root: str, when: str) -> None:
    with _file(paths).update() as data:
        data["last_reminded"][root] = when
