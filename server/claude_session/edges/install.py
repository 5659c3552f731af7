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

import json
import shlex
import shutil
from pathlib import Path
from typing import Any, Literal

from claude_session.base import routines
from claude_session.base.statefile import atomic_write, file_lock
from claude_session.edges.wiring import (
    CLASSIC_NAMES,
    HOOK_EVENTS,
    MARKETPLACE,
    PLUGIN,
    SERVER_NAME,
    classic_command_text,
    claude,
    combine_hint,
    commands_source,
    drop_handlers,
    entry_command,
    hook_command,
    installed_command_text,
    is_our_hook,
    is_our_statusline,
    plugin_source,
    read_json,
    run_claude,
    sha,
    statusline_command,
    write_settings,
)
from claude_session.errors import ClaudeSessionError, StateError
from claude_session.models import Model
from claude_session.paths import Paths, ensure_dir


class ClassicInstall(Model):
    mode: Literal["classic"] = "classic"
    commands: list[str]
    hooks: list[str]
    mcp: str
    routine: str
    statusline: str | None = None
    warnings: list[str]


class PluginInstall(Model):
    mode: Literal["plugin"] = "plugin"
    marketplace: str
    plugin: str
    runs: str
    statusline: str | None = None
    warnings: list[str]


class StatuslineInstall(Model):
    statusline: str
    warnings: list[str]


class ClassicUninstall(Model):
    removed_commands: list[str]
    removed_hooks: int
    mcp: str | None
    statusline: str | None
    warnings: list[str]


class PluginUninstall(Model):
    mode: Literal["plugin"] = "plugin"
    removed: bool
    detail: str
    statusline: str | None
    warnings: list[str]


class Installer:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.settings_file = paths.home / "settings.json"
        self.commands_dir = paths.home / "commands"

    # --- manifest ---------------------------------------------------------------------------

    def _manifest(self) -> dict[str, Any]:
        return read_json(self.paths.install_manifest) or {"files": {}, "hooks": [], "mcp": None}

    def _save_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write(self.paths.install_manifest, json.dumps(manifest, indent=2))

    # --- classic ----------------------------------------------------------------------------

    def install_classic(self) -> ClassicInstall:
        with file_lock(self.paths.install_manifest):
            manifest = self._manifest()
            self._note_created(manifest)
            notes: list[str] = []
            files = self._install_commands(manifest, notes)
            hooks = self._install_hooks(manifest)
            mcp = self._register_mcp(manifest, notes)
            routine = self._install_routine(manifest)
            self._save_manifest(manifest)
        notes += self.warm_answers()
        return ClassicInstall(commands=files, hooks=hooks, mcp=mcp, routine=routine, warnings=notes)

    def _note_created(self, manifest: dict[str, Any]) -> None:
        """Remember the folders and the settings file that this install brings into being, so
        that ``uninstall`` removes them again when they hold nothing else."""
        created = manifest.setdefault("created", [])
        made = routines.routine_file(self.paths.home).parent
        for path in (self.commands_dir, made, self.settings_file):
            if not path.exists() and not path.is_symlink() and str(path) not in created:
                created.append(str(path))

    def _remove_created(self, manifest: dict[str, Any]) -> None:
        """Remove what the install brought into being and now holds nothing of the user's: an
        empty folder, a settings file that is just ``{}``."""
        for name in manifest.get("created") or []:
            path = Path(name)
            if path.is_symlink():  # the person's own link (dotfiles) since: theirs to keep
                continue
            if path == self.settings_file:
                if path.is_file() and read_json(path) == {}:
                    path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()

    def _install_routine(self, manifest: dict[str, Any]) -> str:
        """``~/.claude/routines/handoff.json`` with the defaults, unless one is there: the
        user's own (or edited) routine is never overwritten."""
        target = routines.routine_file(self.paths.home)
        if target.exists():
            return f"{target} (kept as it is)"
        text = routines.default_file_text()
        atomic_write(target, text)
        manifest["routine"] = {str(target): sha(text)}
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
            manifest["files"][str(target)] = sha(text)
            written.append(str(target))
        return written

    def _install_hooks(self, manifest: dict[str, Any]) -> list[str]:
        settings = read_json(self.settings_file)
        hooks = settings.setdefault("hooks", {})
        if not isinstance(hooks, dict):
            raise StateError(
                f"'hooks' in {self.settings_file} is not an object; it was left untouched."
            )
        current = {hook_command(event) for event in HOOK_EVENTS}
        # an earlier install's commands (older forms, another path) are replaced, not kept
        drop_handlers(hooks, lambda c: is_our_hook(c) and c not in current)
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
        write_settings(self.settings_file, settings)
        return added

    def _register_mcp(self, manifest: dict[str, Any], notes: list[str]) -> str:
        command = entry_command("mcp")
        # alwaysLoad: the tools are in every request, never deferred behind tool search
        server = {"type": "stdio", "command": command[0], "args": command[1:], "alwaysLoad": True}
        add = ("mcp", "add-json", "--scope", "user", SERVER_NAME, json.dumps(server))
        ok, out = run_claude(*add)
        if not ok and "already exists" in out:
            if manifest.get("mcp") != SERVER_NAME:
                notes.append(
                    f"An MCP server named '{SERVER_NAME}' is already registered and "
                    f"was left as it is. If it is an older claude-session's, run "
                    f"`claude mcp remove --scope user {SERVER_NAME}` and install again."
                )
                return "not registered"
            # ours from an earlier install (perhaps from another place): registered again as
            # today's. (`claude mcp get` would start the old command.)
            run_claude("mcp", "remove", "--scope", "user", SERVER_NAME)
            ok, out = run_claude(*add)
        if ok:
            manifest["mcp"] = SERVER_NAME
            return f"registered as '{SERVER_NAME}' (user scope)"
        notes.append(
            f"The MCP server was not registered ({out}). Register it by hand: "
            f"claude mcp add --scope user {SERVER_NAME} -- {shlex.join(command)}"
        )
        return "not registered"

    # --- status line (either mode) ---------------------------------------------------------

    def install_statusline(self, *, plugin: bool) -> StatuslineInstall:
        """Set ``statusLine`` to ours unless the user has one; what happened and any note."""
        command = statusline_command(plugin=plugin)
        with file_lock(self.paths.install_manifest):
            manifest = self._manifest()
            settings = read_json(self.settings_file)
            current = settings.get("statusLine")
            if current is not None and not is_our_statusline(current):
                return StatuslineInstall(
                    statusline="not set (you have one)", warnings=[combine_hint(current, command)]
                )
            ours = {"type": "command", "command": command, "padding": 0}
            state = "already set" if current == ours else "set"
            if current != ours:
                settings["statusLine"] = ours
                write_settings(self.settings_file, settings)
            manifest["statusline"] = command
            self._save_manifest(manifest)
        return StatuslineInstall(statusline=f"{state}: {command}", warnings=[])

    def _remove_statusline(self, manifest: dict[str, Any]) -> str | None:
        """Remove our ``statusLine`` while it is still ours (the user's settings stay)."""
        recorded = manifest.pop("statusline", None)
        if recorded is None or not self.settings_file.exists():
            return None
        settings = read_json(self.settings_file)
        current = settings.get("statusLine")
        if not is_our_statusline(current):
            return "left as it is (changed since the install)"
        del settings["statusLine"]
        write_settings(self.settings_file, settings)
        return "removed"

    def uninstall(self) -> ClassicUninstall:
        with file_lock(self.paths.install_manifest):
            manifest = self._manifest()
            notes: list[str] = []
            removed = self._remove_commands(manifest, notes)
            removed += self._remove_commands({"files": manifest.get("routine") or {}}, notes)
            hooks = self._remove_hooks(manifest)
            statusline = self._remove_statusline(manifest)
            mcp = None
            if manifest.get("mcp"):
                ok, out = run_claude("mcp", "remove", "--scope", "user", manifest["mcp"])
                mcp = "removed" if ok else f"not removed ({out})"
                if not ok:
                    notes.append(
                        f"Remove the MCP server by hand: claude mcp remove --scope "
                        f"user {manifest['mcp']}"
                    )
            self._remove_created(manifest)
            self.paths.install_manifest.unlink(missing_ok=True)
        return ClassicUninstall(
            removed_commands=removed,
            removed_hooks=hooks,
            mcp=mcp,
            statusline=statusline,
            warnings=notes,
        )

    def _remove_commands(self, manifest: dict[str, Any], notes: list[str]) -> list[str]:
        removed = []
        for name, digest in manifest.get("files", {}).items():
            path = Path(name)
            if not path.exists():
                continue
            if sha(path.read_text("utf-8")) != digest:
                notes.append(f"{path} was edited since the install; it was kept.")
                continue
            path.unlink()
            removed.append(name)
        return removed

    def _remove_hooks(self, manifest: dict[str, Any]) -> int:
        ours = set(manifest.get("hooks", []))
        if not self.settings_file.exists():
            return 0
        settings = read_json(self.settings_file)
        hooks = settings.get("hooks")
        if not isinstance(hooks, dict):
            return 0
        count = drop_handlers(hooks, lambda c: c in ours or is_our_hook(c))
        if count == 0:
            return 0
        if not hooks:
            del settings["hooks"]
        write_settings(self.settings_file, settings)
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
            text = installed_command_text(command.read_text("utf-8"))
            atomic_write(target / "commands" / command.name, text)
        hooks = read_json(source / "hooks" / "hooks.json")
        for event, groups in hooks.get("hooks", {}).items():
            for group in groups:
                for handler in group.get("hooks", []):
                    handler["command"] = hook_command(event)
        atomic_write(target / "hooks" / "hooks.json", json.dumps(hooks, indent=2) + "\n")
        python, *args = entry_command("mcp")
        mcp = {
            "mcpServers": {
                # alwaysLoad: the tools are in every request, never deferred behind tool search,
                # so a command calls its tool without a tool-loading round trip (2.1.2xx+)
                SERVER_NAME: {
                    "type": "stdio",
                    "command": python,
                    "args": args,
                    "env": {},
                    "alwaysLoad": True,
                }
            }
        }
        atomic_write(target / ".mcp.json", json.dumps(mcp, indent=2) + "\n")
        return target

    def install_plugin(self) -> PluginInstall:
        with file_lock(self.paths.install_manifest):
            folder = self.write_plugin()
            warnings = self.warm_answers()  # also for a plugin used with --plugin-dir
            # an earlier install (another path, another interpreter, the checkout) goes first:
            # Claude Code keeps its own copy of an installed plugin
            run_claude("plugin", "uninstall", PLUGIN)
            run_claude("plugin", "marketplace", "remove", MARKETPLACE)
            for step in (
                ("plugin", "marketplace", "add", str(folder)),
                ("plugin", "install", PLUGIN),
            ):
                ok, out = run_claude(*step)
                if not ok:
                    raise ClaudeSessionError(
                        f"`claude {' '.join(step)}` failed: {out}. The plugin is ready in "
                        f"{folder}: start Claude Code with `claude --plugin-dir {folder}`, or "
                        f"fix the above and run `claude-session install` again."
                    )
        return PluginInstall(
            marketplace=str(folder), plugin=PLUGIN, runs=entry_command()[0], warnings=warnings
        )

    def warm_answers(self) -> list[str]:
        """The MCP server's answers to a connecting client, made now so that the first session
        offers its tools at once (``edges.mcp.front.warm``); a note when they could not be made."""
        from claude_session.edges.mcp import front

        problems = front.warm(entry_command("mcp"), cwd=ensure_dir(self.paths.data))
        if not problems:
            return []
        return [
            "The MCP server's start-up answers were not prepared ("
            + "; ".join(problems)
            + "): the first session may lack its tools in its first turn; later ones won't."
        ]

    def uninstall_plugin(self) -> PluginUninstall:
        with file_lock(self.paths.install_manifest):
            ok, out = run_claude("plugin", "uninstall", PLUGIN)
            market_ok, market_out = run_claude("plugin", "marketplace", "remove", MARKETPLACE)
            notes = []
            if claude() is None:
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
        return PluginUninstall(removed=ok, detail=out, statusline=statusline, warnings=notes)
