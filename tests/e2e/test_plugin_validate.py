"""The plugin's manifests pass the newest Claude Code's own checker, warnings counted as errors:
`claude plugin validate --strict` on the checkout (the marketplace, with the plugin-directory
checks: an icon, a README) and on the plugin manifest, and on the plugin copy that
`claude-session install` writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers.claude_code import claude_bin, claude_env

__all__ = ["claude_bin"]

ROOT = Path(__file__).resolve().parents[2]


def validate(claude_bin: Path, target: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = claude_env(config_dir=home / ".claude", home=home, base_url="http://127.0.0.1:9")
    return subprocess.run(
        [str(claude_bin), "plugin", "validate", "--strict", str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "target", [ROOT, ROOT / ".claude-plugin" / "plugin.json"], ids=["checkout", "plugin.json"]
)
def test_the_manifests_pass_the_strict_check(
    tmp_path: Path, claude_bin: Path, target: Path
) -> None:
    done = validate(claude_bin, target, tmp_path)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "Validation passed" in said and "warning" not in said.lower(), said
    assert "ICON_MISSING" not in said, said


def test_the_installed_plugin_copy_passes_the_strict_check(
    tmp_path: Path, isolated_home: Path, claude_bin: Path
) -> None:
    from claude_session.edges.install import Installer
    from claude_session.paths import Paths

    copy = Installer(Paths(isolated_home)).write_plugin()
    done = validate(claude_bin, copy, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
