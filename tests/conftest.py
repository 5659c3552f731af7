"""Test isolation: every test gets its own HOME and CLAUDE_CONFIG_DIR, and git without any
global or system configuration. A test that writes to the real home fails the session."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests"))

_REAL_HOME = Path(os.path.expanduser("~")).resolve()
_REAL_CLAUDE = _REAL_HOME / ".claude"


def _snapshot(folder: Path) -> set[str]:
    if not folder.exists():
        return set()
    names: set[str] = set()
    for base, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in {"projects", "debug", "plugins", "statsig"}]
        names.update(os.path.join(base, f) for f in files)
    return names


@pytest.fixture(scope="session", autouse=True)
def _real_home_untouched() -> Iterator[None]:
    before = _snapshot(_REAL_CLAUDE)
    yield
    after = _snapshot(_REAL_CLAUDE)
    new = sorted(after - before)
    assert not new, f"tests wrote into the real home: {new[:10]}"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    config = home / ".claude"
    config.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(config))
    for name in list(os.environ):
        if name.startswith(
            ("CLAUDE_SESSION_", "CLAUDE_CODE_", "CLAUDE_PLUGIN_", "GIT_")
        ) or name in {
            "OP_SERVICE_ACCOUNT_TOKEN",
            "CLAUDE_PROJECT_DIR",
            "CLAUDECODE",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig-none"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.com")
    return config
