"""Hand-offs (core/handoffs.py): two projects whose names clean up alike never share an item or
a context (red team S6); a delayed hand-off is made once however many commands retry it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.vault.onepassword import OnePasswordVault
from helpers.clirun import SERVER, cli
from helpers.fake_onepassword import VALID_TOKEN, FakeClock, FakeOnePassword
from helpers.gitrepo import commit_file, git, make_remote, make_repo
from helpers.handoff_world import creation_ids, pending_requests, queue_requests


def test_S6_projects_whose_names_clean_up_alike_never_share_a_handoff_or_context(
    tmp_path: Path, isolated_home: Path
) -> None:
    work = make_repo(tmp_path / "work" / "my app")
    personal = make_repo(tmp_path / "personal" / "my-app")
    assert cli("start", cwd=work).returncode == 0
    assert cli("pause", "--summary", "WORK-ONLY plans", "--handoff", cwd=work).returncode == 0
    received = cli("handoff", "receive", cwd=work, stdin="Summary: WORK answer\n")
    assert received.returncode == 0, received.stderr
    started = cli("--json", "start", cwd=personal)
    assert started.returncode == 0, started.stderr
    result = json.loads(started.stdout)
    assert result.get("imported_item") is None
    assert "WORK" not in result["context"]
    prompt = cli("--json", "handoff", "prompt", cwd=personal)
    assert prompt.returncode == 1  # nothing of its own saved yet; work's context is not offered
    imported = json.loads(cli("--json", "import", cwd=work).stdout)
    assert imported["status"] == "imported"
    with Core() as core:
        core.end(personal, summary="personal work", push=False)
        core.end(work, summary="work work", push=False)
        urls = {(r.application_name, r.repository_url) for r in core.history(limit=10).records}
    # two applications on the tracker, told apart by their folders
    assert urls == {("my-app", work.as_uri()), ("my-app", personal.as_uri())}


def test_two_processes_retrying_one_delayed_handoff_create_one_item(
    tmp_path: Path, isolated_home: Path
) -> None:
    """findings/onepassword-2.md N2: two commands on one machine (the MCP server's startup sync
    and a CLI sync) retry the same delayed hand-off while 1Password takes 0.3 s a create: one
    item is made, not two. Threads with a Core each lock like processes (one flock per open)."""
    repo = make_repo(tmp_path / "shop")
    settings = Settings.from_env().replace(op_token=VALID_TOKEN)
    fake = FakeOnePassword()  # real time: the two commands overlap for real
    [request] = queue_requests(settings, repo, 1)
    fake.stall("items.create", seconds=0.3)
    gate = threading.Barrier(2)
    results: list[object] = []

    def one_command() -> None:
        with Core(settings, vault=OnePasswordVault(settings, authenticate=fake.authenticate)) as c:
            gate.wait()
            results.append(c.sync(repo))

    threads = [threading.Thread(target=one_command) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2
    assert creation_ids(fake) == [request] and pending_requests(settings) == []


# --- ~/.claude/routines/handoff.json: every key does what the README says (newcomer-2.md 5) ----


def _routine(home: Path, **values: object) -> None:
    (home / "routines").mkdir(parents=True, exist_ok=True)
    (home / "routines" / "handoff.json").write_text(json.dumps(values))


def _on_fake(fake: FakeOnePassword) -> Core:
    settings = Settings.from_env().replace(op_token=VALID_TOKEN)
    vault = OnePasswordVault(settings, authenticate=fake.authenticate, clock=fake.clock)
    return Core(settings, vault=vault)


def test_routine_vault_names_the_1password_vault(tmp_path: Path, isolated_home: Path) -> None:
    _routine(isolated_home, vault="Team Handoffs")
    fake = FakeOnePassword(vaults=("ClaudeSync", "Team Handoffs"), clock=FakeClock())
    repo = make_repo(tmp_path / "shop")
    with _on_fake(fake) as c:
        c.start(repo, session_id="s1")
        title = c.pause(repo, session_id="s1", summary="x", handoff=True).handoff_item
    assert fake.item(title).vault_id == fake.vault_id("Team Handoffs")


def test_routine_vault_end_modes_with_standard_stores_a_standard_end(
    tmp_path: Path, isolated_home: Path
) -> None:
    """newcomer-2.md 2.24: `standard` in vault_end_modes stored nothing; now it stores the
    item, and without it a standard end stores nothing, as before."""
    repo = make_repo(tmp_path / "shop")
    _routine(isolated_home, vault_end_modes=["standard", "handoff"])
    with Core() as c:
        c.start(repo, session_id="s1")
        ended = c.end(repo, session_id="s1", summary="Done today.", push=False)
        assert ended.handoff_item is not None and ended.transfer_prompt is None
        _routine(isolated_home, vault_end_modes=["handoff"])
        c.start(repo, session_id="s2")
        assert c.end(repo, session_id="s2", summary="Again.", push=False).handoff_item is None


def test_routine_template_is_the_prompt_handoff_prompt_prints(
    tmp_path: Path, isolated_home: Path
) -> None:
    """newcomer-2.md 2.25: `handoff prompt`, which every hint names, printed the built-in prompt
    although the item held the template's."""
    repo = make_repo(tmp_path / "shop")
    _routine(isolated_home, transfer_prompt_template="MINE for {project} on {branch}.\n{context}")
    with Core() as c:
        c.start(repo, session_id="s1")
        paused = c.pause(repo, session_id="s1", summary="Halfway.", handoff=True)
        printed = c.handoff_prompt(repo)
    assert printed.prompt.startswith("MINE for shop on main.")
    assert printed.prompt == paused.transfer_prompt


def test_routine_op_deadline_is_the_time_1password_gets(
    tmp_path: Path, isolated_home: Path
) -> None:
    """`op_deadline` in the file: a listing that takes 3 s fails with 2 s and works with 4."""
    repo = make_repo(tmp_path / "shop")
    fake = FakeOnePassword(clock=FakeClock())
    for seconds, works in ((2, False), (4, True)):
        _routine(isolated_home, op_deadline=seconds)
        fake.stall("items.list", seconds=3, times=1)
        with _on_fake(fake) as c:
            status = c.status(repo)
        assert any("did not answer" in w for w in status.warnings) is not works, status.warnings


def test_handoff_prompt_says_when_nothing_was_copied(tmp_path: Path, isolated_home: Path) -> None:
    """newcomer-2.md 2.17: no clipboard tool on PATH: the prompt prints and says it was not
    copied (with --json nothing is tried, and nothing is said)."""
    repo = make_repo(tmp_path / "shop")
    assert cli("start", cwd=repo).returncode == 0
    assert cli("pause", "--summary", "halfway", "--handoff", cwd=repo).returncode == 0
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
    env = {**os.environ, "PATH": str(bare), "PYTHONPATH": str(SERVER)}
    done = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "handoff", "prompt"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "not copied to the clipboard" in done.stdout


# --- end --sync and the other machine (newcomer-2.md 2.14, 2.15) --------------------------------


def test_sync_from_a_new_branch_pushes_it_and_the_other_machine_is_told_where_to_go(
    tmp_path: Path, isolated_home: Path
) -> None:
    """2.14: a branch made here has no upstream; `end --mode sync` pushes it (and tracks it)
    before storing the sync item. 2.15: the other machine's start names the branch and commit
    and the command to check them out."""
    repo = make_repo(tmp_path / "laptop" / "shop")
    remote = make_remote(repo, tmp_path / "remote.git")
    git(repo, "checkout", "-q", "-b", "sync-branch")
    with Core() as c:
        c.start(repo, session_id="s1")
        commit_file(repo, "work.txt", "half done\n")
        ended = c.end(repo, session_id="s1", summary="Half done.", mode="sync")
    assert ended.pushed and ended.handoff_item is not None
    head = git(repo, "rev-parse", "HEAD").strip()
    assert git(remote, "rev-parse", "refs/heads/sync-branch").strip() == head
    desk = tmp_path / "desk" / "shop"
    git(tmp_path, "clone", "-q", str(remote), str(desk))
    with Core() as c:
        started = c.start(desk, session_id="d1")
    warning = next(w for w in started.warnings if "was on branch 'sync-branch'" in w)
    assert head[:12] in warning and "git fetch && git checkout sync-branch" in warning


def test_sync_whose_work_cannot_be_pushed_is_refused_with_the_reason(
    tmp_path: Path, isolated_home: Path
) -> None:
    repo = make_repo(tmp_path / "shop")  # no remote at all
    with Core() as c:
        c.start(repo, session_id="s1")
        ended = c.end(repo, session_id="s1", summary="Nowhere to go.", mode="sync")
    assert ended.handoff_item is None and not ended.pushed
    warning = next(w for w in ended.warnings if "sync item was not stored" in w)
    assert "No remote is configured" in warning and "end --mode sync" in warning
