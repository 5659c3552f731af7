"""The hook-safe part of the package: a few root modules, ``base/`` and ``edges/hooks/`` (what
the hooks and the status line import); they may import only each other and the standard
library, in Python 3.9 syntax."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "server" / "claude_session"
HOOK_SAFE_ROOT = ("__init__", "config", "errors", "paths")


def hook_safe_modules() -> list[str]:
    """Dotted names (below ``claude_session``) of every module in the hook-safe part."""
    files = [PACKAGE / f"{name}.py" for name in HOOK_SAFE_ROOT]
    files += [*PACKAGE.glob("base/**/*.py"), *PACKAGE.glob("edges/hooks/*.py")]
    names = []
    for path in files:
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return sorted(n for n in names if n and n != "__main__")


STDLIB_ONLY = set(hook_safe_modules())


def module_file(name: str) -> Path:
    """The file of a dotted name below ``claude_session`` (a module or a package)."""
    path = PACKAGE / (name.replace(".", "/") + ".py")
    return path if path.exists() else PACKAGE / name.replace(".", "/") / "__init__.py"


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any level (function-level imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:  # relative: from .errors import X
                found.add(f"claude_session.{node.module}")
            else:
                found.add(node.module)
                if node.module == "claude_session":
                    found.update(f"claude_session.{alias.name}" for alias in node.names)
    return found
