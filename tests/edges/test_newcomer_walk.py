"""A newcomer's walk (newcomer-2): the README's quick start, then every seed flow, through the
command line as a person types it, on a fresh HOME with no git identity and no configuration.
Each step checks the text a person reads (no Python reprs, no tracebacks, what happened and
what to do next) and, where a script would read it, the --json output. Real git, a real bare
remote, real processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers.gitrepo import git

SERVER = Path(__file__).resolve().parents[2] / "server"
#: a Python repr of a dict or a list, or a traceback, in what a person reads
UNREADABLE = re.compile(r"\{'|\['|Traceback|Switched to branch None")


class Newcomer:
    """One person on a fresh machine: a new HOME (no ~/.claude, no ~/.gitconfig), git that
    knows no name or email (and does not guess one from the host name)."""

    def __init__(self, home: Path) -> None:
        home.mkdir()
        self.home = home
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "PYTHONPATH": str(SERVER),
            "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "user.useConfigOnly",
            "GIT_CONFIG_VALUE_0": "true",
        }

    def run(self, *args: str, cwd: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "claude_session.edges.cli", *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == code, (args, proc.returncode, proc.stdout, proc.stderr)
        assert not UNREADABLE.search(proc.stdout + proc.stderr), (args, proc.stdout, proc.stderr)
        return proc

    def say(self, *args: str, cwd: Path, code: int = 0) -> list[str]:
        """The text output's lines (stdout)."""
        return self.run(*args, cwd=cwd, code=code).stdout.splitlines()

    def json(self, *args: str, cwd: Path, code: int = 0) -> dict[str, Any]:
        proc = self.run("--json", *args, cwd=cwd, code=code)
        data = json.loads(proc.stdout)  # one JSON object, nothing else
        assert isinstance(data, dict)
        return data

    def git(self, cwd: Path, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, env=self.env, capture_output=True, text=True, check=True
        )
        return proc.stdout.strip()


@pytest.fixture
def person(tmp_path: Path) -> Newcomer:
    return Newcomer(tmp_path / "newhome")


def test_the_readme_quick_start_on_a_fresh_home(person: Newcomer, tmp_path: Path) -> None:
    app = tmp_path / "work" / "app"
    app.mkdir(parents=True)
    person.git(app, "init", "-q", "-b", "main")
    (app / "README.md").write_text("# app\n")

    started = person.say("start", cwd=app)
    assert re.fullmatch(r"Session \S+ ready in app on main", started[0])
    assert started[1].startswith("A new session (nothing was paused here). Next: work as usual;")
    assert "`claude-session end -m MESSAGE`" in started[1] and len(started) == 2
    assert person.json("start", cwd=app)["already_started"] is True

    paused = person.say("pause", "--summary", "Adding greet()", "--next", "tests", cwd=app)
    assert paused[0] == "Paused app on main" and paused[1].startswith("Context: ")
    assert paused[-1].startswith("Next: `claude-session resume`")
    resumed = person.say("resume", cwd=app)
    assert resumed[1].startswith("It continues from the context below.")
    assert "Adding greet()" in "\n".join(resumed)
    status = person.say("status", cwd=app)
    assert any(line.startswith("Paused: no (the pause on main of ") for line in status)

    # no git identity yet: end says what to set, in git's words, and leaves nothing staged
    refused = person.run("end", "--summary", "First version", "-m", "Add README", cwd=app, code=1)
    assert refused.stdout == ""
    told = refused.stderr.splitlines()
    assert told[0].startswith("claude-session: Nothing was committed (nothing was staged")
    assert '    git config --global user.email "you@example.com"' in told
    assert person.git(app, "status", "--porcelain") == "?? README.md"
    assert person.say("history", cwd=app)[0].startswith("No sessions recorded yet")

    person.git(app, "config", "--global", "user.name", "New Person")
    person.git(app, "config", "--global", "user.email", "new@example.com")
    ended = person.say("end", "--summary", "First version", "-m", "Add README", cwd=app)
    assert re.match(r"Ended session \S+ \(standard\): \d+ min, 1 commit, 1 file changed", ended[0])
    assert ended[1].startswith("Committed ")
    assert "Push: No remote is configured: nothing was pushed." in ended
    record = person.json("history", cwd=app)["records"][0]
    assert record["commits_count"] == 1 and record["files_changed"] == ["README.md"]
    assert person.git(app, "log", "--format=%an %s") == "New Person Add README"


def test_every_seed_flow_through_the_cli(person: Newcomer, tmp_path: Path) -> None:
    app = tmp_path / "work" / "app"
    app.mkdir(parents=True)
    person.git(app, "init", "-q", "-b", "main")
    person.git(app, "config", "user.name", "New Person")  # this repository only
    person.git(app, "config", "user.email", "new@example.com")
    (app / "app.py").write_text("print('hi')\n")
    person.git(app, "add", "app.py")
    person.git(app, "commit", "-q", "-m", "initial")
    remote = tmp_path / "remotes" / "app.git"
    remote.parent.mkdir()
    person.git(remote.parent, "init", "-q", "--bare", str(remote))
    person.git(app, "remote", "add", "origin", str(remote))
    person.git(app, "push", "-q", "-u", "origin", "main")

    # /start with no pause; the branch check with a pause made on another branch
    assert person.json("start", cwd=app)["status"] == "ready"
    person.say("pause", "--summary", "greet on main", cwd=app)
    person.git(app, "checkout", "-q", "-b", "feature")
    asked = person.say("start", cwd=app, code=1)
    assert "paused on branch 'main'" in asked[0] and "Choices: switch" in asked[0]
    assert asked[-1] == "Run again with --on-mismatch switch|stay|cancel."
    mismatch = person.json("start", cwd=app, code=1)
    assert mismatch["status"] == "branch_mismatch" and mismatch["choices"]
    assert person.say("start", "--on-mismatch", "cancel", cwd=app) == [
        "Cancelled; nothing changed."
    ]
    (app / "app.py").write_text("print('hello')\n")  # the paused work, carried by git
    switched = person.say("start", "--on-mismatch", "switch", cwd=app)
    assert "Switched to branch main." in switched
    assert person.git(app, "branch", "--show-current") == "main"
    assert (app / "app.py").read_text() == "print('hello')\n"

    # /pause with a WIP commit, /resume, /end squashes it and pushes
    wip = person.say("pause", "--summary", "greet half done", "--wip-commit", cwd=app)
    assert any(line.startswith("WIP commit: ") for line in wip)
    context = Path(wip[1].removeprefix("Context: ")).read_text()
    assert "Dirty files" not in context and "WIP: greet half done" in context
    assert person.json("resume", cwd=app)["status"] == "ready"
    (app / "test_app.py").write_text("def test(): pass\n")
    ended = person.say("end", "--summary", "greet done", "-m", "Add greet", cwd=app)
    assert any(line.startswith("The end commit takes in 1 WIP commit") for line in ended)
    assert "Push: Pushed 'main' to 'origin/main'." in ended
    assert git(remote, "log", "--format=%s", "main").splitlines() == ["Add greet", "initial"]
    assert person.json("history", cwd=app)["records"][0]["commits_count"] == 1

    # a detached checkout is said as one
    person.git(app, "checkout", "-q", "--detach")
    person.json("pause", "--summary", "bisecting", cwd=app)
    person.git(app, "checkout", "-q", "-b", "elsewhere")
    detached = person.say("resume", "--on-mismatch", "switch", cwd=app)
    assert "Checked out the paused commit: HEAD is detached (no branch)." in detached
    person.git(app, "checkout", "-q", "main")

    # reminders, maintenance, status, sync, in words and in JSON
    remind = person.say("remind", "on", "--every", "5", "--dirty-files", "3", cwd=app)
    assert remind[0] == (
        "Reminders (this project): on: a reminder after 5 minutes without a pause or commit, "
        "or at 3 uncommitted files."
    )
    assert person.json("remind", "status", cwd=app)["settings"]["every_minutes"] == 5
    audit = person.say(
        "maintenance", "--command", "npm-audit", "--status", "ok", "--results", "[]", cwd=app
    )
    assert audit[0].startswith("Recorded npm-audit: ok (run ")
    assert any(line.startswith("Outbox: ") for line in person.say("status", cwd=app))
    assert person.say("sync", cwd=app)[0].startswith("Sent 0 records to the local tracker")
    assert person.json("sync", cwd=app)["sent"] == 0

    # /end --handoff on the local vault: the item and the steps on claude.ai
    (app / "notes.md").write_text("open question\n")
    handoff = person.json(
        "end", "--handoff", "--summary", "over to claude.ai", "-m", "Notes", cwd=app
    )
    assert handoff["handoff_item"] and handoff["pushed"] is True
    records = person.json("history", cwd=app)["records"]
    assert [r["end_mode"] for r in records][:2] == ["handoff", "standard"]
    assert all(not UNREADABLE.search(line) for line in person.say("history", cwd=app))

    # conventions a script relies on
    assert person.run("end", "--handof", cwd=app, code=2).stdout == ""
    usage = person.json("remind", "on", "--every", "0", cwd=app, code=2)
    assert usage["status"] == "error" and "from 1 to 1440" in usage["message"]
    assert person.json("--version", cwd=app)["name"] == "claude-session"
    doctor = person.say("doctor", cwd=app, code=1)  # Claude Code is not installed here
    assert all(line.startswith(("ok ", "BAD", "     fix: ")) for line in doctor)
