"""The commands a classic install registers: ``"<python>" -I <this file> hook EVENT`` (the
hooks), ``"<python>" -I <this file> mcp`` (the MCP server) and ``... statusline`` (the status
line, with ``install --statusline``); any other arguments go to the CLI, as with
``python -m claude_session``.

Claude Code runs hooks and MCP servers in the project folder, which may be a stranger's clone.
``python -m claude_session...`` would put that folder first on ``sys.path``, so a
``claude_session/`` there would run instead of this package. Run by its absolute path under
``-I`` (isolated mode, Python 3.10+), neither the working directory, nor this file's folder,
nor ``PYTHON*`` variables reach ``sys.path``. This file then adds the folder that holds this
very package and, outside a virtualenv, the user's site-packages (``-I`` leaves it out; a
``pip install --user`` puts the dependencies there), both folders the user installed into.

Standard library only until the CLI is imported: the hooks never import it.
"""

from __future__ import annotations

import os
import site
import sys


def _isolated_path() -> None:
    package = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != package]
    if sys.flags.isolated and sys.prefix == sys.base_prefix:
        user_site = site.getusersitepackages()
        if os.path.isdir(user_site):
            site.addsitedir(user_site)
    parent = os.path.dirname(package)
    if parent not in (os.path.abspath(p or os.curdir) for p in sys.path):
        sys.path.insert(0, parent)


def _main(argv: list[str]) -> int:
    if argv[:1] == ["hook"]:
        from claude_session.edges.hooks.events import EVENTS, main
        from claude_session.edges.hooks.fastexit import exit_now

        event = argv[1] if len(argv) > 1 else ""
        exit_now(main(event) if event in EVENTS else 0)  # no interpreter teardown
    if argv[:1] == ["statusline"]:  # as fast as a hook: the CLI is never imported
        from claude_session.edges.hooks.fastexit import exit_now
        from claude_session.edges.hooks.statusline import main as statusline

        exit_now(statusline(argv[1:]))
    if argv == ["mcp"]:  # straight to the server: the CLI's parser imports the tracker
        from claude_session.edges.mcp.front import serve

        serve()
        return 0
    from claude_session.edges.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    if not __package__:  # run by path, as a classic install registers it
        _isolated_path()
    sys.exit(_main(sys.argv[1:]))
