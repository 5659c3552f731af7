"""remind (seed: auto-remind): pause/commit reminders on or off, when they fire, or shown.

The UserPromptSubmit hook does the reminding; this flow only sets ``remind-state.json``.
"""

from __future__ import annotations

from pathlib import Path

from claude_session.base import flow
from claude_session.base.state import remind as reminders
from claude_session.core import steps
from claude_session.core.project import resolve
from claude_session.core.services import Services
from claude_session.errors import ClaudeSessionError
from claude_session.models import ReminderSettings, RemindResult
from claude_session.vocab import REMIND_ACTIONS


def remind(
    services: Services,
    cwd: Path | str,
    *,
    action: str = "status",
    every: int | None = None,
    dirty_files: int | None = None,
    global_default: bool = False,
) -> RemindResult:
    """``global_default``: the default of every project instead of this project's setting."""
    with services.call():
        project = resolve(cwd)
        reminders.check_settings(every, dirty_files)
        root = None if global_default else project.key
        if action in ("on", "off"):
            merged = reminders.set_settings(
                services.paths,
                root,
                {"enabled": action == "on", "every_minutes": every, "dirty_files": dirty_files},
            )
        elif action == "status":
            merged = reminders.settings_for(reminders.read(services.paths), root)
            _tell_reset(services)
        else:
            raise ClaudeSessionError(
                f"Unknown remind action {action!r}: use {', '.join(REMIND_ACTIONS)}."
            )
        last = reminders.last_reminded(reminders.read(services.paths), project.key)
        return steps.result(
            RemindResult,
            project,
            settings=ReminderSettings(**merged),
            scope="default" if global_default else "project",
            last_reminded=last,
        )


def _tell_reset(services: Services) -> None:
    """Say that the settings shown are not the person's own when a damaged remind-state.json
    was reset (by this call, a hook or the status line): its copy is still beside it."""
    state = services.paths.remind_state
    copies = sorted(state.parent.glob(f"{state.name}.corrupt-*"))
    if not copies or any(copies[-1].name in told for told in flow.current().warnings):
        return
    flow.warn(
        f"Reminder settings were reset to the defaults: {state} could not be read. The damaged "
        f"file is kept as {copies[-1]}; set reminders again (`claude-session remind on ...`), "
        f"then delete it."
    )
