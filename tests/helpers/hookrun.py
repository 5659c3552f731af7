"""Running the plugin's hooks as Claude Code runs them: ``hooks/run.py EVENT`` in a process."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "hooks" / "run.py"
EVENTS = ("SessionStart", "Stop", "PreCompact", "SessionEnd", "UserPromptSubmit")


def hook_argv(event: str, *flags: str, python: str | Path = sys.executable) -> list[str]:
    """The command line of one hook: ``python [flags] hooks/run.py EVENT``."""
    return [str(python), *flags, str(RUN), event]
