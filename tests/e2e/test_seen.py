"""What a person SEES (issue 15), with the real Claude Code client in a terminal (tmux): the
start-up line under the banner after a pause, nothing in a fresh project, claude-session's status
line at the bottom, and a reminder shown when a prompt is sent. The screens are kept as text
in ``tests/artifacts/`` (what a reviewer reads to judge the wording).

The status line is set as a person sets it (``Installer.install_statusline``, what
``install --statusline`` runs); the pause is made by the CLI, as ``claude-session pause`` does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_session.edges.install import Installer
from claude_session.paths import Paths
from helpers.claude_code import (
    NEWEST,
    ON_EVERY_VERSION,
    accept_onboarding_and_trust,
    claude_bin,
    claude_env,
    claude_version,
    find_claude,
    requires_claude,
)
from helpers.e2e_world import TOOL
from helpers.fake_anthropic import FakeAnthropic, text
from helpers.gitrepo import make_remote, make_repo
from helpers.tmux import Terminal, requires_tmux

__all__ = ["claude_bin", "claude_version"]  # the fixture, re-exported so pytest finds it here

pytestmark = [requires_claude, requires_tmux]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
SAYS = "SessionStart:startup says:"
# Claude Code draws the status line before the SessionStart hook has opened the session's ledger
# entry, and again only after a message: the commits count shows from then on.
STATUS = re.compile(r"session 0 min(?: · 0 commits)? · 0 dirty")
STATUS_PAUSED = re.compile(STATUS.pattern + " · paused just now: /session:resume")
SUMMARY = "Tokenizer handles quoted strings; escapes half done"


class Desk:
    """A trusted project, the isolated Claude home with our status line set, terminals."""

    def __init__(self, tmp_path: Path, config: Path) -> None:
        self.tmp = tmp_path
        self.repo = make_repo(tmp_path / "lexer")
        make_remote(self.repo, tmp_path / "remote" / "lexer.git")
        self.config = config
        self.count = 0
        accept_onboarding_and_trust(config, self.repo)
        Installer(Paths(config)).install_statusline(plugin=True)

    def open(self, api: FakeAnthropic, ready: str) -> Terminal:
        """Start `claude` with the plugin; wait until ``ready`` (our status line) is shown.
        (With a status line set, the client drops its "? for shortcuts" hint.)"""
        binary = find_claude()
        assert binary is not None
        argv = [str(binary), "--plugin-dir", str(ROOT), "--allowedTools", f"{TOOL}*"]
        env = claude_env(config_dir=self.config, home=self.config.parent, base_url=api.base_url)
        self.count += 1
        term = Terminal.start(
            argv, cwd=self.repo, env=env, socket_dir=self.tmp / "tmux", name=f"c{self.count}"
        )
        try:
            term.wait_for_text(ready, timeout=40)
        except BaseException:
            term.close()
            raise
        return term

    def cli(self, *args: str) -> dict[str, object]:
        env = dict(os.environ, CLAUDE_CONFIG_DIR=str(self.config), PYTHONPATH=str(ROOT / "server"))
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "claude_session.edges.cli",
                "-C",
                str(self.repo),
                *args,
                "--json",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr + proc.stdout
        data = json.loads(proc.stdout)
        assert isinstance(data, dict)
        return data


@pytest.fixture
def desk(tmp_path: Path, isolated_home: Path, claude_bin: Path) -> Iterator[Desk]:
    yield Desk(tmp_path, isolated_home)


def keep(name: str, screen: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(screen.rstrip() + "\n")


def our_status_line(screen: str) -> str:
    """Our line, without what Claude Code prints at the right of the same row."""
    [row] = [row for row in screen.splitlines() if "session " in row and " dirty" in row]
    return re.split(r"\s{3,}", row.strip())[0]


def test_a_fresh_project_shows_the_status_line_and_no_start_up_line(desk: Desk) -> None:
    with FakeAnthropic([]) as api, desk.open(api, ready="0 dirty") as term:
        time.sleep(3)  # time for a start-up line to show, if one were (the hook is done by then)
        screen = term.screen()
        keep("seen-fresh-project.txt", screen)
        term.type_line("/exit")
        term.wait_for_exit()
    assert SAYS not in screen and "claude-session:" not in screen, screen
    assert STATUS.fullmatch(our_status_line(screen)), screen


@ON_EVERY_VERSION  # the smoke set on the oldest Claude Code of the window: the start-up line
def test_after_a_pause_the_person_is_told_under_the_banner_and_in_the_status_line(
    claude_version: str, desk: Desk
) -> None:
    paused = desk.cli("pause", "--summary", SUMMARY, "--next", "Finish escapes")
    assert paused["status"] == "paused", paused
    # the status line's words (the start-up line says "paused just now on main")
    with FakeAnthropic([]) as api, desk.open(api, ready="paused just now: /session:") as term:
        screen = term.wait_for_text(SAYS)
        if claude_version == NEWEST:
            keep("seen-after-pause.txt", screen)
        term.type_line("/exit")
        term.wait_for_exit()
    start = screen.index(SAYS)
    told = " ".join(screen[start:].split())  # the terminal may wrap the line
    assert told.startswith(
        f'{SAYS} claude-session: paused just now on main ("{SUMMARY}"); /session:resume picks it up'
    ), screen
    assert "Finish escapes" not in screen  # the model's fuller note is not on the screen
    assert STATUS_PAUSED.fullmatch(our_status_line(screen)), screen


def test_a_reminder_is_shown_to_the_person_when_a_prompt_is_sent(desk: Desk) -> None:
    desk.cli("remind", "on", "--every", "30", "--dirty-files", "2")
    for name in ("a.py", "b.py"):
        (desk.repo / name).write_text("x = 1\n")
    with FakeAnthropic([text("NOTED")]) as api, desk.open(api, ready="2 dirty") as term:
        due = term.wait_for_text("time to /session:pause or commit")
        term.type_line("hello")
        term.wait_for_text("● NOTED")
        screen = term.wait_for_text("0 commits · 2 dirty")  # redrawn after the message
        keep("seen-reminder.txt", screen)
        term.type_line("/exit")
        term.wait_for_exit()
    flat = " ".join(screen.split())
    assert "claude-session: 2 uncommitted files; /session:pause saves the work in flight" in flat
    assert our_status_line(due).endswith("2 dirty · time to /session:pause or commit"), due
    assert our_status_line(screen) == (
        "session 0 min · 0 commits · 2 dirty · time to /session:pause or commit"
    ), screen
    assert "2 uncommitted files" in json.dumps(api.turn_requests[0])  # the model is told too
