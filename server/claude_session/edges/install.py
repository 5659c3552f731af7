"""Wiring claude-session into Claude Code (SPEC section 8).

Classic (the seed's layout): command files in ``~/.claude/commands/``, the MCP server registered
with ``claude mcp add``, hooks in the user settings. Everything added is written to an install
manifest, and ``uninstall`` removes exactly that: files only while unchanged, hook entries by
their exact command, the MCP registration by its name. The user's other settings are kept.

Plugin: the plugin files (manifest, one-plugin marketplace, commands, hooks.json) ship inside the
package (``claude_session/plugin/``, copied there by ``setup.py`` when the wheel is built; a
checkout is the plugin itself). ``install`` without ``--classic`` writes a copy under
``~/.claude/claude-session/plugin/`` whose hooks and MCP server run this installed package with
this interpreter (absolute paths, so Claude Code's own copy of the plugin in its cache works
too), then adds that folder as the marketplace and installs the plugin with the ``claude`` CLI.
``uninstall`` removes the plugin, the marketplace and the folder.

Status line (either mode, only with ``--statusline``): ``statusLine`` in the user settings runs
``claude-session statusline``. A plugin cannot set it (Claude Code reads only ``agent`` and
``subagentStatusLine`` from a plugin's settings). A status line the user already has is never
replaced: the install says how to show both. The manifest records ours, and ``uninstall``
removes it while it is still ours, which leaves the settings as they were before.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claude_session.base import routines
from claude_session.base.statefile import atomic_write, file_lock
from claude_session.errors import ClaudeSessionError, ConfigError, StateError
from claude_session.paths import Paths, ensure_dir

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


def classic_command_text(text: str) -> str:
    return (
        text.replace(PLUGIN_TOOL_PREFIX, CLASSIC_TOOL_PREFIX)
        .replace("/session:resume", "/resume-session")
        .replace("/session:", "/")
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def entry_command(*args: str) -> list[str]:
    """How a classic install runs claude-session: this interpreter in isolated mode on the
    absolute path of ``claude_session/__main__.py``, so nothing from the project folder Claude
    Code runs it in can be imported (see ``__main__``)."""
    entry = PACKAGE / "__main__.py"
    return [sys.executable, "-I", str(entry), *args]


def hook_command(event: str) -> str:
    return shlex.join(entry_command("hook", event))


# Every form of hook command a classic install ever wrote: today's, and the seed's
# ``"<python>" -m claude_session.hook EVENT`` (which ran a claude_session/ from the project).
_OUR_HOOK = re.compile(
    r"(?:\s-m claude_session\.hook|claude_session/__main__\.py'? hook) (?:"
    + "|".join(HOOK_EVENTS)
    + r")$"
)


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


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise StateError(
            f"{path} is not valid JSON ({exc}); it was left untouched. Fix it, "
            f"then run the install again."
        ) from exc
    if not isinstance(data, dict):
        raise StateError(f"{path} does not hold a JSON object; it was left untouched.")
    return data


def _claude() -> str | None:
    return shutil.which("claude")


def _run_claude(*args: str) -> tuple[bool, str]:
    exe = _claude()
    if exe is None:
        return False, "the `claude` command was not found on PATH"
    try:
        proc = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def _drop_handlers(hooks: dict[str, Any], drop: Callable[[object], bool]) -> int:
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


def _mode_of(path: Path) -> int:
    """The mode a file of Claude Code's (settings.json) keeps when we rewrite it: its own, or
    0600 when we make it."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o600


class Installer:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.settings_file = paths.home / "settings.json"
        self.commands_dir = paths.home / "commands"

    # --- manifest ---------------------------------------------------------------------------

    def _manifest(self) -> dict[str, Any]:
        return _read_json(self.paths.install_manifest) or {"files": {}, "hooks": [], "mcp": None}

    def _save_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write(self.paths.install_manifest, json.dumps(manifest, indent=2))

    # --- classic ----------------------------------------------------------------------------

    def install_classic(self) -> dict[str, Any]:
        with file_lock(self.paths.install_manifest):
            manifest = self._manifest()
            notes: list[str] = []
            files = self._install_commands(manifest, notes)
            hooks = self._install_hooks(manifest)
            mcp = self._register_mcp(manifest, notes)
            routine = self._install_routine(manifest)
            self._save_manifest(manifest)
        notes += self.warm_answers()
        return {
            "mode": "classic",
            "commands": files,
            "hooks": hooks,
            "mcp": mcp,
            "routine": routine,
            "warnings": notes,
        }

    def _install_routine(self, manifest: dict[str, Any]) -> str:
        """``~/.claude/routines/handoff.json`` with the defaults, unless one is there: the
        user's own (or edited) routine is never overwritten."""
        target = routines.routine_file(self.paths.home)
        if target.exists():
            return f"{target} (kept as it is)"
        text = routines.default_file_text()
        atomic_write(target, text)
        manifest["routine"] = {str(target): _sha(text)}
        return f"{target} (written with the defaults)"

    def _install_commands(self, manifest: dict[str, Any], notes: list[str]) -> list[str]:
        written = []
        for source in sorted(commands_source().glob("*.md")):
            target = self.commands_dir / CLASSIC_NAMES.get(source.name, source.name)
            text = classic_command_text(source.read_text("utf-8"))
            if target.exists() and str(target) not in manifest["files"]:
                notes.append(f"{target} exists and is not ours; it was left as it is.")
                continue
            atomic_write(target, text)
            manifest["files"][str(target)] = _sha(text)
            written.append(str(target))
        return written

    def _install_hooks(self, manifest: dict[str, Any]) -> list[str]:
        settings = _read_json(self.settings_file)
        hooks = settings.setdefault("hooks", {})
        if not isinstance(hooks, dict):
            raise StateError(
                f"'hooks' in {self.settings_file} is not an object; it was left untouched."
            )
        current = {hook_command(event) for event in HOOK_EVENTS}
        # an earlier install's commands (older forms, another path) are replaced, not kept
        _drop_handlers(hooks, lambda c: is_our_hook(c) and c not in current)
        added = []
        for event in HOOK_EVENTS:
            command = hook_command(event)
            groups = hooks.setdefault(event, [])
            present = any(
                h.get("command") == command
                for g in groups
                for h in g.get("hooks", [])
                if isinstance(h, dict)
            )
            if not present:
                groups.append({"hooks": [{"type": "command", "command": command, "timeout": 10}]})
            added.append(event)
        manifest["hooks"] = sorted(current)
        atomic_write(
            self.settings_file,
            json.dumps(settings, indent=2) + "\n",
            mode=_mode_of(self.settings_file),
        )
        return added

    def _register_mcp(self, manifest: dict[str, Any], notes: list[str]) -> str:
        command = entry_command("mcp")
        add = ("mcp", "add", "--scope", "user", SERVER_NAME, "--", *command)
        ok, out = _run_claude(*add)
        if not ok and "already exists" in out:
            if manifest.get("mcp") != SERVER_NAME:
                notes.append(
                    f"An MCP server named '{SERVER_NAME}' is already registered and "
                    f"was left as it is. If it is an older claude-session's, run "
                    f"`claude mcp remove --scope user {SERVER_NAME}` and install again."
                )
                return "not registered"
            # ours from an earlier install, maybe in the seed's form `python -m
            # claude_session.cli mcp` (which ran a claude_session/ from the project folder):
            # registered again as today's. (`claude mcp get` would start the old command.)
            _run_claude("mcp", "remove", "--scope", "user", SERVER_NAME)
            ok, out = _run_claude(*add)
        if ok:
            manifest["mcp"] = SERVER_NAME
            return f"registered as '{SERVER_NAME}' (user scope)"
        notes.append(
            f"The MCP server was not registered ({out}). Register it by hand: "
            f"claude mcp add --scope user {SERVER_NAME} -- {shlex.join(command)}"
        )
        return "not registered"

    # --- status line (either mode) ---------------------------------------------------------

    def install_statusline(self, *, plugin: bool) -> dict[str, Any]:
        """Set ``statusLine`` to ours unless the user has one; what happened and any note."""
        command = statusline_command(plugin=plugin)
        with file_lock(self.paths.install_manifest):
            manifest = self._manifest()
            settings = _read_json(self.settings_file)
            current = settings.get("statusLine")
            if current is not None and not is_our_statusline(current):
                return {
                    "statusline": "not set (you have one)",
                    "warnings": [combine_hint(current, command)],
                }
            ours = {"type": "command", "command": command, "padding": 0}
            state = "already set" if current == ours else "set"
            if current != ours:
                settings["statusLine"] = ours
                atomic_write(
                    self.settings_file,
                    json.dumps(settings, indent=2) + "\n",
                    mode=_mode_of(self.settings_file),
                )
            manifest["statusline"] = command
            self._save_manifest(manifest)
        return {"statusline": f"{state}: {command}", "warnings": []}

    def _remove_statusline(self, manifest: dict[str, Any]) -> str | None:
        """Remove our ``statusLine`` while it is still ours (the user's settings stay)."""
        recorded = manifest.pop("statusline", None)
        if recorded is None or not self.settings_file.exists():
            return None
        settings = _read_json(self.settings_file)
        current = settings.get("statusLine")
        if not is_our_statusline(current):
            return "left as it is (changed since the install)"
        del settings["statusLine"]
        atomic_write(
            self.settings_file,
            json.dumps(settings, indent=2) + "\n",
            mode=_mode_of(self.settings_file),
        )
        return "removed"

    def uninstall(self) -> dict[str, Any]:
        with file_lock(self.paths.install_manifest):
            manifest = self._manifest()
            notes: list[str] = []
            removed = self._remove_commands(manifest, notes)
            removed += self._remove_commands({"files": manifest.get("routine") or {}}, notes)
            hooks = self._remove_hooks(manifest)
            statusline = self._remove_statusline(manifest)
            mcp = None
            if manifest.get("mcp"):
                ok, out = _run_claude("mcp", "remove", "--scope", "user", manifest["mcp"])
                mcp = "removed" if ok else f"not removed ({out})"
                if not ok:
                    notes.append(
                        f"Remove the MCP server by hand: claude mcp remove --scope "
                        f"user {manifest['mcp']}"
                    )
            self.paths.install_manifest.unlink(missing_ok=True)
        return {
            "removed_commands": removed,
            "removed_hooks": hooks,
            "mcp": mcp,
            "statusline": statusline,
            "warnings": notes,
        }

    def _remove_commands(self, manifest: dict[str, Any], notes: list[str]) -> list[str]:
        removed = []
        for name, digest in manifest.get("files", {}).items():
            path = Path(name)
            if not path.exists():
                continue
            if _sha(path.read_text("utf-8")) != digest:
                notes.append(f"{path} was edited since the install; it was kept.")
                continue
            path.unlink()
            removed.append(name)
        return removed

    def _remove_hooks(self, manifest: dict[str, Any]) -> int:
        ours = set(manifest.get("hooks", []))
        if not self.settings_file.exists():
            return 0
        settings = _read_json(self.settings_file)
        hooks = settings.get("hooks")
        if not isinstance(hooks, dict):
            return 0
        count = _drop_handlers(hooks, lambda c: c in ours or is_our_hook(c))
        if count == 0:
            return 0
        if not hooks:
            del settings["hooks"]
        atomic_write(
            self.settings_file,
            json.dumps(settings, indent=2) + "\n",
            mode=_mode_of(self.settings_file),
        )
        return count

    # --- plugin -----------------------------------------------------------------------------

    @property
    def plugin_dir(self) -> Path:
        """The plugin copy that ``install`` writes and Claude Code installs from."""
        return self.paths.data / "plugin"

    def write_plugin(self) -> Path:
        """The plugin under ``plugin_dir`` from this install's files: manifest, marketplace and
        commands as shipped; hooks and the MCP server as commands that run this package."""
        source = plugin_source()
        target = self.plugin_dir
        if target.exists():
            shutil.rmtree(target)
        for name in (".claude-plugin/plugin.json", ".claude-plugin/marketplace.json"):
            atomic_write(target / name, (source / name).read_text("utf-8"))
        for command in sorted((source / "commands").glob("*.md")):
            atomic_write(target / "commands" / command.name, command.read_text("utf-8"))
        hooks = _read_json(source / "hooks" / "hooks.json")
        for event, groups in hooks.get("hooks", {}).items():
            for group in groups:
                for handler in group.get("hooks", []):
                    handler["command"] = hook_command(event)
        atomic_write(target / "hooks" / "hooks.json", json.dumps(hooks, indent=2) + "\n")
        python, *args = entry_command("mcp")
        mcp = {
            "mcpServers": {
                SERVER_NAME: {"type": "stdio", "command": python, "args": args, "env": {}}
            }
        }
        atomic_write(target / ".mcp.json", json.dumps(mcp, indent=2) + "\n")
        return target

    def install_plugin(self) -> dict[str, Any]:
        with file_lock(self.paths.install_manifest):
            folder = self.write_plugin()
            warnings = self.warm_answers()  # also for a plugin used with --plugin-dir
            # an earlier install (another path, another interpreter, the checkout) goes first:
            # Claude Code keeps its own copy of an installed plugin
            _run_claude("plugin", "uninstall", PLUGIN)
            _run_claude("plugin", "marketplace", "remove", MARKETPLACE)
            for step in (
                ("plugin", "marketplace", "add", str(folder)),
                ("plugin", "install", PLUGIN),
            ):
                ok, out = _run_claude(*step)
                if not ok:
                    raise ClaudeSessionError(
                        f"`claude {' '.join(step)}` failed: {out}. The plugin is ready in "
                        f"{folder}: start Claude Code with `claude --plugin-dir {folder}`, or "
                        f"fix the above and run `claude-session install` again."
                    )
        return {
            "mode": "plugin",
            "marketplace": str(folder),
            "plugin": PLUGIN,
            "runs": entry_command()[0],
            "warnings": warnings,
        }

    def warm_answers(self) -> list[str]:
        """The MCP server's answers to a connecting client, made now so that the first session
        offers its tools at once (``mcp_front.warm``); a note when they could not be made."""
        from claude_session.edges.mcp import front as mcp_front

        problems = mcp_front.warm(entry_command("mcp"), cwd=ensure_dir(self.paths.data))
        if not problems:
            return []
        return [
            "The MCP server's start-up answers were not prepared ("
            + "; ".join(problems)
            + "): the first session may lack its tools in its first turn; later ones won't."
        ]

    def uninstall_plugin(self) -> dict[str, Any]:
        with file_lock(self.paths.install_manifest):
            ok, out = _run_claude("plugin", "uninstall", PLUGIN)
            market_ok, market_out = _run_claude("plugin", "marketplace", "remove", MARKETPLACE)
            notes = []
            if _claude() is None:
                notes.append(
                    f"`claude` is not on PATH: if the plugin is still installed, run "
                    f"`claude plugin uninstall {PLUGIN}` and `claude plugin "
                    f"marketplace remove {MARKETPLACE}`."
                )
            else:
                if not ok and "not found" not in out:
                    notes.append(
                        f"The plugin was not removed ({out}): run `claude plugin "
                        f"uninstall {PLUGIN}`."
                    )
                if not market_ok and "not found" not in market_out:
                    notes.append(
                        f"The marketplace was not removed ({market_out}): run "
                        f"`claude plugin marketplace remove {MARKETPLACE}`."
                    )
            if self.plugin_dir.exists():
                shutil.rmtree(self.plugin_dir)
            manifest = self._manifest()
            statusline = self._remove_statusline(manifest)
            if statusline is not None:
                self._save_manifest(manifest)
        return {
            "mode": "plugin",
            "removed": ok,
            "detail": out,
            "warnings": notes,
            "statusline": statusline,
        }
