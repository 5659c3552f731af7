"""``claude-session doctor``: check what claude-session depends on and say what to fix.

It contacts the tracker and the vault (each within ``TIME_LIMIT`` seconds; 1Password within its
own ``op_deadline`` setting when that is longer), checks that Claude Code is wired (the plugin
installed, or the classic hooks in the user settings) and that the hand-off routine file and the
environment's settings can be used. Every problem says what to do; any problem makes the status
``problems`` (exit code 1).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from claude_session.base import routines
from claude_session.core.facade import Core
from claude_session.errors import ClaudeSessionError
from claude_session.models import Model
from claude_session.paths import ensure_dir

TIME_LIMIT = 5.0  # seconds for each service contacted


class Check(Model):
    """One thing doctor looked at: fine, or what is wrong and how to fix it."""

    check: str
    ok: bool
    detail: str
    fix: str = ""


class DoctorResult(Model):
    status: Literal["ok", "problems"]
    checks: list[Check]


def _check(name: str, ok: bool, detail: str, fix: str = "") -> Check:
    return Check(check=name, ok=ok, detail=detail, fix="" if ok else fix)


def _git() -> Check:
    exe = shutil.which("git")
    if exe is None:
        return _check("git", False, "git not found", "Install git and put it on PATH.")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return _check("git", True, out.stdout.strip())


def _claude() -> Check:
    exe = shutil.which("claude")
    if exe is None:
        return _check(
            "claude",
            False,
            "Claude Code not found on PATH",
            "Install Claude Code (npm install -g @anthropic-ai/claude-code).",
        )
    try:
        out = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return _check("claude", False, str(exc), "Reinstall Claude Code.")
    return _check("claude", True, out or exe)


def _home(core: Core) -> Check:
    home = core.paths.home
    try:
        ensure_dir(home)
        probe = home / ".claude-session-doctor"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return _check(
            "state folder",
            False,
            f"{home}: {exc.strerror}",
            "Make it writable or set CLAUDE_CONFIG_DIR to a writable folder.",
        )
    corrupt = sorted(p.name for p in home.rglob("*.corrupt-*"))[:5]
    detail = str(home) + (f"; files moved aside earlier: {', '.join(corrupt)}" if corrupt else "")
    return _check("state folder", True, detail)


def _within(limit: float, work: Callable[[], str]) -> str:
    """``work()``'s answer, or a TimeoutError after ``limit`` seconds (the work is left to
    finish in a daemon thread: the process does not wait for it)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["answer"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, name="doctor-check", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {limit:g} s")
    if "error" in box:
        raise box["error"]
    return str(box["answer"])


def _tracker(core: Core, limit: float) -> Check:
    tracker = core.tracker
    waiting = f"; {core.delivery.depth()} record(s) waiting to be sent"
    if tracker.kind != "remote":
        return _check("tracker", True, f"{tracker.description}{waiting}")
    problem = getattr(tracker, "problem", None)
    if problem is not None:  # the URL itself is unusable
        return _check(
            "tracker",
            False,
            str(problem),
            "Fix CLAUDE_SESSION_TRACKER_URL (http:// or https:// and the tracker's "
            "address), or unset it to use the local tracker.",
        )

    def probe() -> str:
        tracker.check(budget=limit)  # one read with the key, no retry
        return "answered"

    try:
        _within(limit + 1, probe)
    except ClaudeSessionError as exc:
        return _check("tracker", False, str(exc), _tracker_fix(exc))
    except (TimeoutError, OSError) as exc:
        return _check(
            "tracker",
            False,
            f"The {tracker.description} did not answer ({exc}).",
            "Start the tracker or fix CLAUDE_SESSION_TRACKER_URL; records wait in "
            "the outbox meanwhile.",
        )
    return _check("tracker", True, f"{tracker.description} answered and took the key{waiting}")


def _tracker_fix(exc: ClaudeSessionError) -> str:
    from claude_session.errors import TrackerAuthError, TrackerUnavailable

    if isinstance(exc, TrackerAuthError):
        return (
            "Set CLAUDE_SESSION_TRACKER_TOKEN to a key of this tracker (`claude-session "
            "tracker token create --user NAME` where the tracker runs)."
        )
    if isinstance(exc, TrackerUnavailable):
        return (
            "Start the tracker (`claude-session tracker serve` where it runs) or fix "
            "CLAUDE_SESSION_TRACKER_URL; records wait in the outbox meanwhile."
        )
    return "Check CLAUDE_SESSION_TRACKER_URL and the tracker's logs."


def _vault(core: Core, limit: float) -> Check:
    vault = core.vault
    if vault.kind != "1password":
        try:
            vault.check()
        except ClaudeSessionError as exc:  # 1Password configured but unusable here
            return _check("vault", False, f"{vault.description}: {exc}", str(exc))
        return _check(
            "vault", True, f"{vault.description} (set OP_SERVICE_ACCOUNT_TOKEN for 1Password)"
        )
    # the vault keeps to its own deadline (measured on a slow link, L7)
    limit = max(limit, vault.deadline() or core.settings.op_deadline)
    try:
        count = _within(limit + 1, lambda: str(vault.count_items()))
    except ClaudeSessionError as exc:
        # The message names the cause and its fix (a rate limit, the desktop app, the token,
        # the vault): a hint chosen by the error's class contradicted it (N11).
        return _check(
            "vault",
            False,
            str(exc),
            _what_to_do(str(exc))
            + " Hand-offs and answers wait locally meanwhile (`claude-session sync` sends them).",
        )
    except (TimeoutError, OSError) as exc:
        return _check(
            "vault",
            False,
            f"{vault.description} did not answer ({exc}).",
            "Check the network and 1Password's status, then run doctor again.",
        )
    return _check("vault", True, f"{vault.description} answered; {count} ClaudeSync item(s)")


def _what_to_do(message: str) -> str:
    """The sentences of a vault error after the first (which says what failed): its fix."""
    sentences = re.split(r"(?<=[.)])\s+(?=[A-Z`])", message.strip(), maxsplit=1)
    return sentences[1] if len(sentences) > 1 else message


def _wiring(core: Core, claude_found: bool) -> Check:
    """Claude Code runs our hooks and MCP server: as the plugin, or the classic install."""
    from claude_session.edges.wiring import HOOK_EVENTS, PLUGIN, is_our_hook

    if core.settings.plugin_root:
        return _check("wired", True, f"running as the plugin ({core.settings.plugin_root})")
    settings_file = core.paths.home / "settings.json"
    found: set[str] = set()
    try:
        hooks = json.loads(settings_file.read_text("utf-8")).get("hooks", {})
        for event, groups in hooks.items():
            for group in groups:
                if any(is_our_hook(h.get("command")) for h in group.get("hooks", [])):
                    found.add(event)
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    if found >= set(HOOK_EVENTS):
        return _check("wired", True, f"classic install (hooks in {settings_file})")
    if claude_found and PLUGIN in _claude_plugins():
        return _check("wired", True, f"plugin {PLUGIN} installed")
    detail = (
        f"classic hooks missing for {', '.join(sorted(set(HOOK_EVENTS) - found))}"
        if found
        else "neither the plugin nor the classic hooks are installed"
    )
    return _check(
        "wired",
        False,
        f"Claude Code is not wired to claude-session: {detail}",
        "Run `claude-session install` (the plugin) or `claude-session install "
        "--classic`; `claude --plugin-dir PATH` sessions are not seen here.",
    )


def _claude_plugins() -> str:
    exe = shutil.which("claude")
    if exe is None:
        return ""
    try:
        return subprocess.run(
            [exe, "plugin", "list"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _routine(core: Core) -> Check:
    routine = routines.load(core.paths.home)
    if routine.problems:
        return _check(
            "routine",
            False,
            " ".join(routine.problems),
            f"Fix {routine.source} (see the README's hand-off routine), or delete it.",
        )
    where = str(routine.source) if routine.source else "built-in defaults"
    return _check("routine", True, f"hand-off routine: {where}")


def _settings(core: Core) -> Check:
    problems = core.settings.problems
    if problems:
        return _check(
            "settings",
            False,
            " ".join(problems),
            "Fix the environment variable named above (see the README's Environment table).",
        )
    return _check(
        "settings",
        True,
        f"environment usable; 1Password gets {core.settings.op_deadline:g} s per command",
    )


def _project_servers(cwd: str | Path) -> Check:
    """N36: a project ``.mcp.json`` server that would get claude-session's tool names."""
    from claude_session.base import gitread, projectmcp
    from claude_session.paths import real_path

    folder = Path(real_path(str(cwd)))
    head = gitread.git_head(folder)
    found = projectmcp.collisions(folder, head[0] if head else None)
    if found:
        return _check(
            "project MCP servers",
            False,
            f"{found[0][0]} declares a server named {found[0][1]!r}, with claude-session's tool "
            f"names",
            "Remove that server from the file (or rename it), and do not approve it in Claude "
            "Code: its answers could pass for claude-session's.",
        )
    return _check("project MCP servers", True, "none takes claude-session's tool names")


def run_checks(core: Core, cwd: str | Path, *, time_limit: float = TIME_LIMIT) -> DoctorResult:
    claude = _claude()
    checks = [
        _check(
            "python",
            sys.version_info >= (3, 10),
            sys.version.split()[0],
            "Use Python 3.10 or newer.",
        ),
        _git(),
        claude,
        _wiring(core, claude.ok),
        _home(core),
        _routine(core),
        _settings(core),
        _project_servers(cwd),
        _vault(core, time_limit),
        _tracker(core, time_limit),
    ]
    failed = [c for c in checks if not c.ok]
    return DoctorResult(status="problems" if failed else "ok", checks=checks)
