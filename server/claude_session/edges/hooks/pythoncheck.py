"""The hooks' first step: is this ``python3`` new enough (3.9, what a supported macOS ships)?

Claude Code runs the hooks with the first ``python3`` on the user's PATH. On an older one the
hook says so once (a marker in the state home remembers that it was said, per Python version)
and does nothing. Standard library only, and written in syntax every Python 3 reads: no f-strings,
no ``from __future__ import annotations``, and annotations only as strings.
"""

import json
import os
import sys

TYPE_CHECKING = False  # typing itself costs the hooks milliseconds at every start

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import TextIO

OLDEST = (3, 9)
MARKER = "python-too-old"  # in <state home>/claude-session/: the version last told about


def _state_dir(environ: "Mapping[str, str]") -> str:
    config_dir = (environ.get("CLAUDE_CONFIG_DIR") or "").split(",")[0].strip()
    if config_dir:
        return os.path.join(os.path.expanduser(config_dir), "claude-session")
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".claude", "claude-session")


def message(version: str, executable: "str | None") -> str:
    return (
        "claude-session's hooks need Python {}.{} or newer, but the python3 Claude Code runs "
        "is {} ({}). Until that changes they do nothing: no pause notes at start, no "
        "reminders, no records of sessions that end without the end command. Install a newer "
        "Python 3 (python.org or Homebrew), put it first on PATH and restart Claude Code. "
        "(Said once.)"
    ).format(OLDEST[0], OLDEST[1], version, executable or "?")


def too_old(
    version_info: "Sequence[int] | None" = None,
    environ: "Mapping[str, str] | None" = None,
    out: "TextIO | None" = None,
) -> bool:
    """True when this Python is older than OLDEST; the first time for a version, the hook's
    output tells the user (a ``systemMessage``). Never raises."""
    info = tuple(version_info or sys.version_info)
    if info[:2] >= OLDEST:
        return False
    version = ".".join(str(part) for part in info[:3])
    try:
        folder = _state_dir(os.environ if environ is None else environ)
        marker = os.path.join(folder, MARKER)
        try:
            with open(marker) as handle:
                if handle.read().strip() == version:
                    return True  # already said for this version
        except OSError:  # IOError is OSError from 3.3 on
            pass
        (out or sys.stdout).write(json.dumps({"systemMessage": message(version, sys.executable)}))
        if not os.path.isdir(folder):
            os.makedirs(folder, 0o700)
        fd = os.open(
            marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        try:
            os.write(fd, version.encode("ascii"))
        finally:
            os.close(fd)
    except Exception:  # noqa: BLE001 - unwritable home: said again next time, never a crash
        pass
    return True
