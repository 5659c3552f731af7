"""``install --statusline``: sets Claude Code's ``statusLine`` only when asked, never replaces
the user's own (and says how to show both), and ``uninstall`` leaves the settings as they were.
Run through the CLI, with the real ``claude`` on PATH for the classic install's MCP step."""

from __future__ import annotations

import json
from pathlib import Path

from claude_session.edges.install import Installer
from claude_session.edges.wiring import is_our_statusline, statusline_command
from claude_session.paths import Paths
from helpers.claude_code import claude_bin
from test_install import USER_SETTINGS, claude_on_path, cli

__all__ = ["claude_bin", "claude_on_path"]  # the fixtures, re-exported so pytest finds them

THEIRS = {"type": "command", "command": "~/.claude/my-line.sh", "padding": 1}


def settings_of(home: Path) -> dict[str, object]:
    data = json.loads((home / "settings.json").read_text())
    assert isinstance(data, dict)
    return data


def test_only_when_asked_then_removed_by_uninstall(
    isolated_home: Path, claude_on_path: Path
) -> None:
    (isolated_home / "settings.json").write_text(json.dumps(USER_SETTINGS, indent=2))
    plain = cli("install", "--classic", path_dir=claude_on_path)
    assert plain.returncode == 0, plain.stderr
    assert "statusLine" not in settings_of(isolated_home)

    proc = cli("install", "--classic", "--statusline", path_dir=claude_on_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    line = settings_of(isolated_home)["statusLine"]
    assert line == {"type": "command", "command": statusline_command(plugin=False), "padding": 0}
    assert result["statusline"].startswith("set: ") and not result["warnings"]
    again = json.loads(cli("install", "--classic", "--statusline", path_dir=claude_on_path).stdout)
    assert again["statusline"].startswith("already set")

    proc = cli("uninstall", "--classic", path_dir=claude_on_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["statusline"] == "removed"
    assert settings_of(isolated_home) == USER_SETTINGS


def test_the_users_status_line_is_never_replaced(isolated_home: Path, claude_on_path: Path) -> None:
    mine = {**USER_SETTINGS, "statusLine": THEIRS}
    (isolated_home / "settings.json").write_text(json.dumps(mine, indent=2))
    proc = cli("install", "--classic", "--statusline", path_dir=claude_on_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["statusline"] == "not set (you have one)"
    [hint] = [w for w in result["warnings"] if "status line" in w]
    assert "~/.claude/my-line.sh" in hint and statusline_command(plugin=False) in hint
    assert settings_of(isolated_home)["statusLine"] == THEIRS
    assert cli("uninstall", "--classic", path_dir=claude_on_path).returncode == 0
    assert settings_of(isolated_home) == mine


def test_a_status_line_changed_after_the_install_is_left_to_the_user(isolated_home: Path) -> None:
    installer = Installer(Paths(isolated_home))
    assert installer.install_statusline(plugin=True).statusline.startswith("set")
    data = settings_of(isolated_home)
    assert is_our_statusline(data["statusLine"])
    assert str(data["statusLine"]).count("--plugin") == 1  # the plugin's command names
    data["statusLine"] = THEIRS
    (isolated_home / "settings.json").write_text(json.dumps(data))
    result = installer.uninstall_plugin()  # `claude` may be absent: the settings still count
    assert result.statusline == "left as it is (changed since the install)"
    assert settings_of(isolated_home)["statusLine"] == THEIRS


def test_plugin_uninstall_removes_ours(isolated_home: Path) -> None:
    installer = Installer(Paths(isolated_home))
    installer.install_statusline(plugin=True)
    assert installer.uninstall_plugin().statusline == "removed"
    assert "statusLine" not in settings_of(isolated_home)
    assert installer.uninstall_plugin().statusline is None  # nothing recorded any more


def test_an_earlier_install_of_ours_is_updated_in_place(isolated_home: Path) -> None:
    old = {
        "type": "command",
        "command": "/old/python -I '/old place/claude_session/__main__.py' statusline",
    }
    assert is_our_statusline(old)
    (isolated_home / "settings.json").write_text(json.dumps({"statusLine": old}))
    result = Installer(Paths(isolated_home)).install_statusline(plugin=False)
    assert result.statusline.startswith("set") and not result.warnings
    assert settings_of(isolated_home)["statusLine"]["command"] == (  # type: ignore[index]
        statusline_command(plugin=False)
    )
