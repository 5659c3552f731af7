#!/usr/bin/env python3
"""Run the claude-session CLI from a plugin checkout, in the environment the MCP launcher makes.

Standard library only. A plugin's command file runs this in its ``!`` line (before the model's
first request), as ``python3 -I ${CLAUDE_PLUGIN_ROOT}/server/launch_cli.py VERB --as-data ...``:
a plugin user may not have ``claude-session`` on PATH. Which Python runs the CLI is chosen as
``launch_mcp.py`` chooses it for the server (this Python if it has the dependencies, else the
plugin's virtualenv). When neither is ready yet, it says so on standard output and exits 0 (a
``!`` line that fails aborts the whole command): the environment is then made in the
background, as the MCP server's first start makes it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SERVER = Path(__file__).resolve().parent
# -I keeps the script's folder off sys.path: our own folder, put back explicitly (never the
# project folder, the working directory)
sys.path.insert(0, str(SERVER))

import launch_mcp  # noqa: E402


def not_ready(argv: list[str], venv: Path) -> int:
    message = (
        f"claude-session's Python environment is not ready yet: it is being made in {venv} "
        f"(log: {venv.parent / 'venv-install.log'}). Run the command again in a minute, or "
        f"`python3 -m pip install {launch_mcp.ROOT}`."
    )
    if "--as-data" in argv:
        print(f"claude-session {argv[1] if len(argv) > 1 else ''}: {message}")
        return 0
    launch_mcp.say(message)
    return 1


def main(argv: list[str]) -> int:
    venv = launch_mcp.data_dir() / "venv"
    launch_mcp.add_user_site()
    if launch_mcp.have_deps():
        from claude_session.edges.cli import main as cli_main

        return cli_main(argv[1:])
    if not launch_mcp.venv_ready(venv):
        launch_mcp.start_prepare_detached(venv)
        return not_ready(argv, venv)
    python = str(launch_mcp.venv_python(venv))
    main_py = str(SERVER / "claude_session" / "__main__.py")
    os.execv(python, [python, "-I", main_py, *argv[1:]])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
