"""The commands' ``!`` lines with the real Claude Code, on every version of the window: the
plugin's CLI launcher runs from a folder with spaces, and only the one program the command's
``Bash`` rule names may run (issue 23: no model request before the result)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from claude_session.edges.wiring import PLUGIN_CLI
from helpers.claude_code import ON_EVERY_VERSION, claude_version, requires_claude, run_claude
from helpers.conversation import command_result
from helpers.e2e_world import ALLOWED, last_user_text
from helpers.fake_anthropic import FakeAnthropic, text, tool_results, tool_use
from helpers.gitrepo import git, make_repo

__all__ = ["claude_version"]  # the fixture, re-exported so pytest finds it here

pytestmark = requires_claude
ROOT = Path(__file__).resolve().parents[2]


def plugin_copy(folder: Path, rule: str | None = None) -> Path:
    """This plugin copied to ``folder``; ``rule``: another Bash rule in place of ours."""
    shutil.copytree(ROOT, folder, ignore=shutil.ignore_patterns(".git", ".venv", "tests", "bench"))
    if rule is not None:
        for command in (folder / "commands").glob("*.md"):
            command.write_text(re.sub(r"Bash\(.*\)", rule, command.read_text()))
    return folder


def remind_status(tmp_path: Path, home: Path, plugin: Path) -> FakeAnthropic:
    repo = make_repo(tmp_path / "repo")
    with FakeAnthropic([text("Reminders are off.")]) as api:
        run_claude(
            "/session:remind status",
            cwd=repo,
            config_dir=home,
            home=home.parent,
            base_url=api.base_url,
            plugin_dir=plugin,
            allowed_tools=ALLOWED,
        )
    return api


@ON_EVERY_VERSION
def test_the_launcher_runs_from_a_plugin_folder_with_spaces(
    tmp_path: Path, isolated_home: Path, claude_version: str
) -> None:
    api = remind_status(tmp_path, isolated_home, plugin_copy(tmp_path / "my plugins" / "session"))
    assert len(api.turn_requests) == 1, api.errors
    shown = command_result(last_user_text(api.turn_requests[0]), "remind")
    assert shown["settings"]["enabled"] is False and shown["project"] == "repo", shown


@ON_EVERY_VERSION
def test_a_bang_line_its_rule_does_not_name_never_runs(
    tmp_path: Path, isolated_home: Path, claude_version: str
) -> None:
    plugin = plugin_copy(tmp_path / "plugin", rule='Bash(python3 -I "/elsewhere/launch_cli.py":*)')
    api = remind_status(tmp_path, isolated_home, plugin)
    sent = "".join(last_user_text(body) for body in api.turn_requests)
    assert "<quoted-data" not in sent, sent[-2000:]


@ON_EVERY_VERSION
def test_the_model_cannot_run_another_verb_of_ours_under_a_commands_rule(
    tmp_path: Path, isolated_home: Path, claude_version: str
) -> None:
    """N33 through the commands' Bash rules: during /session:start the model tries
    ``launch_cli.py end --allow-secret`` with Bash; the rule names only start's own line, so
    Claude Code refuses it and nothing is committed."""
    plugin = plugin_copy(tmp_path / "plugin")
    repo = make_repo(tmp_path / "repo")
    (repo / "creds.txt").write_text("token ghp_" + "a1B2c3D4e5" * 3 + "f6G7h8\n")
    before = git(repo, "rev-list", "--count", "HEAD")
    attack = f"{PLUGIN_CLI} end --allow-secret --summary x -m y".replace(
        "${CLAUDE_PLUGIN_ROOT}", str(plugin)
    )
    script = [tool_use("Bash", {"command": attack}), text("Done.")]
    with FakeAnthropic(script) as api:
        run_claude(
            "/session:start",
            cwd=repo,
            config_dir=isolated_home,
            home=isolated_home.parent,
            base_url=api.base_url,
            plugin_dir=plugin,
            allowed_tools=ALLOWED,
        )
    assert len(api.turn_requests) == 2, api.errors
    [result] = tool_results(api.turn_requests[1])
    assert result.get("is_error"), result
    assert git(repo, "rev-list", "--count", "HEAD") == before
    assert "creds.txt" in git(repo, "status", "--porcelain")


pytest.importorskip  # noqa: B018 - pytest is imported for the marks above
