#!/usr/bin/env python3
"""Start the claude-session MCP server from a plugin checkout, finding or making its environment.

Standard library only. In order:
1. the Python running this script, if it can import the runtime dependencies (the user ran the
   README's install command, or a virtualenv is active);
2. a virtualenv under ``$CLAUDE_PLUGIN_DATA/venv`` (or ``~/.claude/claude-session/venv``),
   made once, remade when ``pyproject.toml`` changes. The install runs in a detached process,
   so it finishes even when Claude Code gives up waiting for the server the first time.
The package code itself always comes from this checkout's ``server/`` folder.
Usage: ``launch_mcp.py [--prepare]`` (``--prepare`` only makes the environment, in the background).

Claude Code starts this in the project folder, which may be a stranger's clone: every Python this
launcher runs gets ``-I`` (no working directory or ``PYTHON*`` variables on ``sys.path``) and,
except the server itself (which works on the project), runs in the data folder, so a ``venv.py``,
``pip.py`` or ``claude_session/`` in the project is never imported.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import subprocess

SERVER = Path(__file__).resolve().parent
ROOT = SERVER.parent
DEPS_PROBE = ("mcp", "pydantic", "httpx", "git", "onepassword")
WAIT_SECONDS = 25.0


def say(message: str) -> None:
    sys.stderr.write(f"claude-session: {message}\n")
    sys.stderr.flush()


def data_dir() -> Path:
    plugin_data = os.environ.get("CLAUDE_PLUGIN_DATA")
    if plugin_data:
        return Path(plugin_data)
    config = os.environ.get("CLAUDE_CONFIG_DIR") or str(Path.home() / ".claude")
    return Path(config.split(",")[0]) / "claude-session"


def dependencies() -> list[str]:
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
    return re.findall(r'"([^"]+)"', block.group(1)) if block else []


def stamp() -> str:
    import hashlib  # this and subprocess only when the venv is checked or made

    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def add_user_site() -> None:
    """Under ``-I`` (how the plugin starts this), the user's site-packages, where a
    ``pip install --user`` put the dependencies, as a plain run of this Python would have it."""
    import site

    if sys.flags.isolated and sys.prefix == sys.base_prefix:
        user_site = site.getusersitepackages()
        if os.path.isdir(user_site):
            site.addsitedir(user_site)


def have_deps() -> bool:
    """Whether this Python has the runtime dependencies: found, not imported (importing them
    all here would add most of a second to the server's start, before ``initialize``)."""
    from importlib.util import find_spec

    try:
        return all(find_spec(name) is not None for name in DEPS_PROBE)
    except (ImportError, ValueError):
        return False


def venv_ready(venv: Path) -> bool:
    try:
        return (venv / ".claude-session-stamp").read_text().strip() == stamp()
    except OSError:
        return False


def make_private_dir(folder: Path) -> None:
    """``folder`` and its missing parents, each 0700 (an existing one keeps its mode)."""
    missing = []
    while not folder.is_dir() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        try:
            os.mkdir(made, 0o700)
        except FileExistsError:
            continue
        os.chmod(made, 0o700)


def open_private(path: Path, flags: int) -> int:
    """Our own file ``path`` (0600), never opened through a symbolic link."""
    return os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)


def _lock(fd: int) -> None:
    """Wait for an exclusive lock on ``fd``: the package's own lock interface (standard library
    only, importable before the venv exists)."""
    if str(SERVER) not in sys.path:
        sys.path.insert(0, str(SERVER))
    from claude_session.base import locking

    locking.lock(fd)


def prepare(venv: Path) -> int:
    """Make the venv (under a lock so two starts don't race). Runs detached, in the data folder."""
    import subprocess

    make_private_dir(venv.parent)
    log = os.fdopen(
        open_private(venv.parent / "venv-install.log", os.O_WRONLY | os.O_APPEND),
        "a",
        encoding="utf-8",
    )
    with log, os.fdopen(open_private(venv.parent / ".venv.lock", os.O_RDWR), "r+") as lock:
        _lock(lock.fileno())
        if venv_ready(venv):
            return 0
        steps = [
            [sys.executable, "-I", "-m", "venv", "--clear", str(venv)],
            [
                str(venv_python(venv)),
                "-I",
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *dependencies(),
            ],
        ]
        for step in steps:
            log.write(f"$ {' '.join(step)}\n")
            log.flush()
            done = subprocess.run(
                step, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=venv.parent, check=False
            )
            if done.returncode != 0:
                log.write("failed\n")
                return 1
        (venv / ".claude-session-stamp").write_text(stamp())
        # the server's answers made now, as the server will run: the first session's tools are
        # then offered at once (a first start that gave up waiting never made them)
        from claude_session.edges.mcp import front as mcp_front

        python = str(venv_python(venv))
        command = [python, "-I", str(SERVER / "claude_session" / "__main__.py"), "mcp"]
        for problem in mcp_front.warm(command, cwd=venv.parent):
            log.write(f"MCP answers not prepared: {problem}\n")
    return 0


def start_prepare_detached(venv: Path) -> subprocess.Popen[bytes]:
    import subprocess

    make_private_dir(venv.parent)
    return subprocess.Popen(
        [sys.executable, "-I", str(Path(__file__).resolve()), "--prepare"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=venv.parent,
        start_new_session=True,
    )


def run_here() -> int:
    sys.path.insert(0, str(SERVER))
    from claude_session.edges.mcp.front import serve  # not the CLI: its parser imports the tracker

    serve()
    return 0


def main(argv: list[str]) -> int:
    venv = data_dir() / "venv"
    if argv[1:2] == ["--prepare"]:
        return prepare(venv)
    add_user_site()
    if have_deps():
        return run_here()
    if not venv_ready(venv):
        say(f"preparing its Python environment in {venv} (first start only)...")
        proc = start_prepare_detached(venv)
        deadline = time.monotonic() + WAIT_SECONDS
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if not venv_ready(venv):
            say(
                f"the environment is not ready yet (log: {venv.parent / 'venv-install.log'}). "
                f"It keeps installing in the background: reconnect with /mcp in a minute, or run "
                f"`python3 -m pip install {ROOT}` and restart Claude Code."
            )
            return 1
    # isolated, by path: __main__.py puts this checkout's server/ first (the project folder,
    # still the working directory the server works on, is never on sys.path)
    python = str(venv_python(venv))
    os.execv(python, [python, "-I", str(SERVER / "claude_session" / "__main__.py"), "mcp"])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
