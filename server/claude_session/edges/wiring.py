"""What an install writes into Claude Code, and how to tell it apart from the user's own: the
commands that run this package (hooks, MCP server, status line), where the plugin and command
files come from, and reading and writing the user's ``settings.json``."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claude_session.base.statefile import atomic_write
from claude_session.errors import ConfigError, StateError

PLUGIN_TOOL_PREFIX = "mcp__plugin_session_session__"
CLASSIC_TOOL_PREFIX = "mcp__session__"
SERVER_NAME = "session"
# A user /resume wins over Claude Code's own session picker (checked): ours must not take it.
CLASSIC_NAMES = {"resume.md": "resume-session.md"}
HOOK_EVENTS = ("SessionStart", "Stop", "PreCompact", "SessionEnd", "UserPromptSubmit")
MARKER = "claude-session"


MARKETPLACE = "claude-session"
PLUGIN = f"{SERVER_NAME}@{MARKETPLACE}"
REINSTALL = (
    "reinstall claude-session (`pipx reinstall claude-session`, or `pip install "
    "--force-reinstall` of the checkout in its virtualenv)"
)


#: the ``claude_session`` package folder
PACKAGE = Path(__file__).resolve().parent.parent


def checkout_root() -> Path | None:
    root = PACKAGE.parent.parent
    return root if (root / ".claude-plugin" / "plugin.json").is_file() else None


def plugin_source() -> Path:
    """The plugin files of this install: the package's own copy (a wheel install), else the
    checkout this package runs from (a source or editable install)."""
    packaged = PACKAGE / "plugin"
    for root in (packaged, checkout_root()):
        if root is not None and (root / ".claude-plugin" / "plugin.json").is_file():
            return root
    raise ConfigError(
        f"The plugin files are missing from this install of claude-session: {REINSTALL}."
    )


def commands_source() -> Path:
    candidates = [PACKAGE / "plugin" / "commands"]
    root = checkout_root()
    candidates += [root / "commands"] if root else []
    candidates.append(Path(sys.prefix) / "share" / "claude-session" / "commands")
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.md")):
            return folder
    raise ConfigError(f"The command files were not found: {REINSTALL}.")


#: how the shipped command files' ``!`` lines run the CLI (the plugin checkout's launcher)
PLUGIN_CLI = 'python3 -I "${CLAUDE_PLUGIN_ROOT}/server/launch_cli.py"'


def installed_command_text(text: str) -> str:
    """A shipped command file for an install of this package: its ``!`` lines (and their
    ``Bash(...)`` permission) run this install's CLI, which has no plugin checkout around it."""
    return text.replace(PLUGIN_CLI, shlex.join(entry_command()))


def classic_command_text(text: str) -> str:
    return (
        installed_command_text(text)
        .replace(PLUGIN_TOOL_PREFIX, CLASSIC_TOOL_PREFIX)
        .replace("/session:resume", "/resume-session")
        .replace("/session:", "/")
    )


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entry_command(*args: str) -> list[str]:
    """How a classic install runs claude-session: this interpreter in isolated mode on the
    absolute path of ``claude_session/__main__.py``, so nothing from the project folder Claude
    Code runs it in can be imported (see ``__main__``)."""
    entry = PACKAGE / "__main__.py"
    return [sys.executable, "-I", str(entry), *args]


def hook_command(event: str) -> str:
    return shlex.join(entry_command("hook", event))


# The hook command a classic install writes, from wherever the package was installed.
_OUR_HOOK = re.compile(r"claude_session/__main__\.py'? hook (?:" + "|".join(HOOK_EVENTS) + r")$")


def is_our_hook(command: object) -> bool:
    return isinstance(command, str) and _OUR_HOOK.search(command) is not None


def statusline_command(*, plugin: bool) -> str:
    return shlex.join(entry_command("statusline", *(["--plugin"] if plugin else [])))


_OUR_STATUSLINE = re.compile(r"claude_session/__main__\.py'? statusline(?: --plugin)?$")


def is_our_statusline(value: object) -> bool:
    """True for a ``statusLine`` setting that runs our status line (any install's path)."""
    command = value.get("command") if isinstance(value, dict) else None
    return isinstance(command, str) and _OUR_STATUSLINE.search(command) is not None


def combine_hint(theirs: object, ours: str) -> str:
    """How to show the user's status line and ours together (Claude Code runs one command)."""
    command = theirs.get("command") if isinstance(theirs, dict) else None
    yours = command if isinstance(command, str) and command.strip() else "YOUR-COMMAND"
    return (
        f"You already have a status line ({yours!r}); it was left as it is. To show both, "
        f"make it one command that feeds each the same input, e.g. a script: "
        f"input=$(cat); printf '%s · %s\\n' \"$(printf '%s' \"$input\" | {yours})\" "
        f'"$(printf \'%s\' "$input" | {ours})"'
    )


def read_json(path: Path) -> dict[str, Any]:
    """Claude Code's settings file (through a symbolic link, as ``write_settings`` writes it),
    read bounded: a FIFO or a device in its place is refused, never waited on."""
    from claude_session.base.bounded import read_text

    if not path.exists():
        return {}
    try:
        data = json.loads(read_text(Path(os.path.realpath(path)), limit=16 * 1024 * 1024))
    except (OSError, ValueError) as exc:
        raise StateError(
            f"{path} is not valid JSON ({exc}); it was left untouched. Fix it, "
            f"then run the install again."
        ) from exc
    if not isinstance(data, dict):
        raise StateError(f"{path} does not hold a JSON object; it was left untouched.")
    return data


def claude() -> str | None:
    return shutil.which("claude")


def run_claude(*args: str) -> tuple[bool, str]:
    exe = claude()
    if exe is None:
        return False, "the `claude` command was not found on PATH"
    try:
        proc = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def drop_handlers(hooks: dict[str, Any], drop: Callable[[object], bool]) -> int:
    """Remove from ``hooks`` (settings' ``hooks`` object) every handler whose command
    ``drop`` accepts, then the groups and events left empty; return how many went."""
    count = 0
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept_groups = []
        for group in groups:
            handlers = group.get("hooks", []) if isinstance(group, dict) else None
            if not isinstance(handlers, list):
                kept_groups.append(group)
                continue
            kept = [h for h in handlers if not (isinstance(h, dict) and drop(h.get("command")))]
            count += len(handlers) - len(kept)
            if kept or not handlers:
                kept_groups.append({**group, "hooks": kept})
        if kept_groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    return count


def mode_of(path: Path) -> int:
    """The mode a file of Claude Code's (settings.json) keeps when we rewrite it: its own, or
    0600 when we make it."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o600


def write_settings(path: Path, settings: dict[str, Any]) -> None:
    """Rewrite Claude Code's settings file, keeping its mode. A settings file that is a
    symbolic link (dotfiles, home-manager) is written through: the file it names is replaced
    and the link stays a link (N34)."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    atomic_write(target, json.dumps(settings, indent=2) + "\n", mode=mode_of(target))
