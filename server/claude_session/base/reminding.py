"""When a reminder to pause or commit is due: the one rule the UserPromptSubmit hook (which
gives the reminder, at most once per interval) and the status line (which shows it) share.

A reminder is due, with reminders on for the project (``state.remind.settings_for``), when the
last commit or pause is at least ``every_minutes`` old, or when at least ``dirty_files`` files
are uncommitted. Standard library only; ``datetime`` is imported once reminders are on: with
them off (the default), the UserPromptSubmit hook, every turn, reads one file and stops.
"""

from __future__ import annotations

from pathlib import Path

from claude_session.base import gitread
from claude_session.base.clock import now, parse_time
from claude_session.base.state import pause, remind
from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing


def reasons(
    settings: dict[str, Any], *, current: datetime, last_save: datetime | None, dirty: int | None
) -> list[str]:
    """Why a reminder is due under ``settings`` (``remind.settings_for``'s): time since the
    last commit or pause, uncommitted files; [] when none is, or reminders are off. Unknown
    figures (None) are not counted."""
    if not settings.get("enabled"):
        return []
    from datetime import timedelta

    found = []
    if last_save is not None and current - last_save >= timedelta(
        minutes=settings["every_minutes"]
    ):
        found.append(
            f"{int((current - last_save).total_seconds() // 60)} min since the last commit or pause"
        )
    if dirty is not None and dirty >= settings["dirty_files"]:
        found.append(f"{dirty} uncommitted files")
    return found


def changed(tree: gitread.Status | None) -> int | None:
    """How many files of the working tree are uncommitted (changed or untracked)."""
    return None if tree is None else len(tree.dirty_files) + len(tree.untracked_files)


def commit_time(text: str | None) -> datetime | None:
    """A commit time as ``git log --format=%ct`` prints it."""
    from datetime import datetime, timezone

    text = (text or "").strip()
    return datetime.fromtimestamp(int(text), timezone.utc) if text.isdigit() else None


def last_save(last_commit: datetime | None, pause: dict[str, Any] | None) -> datetime | None:
    """What a reminder measures from: the later of the last commit and the project's pause."""
    times = [t for t in (last_commit, parse_time((pause or {}).get("paused_at"))) if t]
    return max(times) if times else None


def due(paths: Paths, root: Path) -> list[str]:
    """Why a reminder is due now for the project at ``root`` (a git work tree), at most once
    per interval: when one is, it is marked as given. Reads nothing but the reminder settings
    while reminders are off."""
    data = remind.read(paths)
    key = str(root)
    settings = remind.settings_for(data, key)
    if not settings["enabled"]:
        return []
    from datetime import timedelta

    current = now()
    told = remind.last_reminded(data, key)
    if told is not None and current - told < timedelta(minutes=settings["every_minutes"]):
        return []
    records, newest = gitread.git_lines_together(
        root, [(gitread.STATUS_ARGS, True), (("log", "-1", "--format=%ct"), False)]
    )
    tree = None if records is None else gitread.parse_status(records)
    found = reasons(
        settings,
        current=current,
        last_save=last_save(commit_time(newest[0] if newest else None), pause.get(paths, key)),
        dirty=changed(tree),
    )
    if found:
        remind.mark_reminded(paths, key, current.isoformat())
    return found
