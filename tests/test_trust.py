"""Red-team rows of the core (``shared/findings/redteam.md``, tests named by row id): one
record however a session ended, two projects that never share state, redaction that tells.
(The hooks' rows moved to the tests of what they attack: ``tests/base/test_gitread.py``,
``tests/edges/hooks/test_events.py``, ``tests/base/state/test_ledger.py``.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_session.base import sessions
from claude_session.base.state import ledger
from claude_session.core.facade import Core
from claude_session.paths import Paths
from helpers.gitrepo import commit_file, git, make_repo

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
HANG_GUARD = 60  # seconds: a command still running then is hung


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SERVER)},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


# --- one record, however the session ended (issue 9 part 2) ----------------------------------


def test_end_and_hook_finalization_agree_on_renames_deletions_and_non_ascii_paths(
    tmp_path: Path, isolated_home: Path
) -> None:
    def session(name: str) -> tuple[Path, str]:
        repo = make_repo(tmp_path / name)
        commit_file(repo, "a.txt", "a\n" * 50)
        commit_file(repo, "gone.txt", "bye")
        commit_file(repo, "sp ace é.txt", "1")
        start = git(repo, "rev-parse", "HEAD")
        git(repo, "mv", "a.txt", "b.txt")
        git(repo, "rm", "-q", "gone.txt")
        (repo / "sp ace é.txt").write_text("2")
        git(repo, "commit", "-qam", "rename, delete, edit")
        return repo, start

    by_hook, start = session("hooked")
    ledger.touch(
        Paths(isolated_home),
        ledger.new_entry(
            session_id="h",
            project="hooked",
            project_root=str(by_hook),
            branch="main",
            head=start,
            source="startup",
        ),
    )
    assert sessions.finalize_session(Paths(isolated_home), "h")
    spooled = json.loads(
        next((isolated_home / "claude-session" / "spool").glob("*.json")).read_text()
    )

    by_end, start = session("ended")
    with Core() as core:
        core.start(by_end, session_id="e")
        with ledger.edit(Paths(isolated_home), "e") as data:
            data["starting_head"] = start
        record = core.end(by_end, session_id="e", summary="done", push=False).record
    assert sorted(record.files_changed) == sorted(spooled["files_changed"])
    assert sorted(record.files_changed) == ["a.txt", "b.txt", "gone.txt", "sp ace é.txt"]
    assert record.commits_count == spooled["commits_count"] == 1


# --- two projects never share state (S6) -----------------------------------------------------


def test_S6_projects_whose_names_clean_up_alike_never_share_a_handoff_or_context(
    tmp_path: Path, isolated_home: Path
) -> None:
    work = make_repo(tmp_path / "work" / "my app")
    personal = make_repo(tmp_path / "personal" / "my-app")
    assert cli("start", cwd=work).returncode == 0
    assert cli("pause", "--summary", "WORK-ONLY plans", "--handoff", cwd=work).returncode == 0
    received = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "handoff", "receive"],
        cwd=work,
        input="Summary: WORK answer\n",
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env={**os.environ, "PYTHONPATH": str(SERVER)},
    )
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


# --- redaction that tells (X1, X9) -----------------------------------------------------------


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


def test_X1_a_wip_commit_from_a_summary_holding_a_secret_is_refused(
    repo: Path, isolated_home: Path
) -> None:
    from helpers.redact_samples import GH

    (repo / "x.txt").write_text("x")
    head = git(repo, "rev-parse", "HEAD")
    paused = cli("pause", "--summary", f"token {GH} rotated", "--wip-commit", cwd=repo)
    assert paused.returncode == 1 and "github-token" in paused.stderr
    assert git(repo, "rev-parse", "HEAD") == head


def test_X9_every_result_says_how_many_secrets_of_which_kinds_were_removed(
    repo: Path, isolated_home: Path
) -> None:
    from helpers.redact_samples import AWS_ID, GH

    paused = cli(
        "--json",
        "pause",
        "--summary",
        f"moved {GH} to the vault",
        "--next",
        f"rotate {AWS_ID}",
        cwd=repo,
    )
    assert paused.returncode == 0, paused.stderr
    result = json.loads(paused.stdout)
    assert result["redacted"] == {"github-token": 1, "aws-access-key": 1}
    assert any("2 secrets removed" in w for w in result["warnings"]), result["warnings"]
    text = cli("pause", "--summary", f"again {GH}", cwd=repo)
    assert "1 secret removed (1 github-token)" in text.stdout + text.stderr
    run = cli(
        "--json",
        "maintenance",
        "--command",
        "security-scan",
        "--status",
        "failed",
        "--results",
        json.dumps({AWS_ID: "found in config"}),
        cwd=repo,
    )
    assert json.loads(run.stdout)["redacted"] == {"aws-access-key": 1}
    ended = json.loads(
        cli("--json", "end", "--summary", f"done, {GH} gone", "--no-push", cwd=repo).stdout
    )
    assert ended["redacted"].get("github-token") == 1
    assert GH not in json.dumps(ended) and AWS_ID not in json.dumps(ended)


def test_X9_the_mcp_tools_say_what_was_removed_too(repo: Path, isolated_home: Path) -> None:
    import anyio
    from mcp import Client

    from claude_session.edges.mcp.server import build_server
    from helpers.redact_samples import GH

    async def go() -> dict[str, Any]:
        with Core() as core:
            async with Client(build_server(core)) as client:
                result = await client.call_tool(
                    "pause_session", {"cwd": str(repo), "summary": f"uses {GH}"}
                )
                assert not result.is_error
                assert result.structured_content is not None
                return result.structured_content

    paused = anyio.run(go)
    assert paused["redacted"] == {"github-token": 1}
    assert any("1 secret removed" in w for w in paused["warnings"])
