"""Build step: the Claude Code plugin ships inside the package.

The checkout is the plugin (``.claude-plugin/``, ``commands/``, ``hooks/hooks.json``); a wheel
also carries a copy of those files as ``claude_session/plugin/``, so that ``claude-session
install`` works from an ordinary (non-editable) install. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
PLUGIN_FILES = (
    ".claude-plugin/plugin.json",
    ".claude-plugin/marketplace.json",
    "hooks/hooks.json",
    "commands/*.md",
)


class BuildWithPlugin(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "claude_session" / "plugin"
        for pattern in PLUGIN_FILES:
            found = sorted(ROOT.glob(pattern))
            if not found:
                raise SystemExit(f"plugin file missing from the source tree: {pattern}")
            for source in found:
                copy = target / source.relative_to(ROOT)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, copy)


setup(cmdclass={"build_py": BuildWithPlugin})
