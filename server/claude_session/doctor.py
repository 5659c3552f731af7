"""``claude-session doctor``: check what claude-session depends on and say what to fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from claude_session.errors import ClaudeSessionError
from claude_session.lifecycle import Core
from claude_session.paths import ensure_dir


def _check(name: str, ok: bool, detail: str, fix: str = "") -> dict[str, Any]:
    return {"check": name, "ok": ok, "detail": detail, "fix": "" if ok else fix}


def _git() -> dict[str, Any]:
    exe = shutil.which("git")
    if exe is None:
        return _check("git", False, "git not found", "Install git and put it on PATH.")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return _check("git", True, out.stdout.strip())


def _claude() -> dict[str, Any]:
    exe = shutil.which("claude")
    if exe is None:
        return _check("claude", False, "Claude Code not found on PATH",
                      "Install Claude Code (npm install -g @anthropic-ai/claude-code).")
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20,
                             check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return _check("claude", False, str(exc), "Reinstall Claude Code.")
    return _check("claude", True, out or exe)


def _home(core: Core) -> dict[str, Any]:
    home = core.paths.home
    try:
        ensure_dir(home)
        probe = home / ".claude-session-doctor"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return _check("state folder", False, f"{home}: {exc.strerror}",
                      "Make it writable or set CLAUDE_CONFIG_DIR to a writable folder.")
    corrupt = sorted(p.name for p in home.rglob("*.corrupt-*"))[:5]
    detail = str(home) + (f"; files moved aside earlier: {', '.join(corrupt)}" if corrupt else "")
    return _check("state folder", True, detail)


def _backend(name: str, describe: Any) -> dict[str, Any]:
    try:
        return _check(name, True, str(describe()))
    except ClaudeSessionError as exc:
        return _check(name, False, str(exc), str(exc))


def run_checks(core: Core, cwd: str | Path) -> dict[str, Any]:
    checks = [
        _check("python", sys.version_info >= (3, 10), sys.version.split()[0],
               "Use Python 3.10 or newer."),
        _git(), _claude(), _home(core),
        _backend("vault", lambda: core.vault.check()),
        _backend("tracker", lambda: f"{core.tracker.description}; "
                                    f"{core.delivery.depth()} record(s) waiting"),
    ]
    failed = [c for c in checks if not c["ok"] and c["check"] != "claude"]
    return {"status": "problems" if failed else "ok", "checks": checks}
