"""Commits (core/commits.py): a message that holds a secret is refused, never rewritten, before
anything is committed or pushed (red team X1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.clirun import cli
from helpers.gitrepo import git, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def test_X1_a_commit_message_holding_a_secret_is_refused_and_nothing_is_committed(
    tmp_path: Path, isolated_home: Path
) -> None:
    from helpers.gitrepo import make_remote
    from helpers.redact_samples import GH

    repo = make_repo(tmp_path / "proj")
    remote = make_remote(repo, tmp_path / "remote.git")
    assert cli("start", cwd=repo).returncode == 0
    (repo / "work.txt").write_text("work")
    head = git(repo, "rev-parse", "HEAD")
    refused = cli("end", "--summary", "done", "-m", f"deploy with {GH}", cwd=repo)
    assert refused.returncode == 1
    assert "github-token" in refused.stderr + refused.stdout
    assert "--allow-secret" in refused.stderr + refused.stdout
    assert GH not in refused.stderr + refused.stdout
    assert git(repo, "rev-parse", "HEAD") == head  # nothing committed
    assert git(remote, "rev-parse", "main") == head  # nothing pushed
    assert (repo / "work.txt").exists()
    # the session is still open: a corrected end goes through
    ended = cli("--json", "end", "--summary", "done", "-m", "deploy", cwd=repo)
    assert ended.returncode == 0, ended.stderr
    assert git(remote, "log", "-1", "--format=%s", "main") == "deploy"


def test_X1_allow_secret_commits_the_message_as_written(repo: Path, isolated_home: Path) -> None:
    from helpers.redact_samples import GH

    assert cli("start", cwd=repo).returncode == 0
    (repo / "x.txt").write_text("x")
    ended = cli(
        "end", "--summary", "s", "-m", f"fixture {GH}", "--no-push", "--allow-secret", cwd=repo
    )
    assert ended.returncode == 0, ended.stderr
    assert git(repo, "log", "-1", "--format=%s") == f"fixture {GH}"
    # N33: the result says plainly that a secret went into the commit (and never echoes it)
    sha = git(repo, "rev-parse", "HEAD")
    said = ended.stdout + ended.stderr
    assert f"A secret was committed: the message of commit {sha[:10]}" in said
    assert "github-token" in said and GH not in said


def test_N33_cli_pause_allow_secret_says_the_wip_commit_holds_a_secret(
    repo: Path, isolated_home: Path
) -> None:
    """N33: the person's own override (the CLI) still works, and its --json result says so."""
    from helpers.redact_samples import GH

    (repo / "x.txt").write_text("x")
    paused = cli(
        "--json", "pause", "--summary", f"wip {GH}", "--wip-commit", "--allow-secret", cwd=repo
    )
    assert paused.returncode == 0, paused.stderr
    result = json.loads(paused.stdout)
    assert result["wip_commit"] == git(repo, "rev-parse", "HEAD")
    [said] = [w for w in result["warnings"] if w.startswith("A secret was committed")]
    assert result["wip_commit"][:10] in said and "github-token" in said and GH not in said


def test_X1_a_wip_commit_from_a_summary_holding_a_secret_is_refused(
    repo: Path, isolated_home: Path
) -> None:
    from helpers.redact_samples import GH

    (repo / "x.txt").write_text("x")
    head = git(repo, "rev-parse", "HEAD")
    paused = cli("pause", "--summary", f"token {GH} rotated", "--wip-commit", cwd=repo)
    assert paused.returncode == 1 and "github-token" in paused.stderr
    assert git(repo, "rev-parse", "HEAD") == head


def test_a_rejected_push_is_said_once_with_the_remotes_words_and_exits_1(
    tmp_path: Path, isolated_home: Path
) -> None:
    """newcomer-2: "pushes are frozen" was dropped, the rejection said twice, and rc 0."""
    import json

    from helpers.gitrepo import make_remote

    repo = make_repo(tmp_path / "proj")
    remote = make_remote(repo, tmp_path / "remote.git")
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen until Monday' >&2\nexit 1\n")
    hook.chmod(0o755)
    assert cli("start", cwd=repo).returncode == 0
    (repo / "work.txt").write_text("work")
    ended = cli("end", "--summary", "done", "-m", "Work", cwd=repo)
    assert ended.returncode == 1, ended.stdout + ended.stderr
    said = (ended.stdout + ended.stderr).count("Push rejected")
    assert said == 1, ended.stdout
    assert "The remote said: pushes are frozen until Monday" in ended.stdout
    assert "Tracker: local" in ended.stdout  # the rest of end was done
    assert git(repo, "log", "-1", "--format=%s") == "Work"
    (repo / "more.txt").write_text("more")
    cli("start", cwd=repo)
    again = cli("--json", "end", "--summary", "more", "-m", "More", cwd=repo)
    assert again.returncode == 1
    data = json.loads(again.stdout)
    assert data["push_status"] == "rejected" and data["pushed"] is False
    assert not any("Push" in w for w in data["warnings"])
