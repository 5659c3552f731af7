"""The Python interpreters pyenv has (``/root/.pyenv/versions`` on these machines, or
``$PYENV_ROOT``), for the tests that run the hooks under each; a test skips, saying which one is
missing, where pyenv lacks it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

PYENV = Path(os.environ.get("PYENV_ROOT") or "/root/.pyenv") / "versions"
#: the oldest Python the hooks run on: what a supported macOS ships
OLDEST = (3, 9)


def version(python: Path) -> tuple[int, ...]:
    match = re.match(r"(\d+)\.(\d+)\.(\d+)$", python.parent.parent.name)
    return tuple(int(part) for part in match.groups()) if match else (0,)


def pyenv_pythons() -> list[Path]:
    found = [p for p in PYENV.glob("3.*/bin/python3") if version(p) > (0,)]
    return sorted(found, key=version)


def python(which: str) -> Path:
    """``which``: 'oldest' (the newest 3.9.x), 'newest' (the newest 3.1x), or 'x.y'."""
    found = pyenv_pythons()
    if which == "oldest":
        chosen = [p for p in found if version(p)[:2] == OLDEST]
    elif which == "newest":
        chosen = [p for p in found if version(p)[:2] >= (3, 10)]
    else:
        chosen = [p for p in found if ".".join(map(str, version(p)[:2])) == which]
    if not chosen:
        pytest.skip(f"no Python {which} under {PYENV} (pyenv install it to run this test)")
    return chosen[-1]
