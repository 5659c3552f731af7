"""Classic install and uninstall: exactly what was added is removed; the user's settings stay."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from claude_session.edges.install import Installer
from claude_session.edges.mcp.front import cache_file, cache_key
from claude_session.edges.wiring import (
    CLASSIC_TOOL_PREFIX,
    PLUGIN_TOOL_PREFIX,
    entry_command,
    is_our_statusline,
    statusline_command,
)
from claude_session.paths import Paths
from helpers.claude_code import claude_bin  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
USER_SETTINGS = {
    "env": {"FOO": "bar"},
    "permissions": {"allow": ["Bash(ls:*)"]},
    "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo mine"}]}]},
}


def answer_file(home: Path) -> Path:
    """The MCP answer file of this install (the test's interpreter and package)."""
    return cache_file(home / "claude-session", cache_key())


def cli(*args: str, path_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "server"))
    if path_dir is not None:
        env["PATH"] = f"{path_dir}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def claude_on_path(tmp_path: Path, claude_bin: Path) -> Path:  # noqa: F811
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "claude").symlink_to(claude_bin)
    return folder


def test_classic_install_then_uninstall_leaves_user_settings_as_they_were(
    isolated_home: Path, claude_on_path: Path
) -> None:
    settings = isolated_home / "settings.json"
    settings.write_text(json.dumps(USER_SETTINGS, indent=2))
    mine = isolated_home / "commands" / "mine.md"
    mine.parent.mkdir()
    mine.write_text("my own command\n")

    proc = cli("install", "--classic", path_dir=claude_on_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    names = {Path(p).name for p in result["commands"]}
    assert {"start.md", "pause.md", "end.md", "resume-session.md"} <= names
    assert "resume.md" not in names  # ours would hide Claude Code's own /resume picker
    start = (isolated_home / "commands" / "start.md").read_text()
    assert CLASSIC_TOOL_PREFIX + "start_session" in start and PLUGIN_TOOL_PREFIX not in start
    installed = json.loads(settings.read_text())
    assert installed["env"] == {"FOO": "bar"}
    assert {"SessionStart", "Stop", "PreCompact", "SessionEnd", "UserPromptSubmit"} <= set(
        installed["hooks"]
    )
    assert result["mcp"].startswith("registered"), result
    assert result["warnings"] == [], result
    answers = json.loads(answer_file(isolated_home).read_text())
    assert all(len(v["tools/list"]["tools"]) == 8 for v in answers["versions"].values())
    listed = subprocess.run(
        [str(claude_on_path / "claude"), "mcp", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    ).stdout
    assert "session" in listed
    registered = json.loads((isolated_home / ".claude.json").read_text())["mcpServers"]["session"]
    assert registered["alwaysLoad"] is True  # tools never deferred: no tool-loading round trip

    again = cli("install", "--classic", path_dir=claude_on_path)  # idempotent
    assert again.returncode == 0
    hooks = json.loads(settings.read_text())["hooks"]
    assert sum(len(g["hooks"]) for g in hooks["SessionStart"]) == 1

    proc = cli("uninstall", "--classic", path_dir=claude_on_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(settings.read_text()) == USER_SETTINGS
    assert mine.read_text() == "my own command\n"
    assert sorted(p.name for p in (isolated_home / "commands").iterdir()) == ["mine.md"]


def test_uninstall_keeps_a_command_file_the_user_edited(
    isolated_home: Path, claude_on_path: Path
) -> None:
    assert cli("install", "--classic", path_dir=claude_on_path).returncode == 0
    pause = isolated_home / "commands" / "pause.md"
    pause.write_text(pause.read_text() + "\nmy tweak\n")
    result = json.loads(cli("uninstall", "--classic", path_dir=claude_on_path).stdout)
    assert pause.exists() and any("edited" in w for w in result["warnings"])


def test_install_refuses_to_touch_a_broken_settings_file(
    isolated_home: Path, claude_on_path: Path
) -> None:
    settings = isolated_home / "settings.json"
    settings.write_text("{ broken")
    proc = cli("install", "--classic", path_dir=claude_on_path)
    assert proc.returncode == 1 and "left untouched" in proc.stderr
    assert settings.read_text() == "{ broken"


def test_classic_hook_command_runs_standard_library_only(tmp_path: Path) -> None:

    env = dict(os.environ, PYTHONPATH=str(ROOT / "server"))
    proc = subprocess.run(
        entry_command("hook", "SessionStart"),
        input=json.dumps({"session_id": "x", "cwd": str(tmp_path), "source": "startup"}),
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert proc.returncode == 0 and "systemMessage" not in proc.stdout


def test_plugin_install_without_claude_leaves_a_ready_plugin_and_says_how_to_use_it(
    isolated_home: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "server"), PATH=f"{empty}{os.pathsep}/usr/bin")
    proc = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "install"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    plugin = isolated_home / "claude-session" / "plugin"
    assert proc.returncode == 1 and f"claude --plugin-dir {plugin}" in proc.stderr
    assert (plugin / ".claude-plugin" / "plugin.json").is_file()
    assert sorted(p.name for p in (plugin / "commands").glob("*.md")) == sorted(
        p.name for p in (ROOT / "commands").glob("*.md")
    )
    mcp = json.loads((plugin / ".mcp.json").read_text())["mcpServers"]["session"]
    assert mcp["command"] == sys.executable and mcp["args"][-1] == "mcp"
    assert mcp["alwaysLoad"] is True  # tools never deferred: no tool-loading round trip
    # the server's start-up answers are ready before its first start (mcp_front.warm)
    answers = json.loads(answer_file(isolated_home).read_text())
    assert "2025-11-25" in answers["versions"]
    assert len(answers["versions"]["2025-11-25"]["tools/list"]["tools"]) == 8
    # the hooks run this package by absolute path, standard library only, and answer
    hooks = json.loads((plugin / "hooks" / "hooks.json").read_text())["hooks"]
    command = hooks["SessionStart"][0]["hooks"][0]["command"]
    done = subprocess.run(
        command,
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        input=json.dumps({"session_id": "x", "cwd": str(tmp_path), "source": "startup"}),
        timeout=30,
    )
    assert done.returncode == 0 and "systemMessage" not in done.stdout, done.stdout
    gone = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "uninstall"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert gone.returncode == 0 and not plugin.exists()
    assert "not on PATH" in gone.stdout


# --- the status line (install --statusline) ---------------------------------------------
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


def test_classic_start_runs_the_installed_cli_in_its_bang_line_before_any_model_request(
    tmp_path: Path, isolated_home: Path, claude_on_path: Path
) -> None:
    """A classic install has no plugin folder: its /start runs this install's own CLI (the
    path it was installed at), allowed by a Bash rule for that one program, and the real
    Claude Code hands the quoted result to the model in its first request."""
    from helpers.claude_code import run_claude
    from helpers.conversation import command_result
    from helpers.e2e_world import last_user_text
    from helpers.fake_anthropic import FakeAnthropic, text
    from helpers.gitrepo import make_repo

    assert cli("install", "--classic", path_dir=claude_on_path).returncode == 0
    start = (isolated_home / "commands" / "start.md").read_text()
    python, flag, main_py = entry_command()
    rule = f"Bash({python} {flag} {main_py} start --as-data:*)"
    assert rule in start and "CLAUDE_PLUGIN_ROOT" not in start
    repo = make_repo(tmp_path / "classic")
    with FakeAnthropic([text("Started.")]) as api:
        done = run_claude(
            "/start",
            cwd=repo,
            config_dir=isolated_home,
            home=isolated_home.parent,
            base_url=api.base_url,
            allowed_tools=[f"{CLASSIC_TOOL_PREFIX}*"],
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert len(api.turn_requests) == 1, api.errors
    result = command_result(last_user_text(api.turn_requests[0]), "start")
    assert result["status"] == "ready" and result["branch"] == "main", result


def test_classic_uninstall_leaves_nothing_it_created_on_a_fresh_home(
    isolated_home: Path, claude_on_path: Path
) -> None:
    """newcomer-2 4.9: an empty commands/ and routines/ and a settings.json of {} stayed."""
    assert cli("install", "--classic", path_dir=claude_on_path).returncode == 0
    assert (isolated_home / "commands").is_dir() and (isolated_home / "settings.json").exists()
    assert (isolated_home / "routines" / "handoff.json").exists()
    proc = cli("uninstall", "--classic", path_dir=claude_on_path)
    assert proc.returncode == 0, proc.stderr
    for name in ("commands", "routines", "settings.json"):
        assert not (isolated_home / name).exists(), name


def test_classic_uninstall_keeps_what_the_user_put_in_what_it_created(
    isolated_home: Path, claude_on_path: Path
) -> None:
    assert cli("install", "--classic", path_dir=claude_on_path).returncode == 0
    (isolated_home / "commands" / "mine.md").write_text("my own\n")
    settings = isolated_home / "settings.json"
    settings.write_text(json.dumps({**json.loads(settings.read_text()), "model": "opus"}))
    assert cli("uninstall", "--classic", path_dir=claude_on_path).returncode == 0
    assert (isolated_home / "commands" / "mine.md").read_text() == "my own\n"
    assert json.loads(settings.read_text()) == {"model": "opus"}
    assert not (isolated_home / "routines").exists()


@pytest.mark.parametrize("shape", ["absolute", "relative", "chain", "dangling"])
def test_a_symlinked_settings_file_is_written_through_and_stays_a_link(
    isolated_home: Path, claude_on_path: Path, shape: str
) -> None:
    """N34: ``~/.claude/settings.json`` linked into a dotfiles folder (home-manager, stow):
    install and uninstall change the file the link names, and the link stays a link."""
    dotfiles = isolated_home.parent / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "settings.json"
    if shape != "dangling":
        real.write_text(json.dumps(USER_SETTINGS, indent=2))
        real.chmod(0o644)
    link = isolated_home / "settings.json"
    if shape == "relative":
        link.symlink_to(os.path.relpath(real, isolated_home))
    elif shape == "chain":
        middle = dotfiles / "current.json"
        middle.symlink_to(real)
        link.symlink_to(middle)
    else:
        link.symlink_to(real)
    proc = cli("install", "--classic", "--statusline", path_dir=claude_on_path)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.path.realpath(link) == str(real)
    installed = json.loads(real.read_text())
    assert "statusLine" in installed and installed["hooks"]["SessionStart"]
    if shape != "dangling":
        assert installed["env"] == USER_SETTINGS["env"]
        assert stat.S_IMODE(real.stat().st_mode) == 0o644  # the file's own mode, kept
    proc = cli("uninstall", "--classic", path_dir=claude_on_path)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.path.realpath(link) == str(real)
    left = json.loads(real.read_text())
    assert "statusLine" not in left and "SessionStart" not in left.get("hooks", {})
    if shape != "dangling":
        assert left == USER_SETTINGS


@pytest.mark.parametrize("kind", ["fifo", "link to a fifo", "link to /dev/zero"])
def test_a_settings_file_that_is_no_file_is_refused_not_waited_on(
    isolated_home: Path, tmp_path: Path, kind: str
) -> None:
    """N30's variant for install: a FIFO or a device where settings.json should be is refused
    with a clear message (install would otherwise wait forever or read without end)."""
    from claude_session.errors import StateError

    settings = isolated_home / "settings.json"
    if kind == "fifo":
        os.mkfifo(settings)
    elif kind == "link to a fifo":
        os.mkfifo(tmp_path / "pipe")
        settings.symlink_to(tmp_path / "pipe")
    else:
        settings.symlink_to("/dev/zero")
    with pytest.raises(StateError, match="left untouched"):
        Installer(Paths(isolated_home)).install_statusline(plugin=False)
