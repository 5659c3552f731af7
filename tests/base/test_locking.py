"""``base/locking.py``: whole-file locks behind one interface (``fcntl`` on POSIX, ``msvcrt`` on
Windows), so that no other module imports a POSIX-only module at load time."""

from __future__ import annotations

import ast
import os
from pathlib import Path

SERVER = Path(__file__).resolve().parents[2] / "server"


POSIX_ONLY = {"fcntl", "termios", "pwd", "grp", "resource", "posix", "tty", "pty"}


def test_no_module_imports_a_posix_only_module_where_windows_would_take_it() -> None:
    """File locking lives behind ``locking`` (fcntl on POSIX, msvcrt on Windows); nothing else
    imports a POSIX-only module at module level."""
    package = SERVER / "claude_session"
    offenders = []
    for path in [*package.rglob("*.py"), SERVER / "launch_mcp.py"]:
        if path.name == "locking.py":
            continue
        for node in ast.parse(path.read_text("utf-8")).body:  # module level only
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in POSIX_ONLY]
    assert offenders == []


def test_the_lock_interface_excludes_a_second_holder(tmp_path: Path) -> None:
    from claude_session.base import locking

    first = os.open(tmp_path / "l", os.O_RDWR | os.O_CREAT)
    second = os.open(tmp_path / "l", os.O_RDWR)
    try:
        assert locking.try_lock(first)
        assert not locking.try_lock(second)
        os.close(first)
        first = -1
        assert locking.try_lock(second)
    finally:
        for fd in (first, second):
            if fd >= 0:
                os.close(fd)
