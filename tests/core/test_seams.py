"""Where flows meet (issue 11): start after pause, detached HEAD, end with nothing started,
a deleted context file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from claude_session.core.facade import Core
from claude_session.errors import NoActiveSession
from helpers.gitrepo import commit_file, git, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def test_start_after_pause_in_the_same_session_runs_the_start_flow(repo: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        paused = core.pause(repo, session_id="s", summary="PAUSED-HERE")
        git(repo, "checkout", "-q", "-b", "other")
        again = core.start(repo, session_id="s")
        assert again.status == "branch_mismatch" and again.choices  # the seed's three choices
        assert not again.already_started
        switched = core.start(repo, session_id="s", on_mismatch="switch")
        assert switched.status == "ready" and switched.switched_branch
        assert "PAUSED-HERE" in switched.context
        assert core.status(repo).pause is None  # the pause is cleared
        assert Path(paused.context_file).exists()


def test_start_after_a_received_answer_imports_it(repo: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        core.pause(repo, session_id="s", summary="before claude.ai", handoff=True)
        core.handoff_receive(repo, "## Summary\nINSIGHT-FROM-CLAUDE-AI\n")
        core.status(repo)  # refreshes the hook's cache: an answer waits
        started = core.start(repo, session_id="s")
        assert started.imported_item is not None
        assert "INSIGHT-FROM-CLAUDE-AI" in started.context


def test_a_wip_commit_on_a_detached_head_goes_on_a_named_branch(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    commit_file(repo, "b.txt", "b")
    git(repo, "checkout", "-q", "--detach", first)
    (repo / "work.txt").write_text("in flight")
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary="detached work", wip_commit=True)
    assert paused.wip_commit is not None
    branch = git(repo, "branch", "--show-current")
    assert branch.startswith("claude-session/wip-") and paused.branch == branch
    assert any(branch in w and first[:10] in w for w in paused.warnings), paused.warnings
    assert git(repo, "rev-parse", branch) == paused.wip_commit
    assert paused.wip_commit[:10] in Path(paused.context_file).read_text()


def test_a_pause_on_a_detached_head_is_no_match_for_a_branch(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach", head)
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary="looking at an old commit")
        assert paused.branch is None
        git(repo, "checkout", "-q", "main")
        started = core.start(repo, session_id="t")
        assert started.status == "branch_mismatch"
        assert f"a detached HEAD at {head[:10]}" in started.context
        back = core.start(repo, session_id="t", on_mismatch="switch")
    assert back.status == "ready" and "looking at an old commit" in back.context
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "branch", "--show-current") == ""


def test_end_with_nothing_started_refuses_with_what_to_do(repo: Path) -> None:
    with Core() as core, pytest.raises(NoActiveSession) as caught:
        core.end(repo, summary="nothing", push=False)
    assert "claude-session start" in str(caught.value) and "--force" in str(caught.value)


def test_a_deleted_context_file_never_blocks_start(repo: Path) -> None:
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary="gone soon")
        Path(paused.context_file).unlink()
        started = core.start(repo, session_id="t")
    assert started.status == "ready" and "gone soon" in started.context  # from the entry
    assert any(paused.context_file in w for w in started.warnings), started.warnings


def test_cli_end_force_records_a_session_that_starts_now(repo: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "server")}
    refused = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "end", "--no-push"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 1 and "--force" in refused.stderr
    forced = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "--json", "end", "--no-push", "--force"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["record"]["duration_minutes"] == 0


# --- the way back from claude.ai (issue 11 part 4) ---------------------------------------------


def _cli(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "server")}
    return subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args],
        cwd=repo,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pause_handoff_prints_the_way_back(repo: Path) -> None:
    out = _cli(repo, "pause", "--summary", "half way", "--handoff")
    assert out.returncode == 0, out.stderr
    assert "handoff prompt" in out.stdout and "handoff receive" in out.stdout
    assert "imports it" in out.stdout


def test_receive_refreshes_the_hooks_answer_waiting_note(repo: Path, isolated_home: Path) -> None:
    from claude_session.base.state import answers
    from claude_session.paths import Paths

    assert _cli(repo, "pause", "--summary", "s", "--handoff").returncode == 0
    received = _cli(repo, "handoff", "receive", stdin="## Summary\nanswer\n")
    assert received.returncode == 0, received.stderr
    assert "imports it" in received.stdout
    assert answers.waiting(Paths(isolated_home), str(repo.resolve())) is not None


def test_receive_without_a_handoff_refuses_and_says_what_to_do(repo: Path) -> None:
    refused = _cli(repo, "handoff", "receive", stdin="## Summary\nanswer\n")
    assert refused.returncode == 1
    assert "pause --handoff" in refused.stderr and "transfer prompt" in refused.stderr


def test_receive_with_1password_down_keeps_the_answer_and_delivers_it_later(
    repo: Path, isolated_home: Path
) -> None:
    from claude_session.errors import VaultUnavailable
    from claude_session.vault.local import LocalVault

    class Down(LocalVault):
        down = True

        def _check_up(self) -> None:
            if Down.down:
                raise VaultUnavailable("1Password cannot be reached (network down)")

        def list_items(self, **kwargs):  # type: ignore[no-untyped-def, override]
            self._check_up()
            return super().list_items(**kwargs)

        def set_response(self, item_id, response):  # type: ignore[no-untyped-def, override]
            self._check_up()
            return super().set_response(item_id, response)

    from claude_session.paths import Paths

    vault = Down(Paths(isolated_home))
    with Core(vault=vault) as core:
        Down.down = False
        core.pause(repo, session_id="s", summary="before", handoff=True)
        Down.down = True
        kept = core.handoff_receive(repo, "## Summary\nKEPT-ANSWER\n")
        assert kept.item is None and kept.kept is not None and Path(kept.kept).exists()
        assert any("Nothing is lost" in w for w in kept.warnings)
        Down.down = False
        started = core.start(repo, session_id="s")
    assert "KEPT-ANSWER" in started.context, started
    assert kept.kept is not None and not Path(kept.kept).exists()


# --- corrupt state, one entry at a time (issue 11 part 8) ---------------------------------------


def test_a_bad_pause_entry_costs_only_itself_and_is_told_each_time(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    other = make_repo(tmp_path / "other")
    with Core() as core:
        core.pause(repo, session_id="a", summary="KEEP-ME")
        core.pause(other, session_id="b", summary="other")
    state = isolated_home / "pause-state.json"
    data = json.loads(state.read_text())
    data["projects"][str(other.resolve())] = {"broken": True}
    state.write_text(json.dumps(data))
    for _ in range(2):
        with Core() as core:
            status = core.status(repo)
        assert status.pause is not None and status.pause.summary == "KEEP-ME"
        assert any("unreadable pause entry" in w for w in status.warnings), status.warnings
    copies = list(isolated_home.glob("pause-state.json.corrupt-*"))
    assert len(copies) == 1  # one copy per content, however often it is read
    assert '"broken": true' in copies[0].read_text()


def test_remind_status_global_shows_the_default_not_the_project(repo: Path) -> None:
    with Core() as core:
        core.remind(repo, action="on", every=7)
        core.remind(repo, action="on", every=99, global_default=True)
        project = core.remind(repo, action="status")
        default = core.remind(repo, action="status", global_default=True)
    assert project.settings.every_minutes == 7
    assert default.settings.every_minutes == 99 and default.scope == "default"


# --- long text (issue 11 part 6) ---------------------------------------------------------------


def test_summary_file_and_stdin_feed_pause_end_and_maintenance(repo: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("FROM-A-FILE\n\nwith a second paragraph\n")
    paused = _cli(repo, "--json", "pause", "--summary-file", str(summary))
    assert paused.returncode == 0, paused.stderr
    assert "FROM-A-FILE" in Path(json.loads(paused.stdout)["context_file"]).read_text()
    run = _cli(
        repo,
        "--json",
        "maintenance",
        "--command",
        "audit",
        "--status",
        "ok",
        "--notes-file",
        "-",
        stdin="NOTES-FROM-STDIN",
    )
    assert json.loads(run.stdout)["run"]["notes"] == "NOTES-FROM-STDIN"
    ended = _cli(
        repo, "--json", "end", "--no-push", "--summary-file", "-", stdin="ENDED-FROM-STDIN"
    )
    assert json.loads(ended.stdout)["record"]["summary"] == "ENDED-FROM-STDIN"
    both = _cli(repo, "pause", "--summary", "x", "--summary-file", str(summary))
    assert both.returncode == 2 and "not both" in both.stderr
    missing = _cli(repo, "pause", "--summary-file", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "cannot read --summary-file" in missing.stderr


def test_a_context_cut_to_its_budget_says_where_the_whole_text_is(repo: Path) -> None:
    long_summary = "\n".join(f"line {n} of a very long summary, WHOLE-{n}" for n in range(2000))
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary=long_summary)
    warning = next(w for w in paused.warnings if "size budget" in w)
    kept = Path(warning.rsplit("kept in ", 1)[1].rstrip("."))
    assert "WHOLE-1999" in kept.read_text()
    assert "WHOLE-1999" not in Path(paused.context_file).read_text()


def test_history_cuts_long_rows(repo: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        core.end(repo, session_id="s", summary="S" * 500, push=False)
    out = _cli(repo, "history")
    row = next(line for line in out.stdout.splitlines() if "SSS" in line)
    assert len(row) < 160 and row.endswith("…")
