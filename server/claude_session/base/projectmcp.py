"""A project's ``.mcp.json`` declaring an MCP server that takes claude-session's name (N36 of
redteam-2).

Claude Code names a tool ``mcp__<server>__<tool>``, the server's name with every character
other than letters, digits, ``_`` and ``-`` made ``_``. A cloned repository whose ``.mcp.json``
declares a project-scope server named ``session`` (the classic install's name) or
``plugin_session_session`` (the plugin's, also spelled ``plugin:session:session``) gets the very
same tool names as ours, and its answers would be taken for claude-session's. Pinning tool names
cannot tell them apart, so the SessionStart hook (before any command runs) and ``doctor`` look
for one and tell the person.

Standard library only, no network, no program run; the file is read bounded (``bounded``), from
the folder Claude Code runs in up to the repository's root (where Claude Code looks for it).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from claude_session.base.bounded import read_regular

#: the tool-name prefixes of claude-session's own server: classic install, plugin
OUR_SERVERS = ("session", "plugin_session_session")
#: a real .mcp.json is a few kB
MAX_BYTES = 256 * 1024
_NOT_IN_NAME = re.compile(r"[^a-zA-Z0-9_-]")


def tool_prefix(server: str) -> str:
    """The server part of the tool names Claude Code gives a server named ``server``."""
    return _NOT_IN_NAME.sub("_", server)


def _folders(cwd: Path, root: Path | None) -> list[Path]:
    """``cwd`` and its parents up to ``root`` (``cwd`` alone when it is not inside it)."""
    folders = [cwd]
    if root is not None and root != cwd and root in cwd.parents:
        folders += [p for p in cwd.parents if p == root or root in p.parents]
    return folders


def _servers(path: Path) -> list[str]:
    """The server names ``path`` declares (``mcpServers``' keys); [] when it is missing,
    unreadable, not JSON or not a small regular file (a FIFO, a device, a huge file). A link
    is followed, as Claude Code follows it (a repository may hold ``.mcp.json`` as a link);
    nothing of the file but a name equal to ours is ever said."""
    try:
        data = json.loads(read_regular(os.path.realpath(path), limit=MAX_BYTES))
    except (OSError, ValueError, RecursionError):
        return []
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    return [str(name) for name in servers] if isinstance(servers, dict) else []


def collisions(cwd: Path, root: Path | None = None) -> list[tuple[Path, str]]:
    """(file, server name) for every project-scope server whose tool names would be ours."""
    found = []
    for folder in _folders(cwd, root):
        path = folder / ".mcp.json"
        found += [(path, name) for name in _servers(path) if tool_prefix(name) in OUR_SERVERS]
    return found


def warning(found: list[tuple[Path, str]]) -> str | None:
    """The person's line about ``collisions``; None when there are none."""
    if not found:
        return None
    path, name = found[0]
    shown = json.dumps(_NOT_IN_NAME.sub("?", name[:60]))  # one line, nothing hidden
    return (
        f"claude-session: WARNING: {path} declares an MCP server named {shown}, which gets the "
        f"same tool names as claude-session's: its answers could pass for ours. Do not approve "
        f"it; remove it from the file, or keep this project's MCP servers disabled."
    )
