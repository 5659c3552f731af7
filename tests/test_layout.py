"""The package's shape, as rules CI keeps: the tiers' import contracts (import-linter), module
sizes (none over 500 lines, the median small, a handful at the root), lint, format and types."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "server" / "claude_session"
MAX_LINES = 500
MAX_MEDIAN = 200
MAX_ROOT_MODULES = 8


def _modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.relative_to(PACKAGE).parts]


def _lines(path: Path) -> int:
    return len(path.read_text("utf-8").splitlines())


def test_no_module_is_over_500_lines() -> None:
    """A standing rule: a module that grows past it is split by what it holds."""
    big = {str(p.relative_to(PACKAGE)): _lines(p) for p in _modules() if _lines(p) > MAX_LINES}
    assert big == {}


def test_modules_are_small_and_the_root_holds_a_handful() -> None:
    sizes = [_lines(p) for p in _modules() if p.name != "__init__.py"]
    assert statistics.median(sizes) < MAX_MEDIAN
    assert len(list(PACKAGE.glob("*.py"))) <= MAX_ROOT_MODULES


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _tool(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    if not found.exists():
        pytest.fail(f"{name} is missing: install the test dependencies (pip install -e '.[test]')")
    return str(found)


def test_the_import_contracts_hold() -> None:
    """Edges over the core over the backends over base; the hook-safe part standard library
    only; the local tracker and the client side never import the service; no cycle."""
    done = _run(_tool("lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_finds_nothing_and_the_code_is_formatted() -> None:
    for command in (("check", "."), ("format", "--check", ".")):
        done = _run(_tool("ruff"), *command)
        assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_finds_nothing() -> None:
    done = _run(_tool("mypy"))
    assert done.returncode == 0, done.stdout + done.stderr
