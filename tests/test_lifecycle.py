"""The seed's flows through ``Core``, in process, on real repositories."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from claude_session.base.state import ledger
from claude_session.core import steps
from claude_session.core.facade import Core
from claude_session.errors import NoActiveSession
from claude_session.paths import Paths
from helpers.gitrepo import commit_file, git, make_remote, make_repo

SERVER = str(Path(__file__).resolve().parent.parent / "server")
SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    make_remote(r, tmp_path / "remote.git")
    return r


def test_secrets_never_reach_context_or_record(repo: Path, isolated_home: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        core.record_maintenance(
            repo,
            session_id="s",
            command="secret-scan",
            status="failed",
            results={"findings": [{"match": f"token {SECRET}"}]},
        )
        paused = core.pause(
            repo,
            session_id="s",
            summary=f"used {SECRET} to test",
            note=f"https://bob:{SECRET}@github.com/x/y.git",
        )
        ended = core.end(
            repo,
            session_id="s",
            summary=f"done with {SECRET}",
            accomplishments=[f"rotated {SECRET}"],
            push=False,
        )
        stored = core.tracker.get_session(ended.record.id)
    assert SECRET not in Path(paused.context_file).read_text()
    assert SECRET not in Path(ended.context_file or "").read_text()
    assert SECRET not in ended.record.model_dump_json()
    assert stored is not None and SECRET not in stored.model_dump_json()
    assert "REDACTED" in stored.summary
    for path in isolated_home.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".md", ".log"}:
            assert SECRET not in path.read_text(errors="replace"), path


def test_record_counts_commits_and_files_since_start(repo: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        commit_file(repo, "a.py", "a\n")
        commit_file(repo, "b/c.py", "c\n")
        (repo / "d.py").write_text("d\n")
        ended = core.end(repo, session_id="s", summary="three files", message="d", push=False)
    assert ended.record.commits_count == 3
    assert sorted(ended.record.files_changed) == ["a.py", "b/c.py", "d.py"]
    assert ended.record.starting_branch == ended.record.ending_branch == "main"


def test_record_tokens_come_from_the_transcript(repo: Path, tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    line = {
        "type": "assistant",
        "sessionId": "s",
        "requestId": "req_1",
        "message": {
            "id": "msg_1",
            "model": "claude-x",
            "usage": {
                "input_tokens": 10,
                "output_tokens": 20,
                "cache_creation_input_tokens": 30,
                "cache_read_input_tokens": 40,
            },
        },
    }
    transcript.write_text(
        json.dumps(line, separators=(",", ":"))
        + "\n"
        + json.dumps(line, separators=(",", ":"))
        + "\n"
    )
    with Core() as core:
        core.start(repo, session_id="s")
        record = core.end(
            repo, session_id="s", summary="x", push=False, transcript=str(transcript)
        ).record
    assert (record.tokens_input, record.tokens_output) == (10, 20)
    assert (record.tokens_cache_creation, record.tokens_cache_read) == (30, 40)


def test_end_twice_never_makes_two_records(repo: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="s")
        core.end(repo, session_id="s", summary="one", push=False)
        with pytest.raises(NoActiveSession, match="end --force"):
            core.end(repo, session_id="s", summary="two", push=False)
        assert len(core.history(limit=10).records) == 1
        forced = core.end(repo, session_id="s", summary="two", push=False, force=True)
        assert any("counts from now" in w for w in forced.warnings)
        assert len(core.history(limit=10).records) == 2


def test_end_with_nothing_started_refuses_and_records_nothing(repo: Path) -> None:
    (repo / "work.txt").write_text("w")
    head = git(repo, "rev-parse", "HEAD")
    with Core() as core:
        with pytest.raises(NoActiveSession, match="claude-session start"):
            core.end(repo, summary="nothing started", push=False)
        assert core.history(limit=10).records == []
    assert git(repo, "rev-parse", "HEAD") == head


def test_start_finalizes_a_session_whose_claude_code_died(repo: Path) -> None:
    paths = Paths(Core().settings.home)
    with Core() as core:
        core.start(repo, session_id="dead")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with ledger.edit(paths, "dead") as entry:
        entry["claude_pid"] = dead.pid
        entry["summary"] = "was working on checkout"
    with Core() as core:
        core.start(repo, session_id="alive")
        records = core.history(limit=10).records
    assert [r.claude_session_id for r in records] == ["dead"]
    assert records[0].end_mode == "unended"
    # the entry's own summary first, then the digest (no transcript here: it says so)
    assert records[0].summary.startswith("was working on checkout\n\nEnded without /end.")
    assert ledger.get(paths, "dead")["status"] == "finalized"  # type: ignore[index]
    with Core() as core:
        core.sync()
        assert len(core.history(limit=10).records) == 1  # never twice


def test_sync_mode_context_is_found_from_another_clone(repo: Path, tmp_path: Path) -> None:
    with Core() as core:
        core.start(repo, session_id="machine-a")
        core.end(
            repo,
            session_id="machine-a",
            summary="Left off in the payment module",
            next_steps=["finish refunds"],
            mode="sync",
        )
    other = tmp_path / "elsewhere" / "shop-copy"
    git(tmp_path, "clone", "-q", "-b", "main", str(tmp_path / "remote.git"), str(other))
    with Core() as core:
        started = core.start(other, session_id="machine-b")
    assert "finish refunds" in started.context
    assert any("synced from" in w for w in started.warnings)


def test_resume_follows_a_repository_moved_on_disk(repo: Path, tmp_path: Path) -> None:
    with Core() as core:
        core.pause(repo, summary="before the move")
    moved = tmp_path / "moved" / "shop"
    moved.parent.mkdir()
    repo.rename(moved)
    with Core() as core:
        resumed = core.resume(moved)
    assert resumed.status == "ready" and "before the move" in resumed.context
    assert any("moved" in w for w in resumed.warnings)


def test_pause_keeps_other_projects_entries(tmp_path: Path, isolated_home: Path) -> None:
    repos = [make_repo(tmp_path / f"p{i}") for i in range(3)]
    with Core() as core:
        for r in repos:
            core.pause(r, summary=r.name)
        core.resume(repos[1])
        core.end(repos[1], summary="done", push=False)
    projects = json.loads((isolated_home / "pause-state.json").read_text())["projects"]
    assert set(projects) == {str(repos[0]), str(repos[2])}


_PAUSER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {server!r})
    from pathlib import Path
    from claude_session.core.facade import Core
    base = Path(sys.argv[1])
    with Core() as core:
        for i in range(int(sys.argv[2]), int(sys.argv[3])):
            folder = base / f"proj{{i:03d}}"
            core.pause(folder, session_id=f"s{{i}}", summary=f"paused {{i}}")
            if i % 2:
                core.resume(folder, session_id=f"s{{i}}")
""")


def test_two_hundred_concurrent_pauses_from_processes_keep_every_entry(
    tmp_path: Path, isolated_home: Path
) -> None:
    base = tmp_path / "projects"
    for i in range(200):
        (base / f"proj{i:03d}").mkdir(parents=True)
    script = tmp_path / "pauser.py"
    script.write_text(_PAUSER.format(server=SERVER))
    procs = [
        subprocess.Popen([sys.executable, str(script), str(base), str(n), str(n + 10)])
        for n in range(0, 200, 10)
    ]
    assert all(p.wait(300) == 0 for p in procs)
    projects = json.loads((isolated_home / "pause-state.json").read_text())["projects"]
    assert len(projects) == 200
    assert sum(1 for e in projects.values() if e.get("resumed_at")) == 100
    for entry in projects.values():
        assert Path(entry["context_file"]).exists()


def test_not_a_git_folder_keeps_no_git_fields(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    with Core() as core:
        paused = core.pause(folder, summary="plain", wip_commit=True)
        assert paused.wip_commit is None and paused.branch is None
        ended = core.end(folder, summary="done")
    assert ended.record.commits_count == 0 and ended.pushed is False


def test_a_flow_saving_the_ledger_keeps_what_a_hook_wrote_meanwhile(repo: Path) -> None:
    paths = Paths(Core().settings.home)
    with Core() as core:
        core.start(repo, session_id="s")
        stale = steps.ledger_entry(core.services, "s")
        assert stale is not None
        with ledger.edit(paths, "s") as entry:  # the Stop hook, while the flow runs
            entry["transcript_path"] = "/tmp/transcript.jsonl"
            entry["last_activity"] = "2999-01-01T00:00:00+00:00"
        steps.save_ledger(core.services, stale)
    saved = ledger.get(paths, "s")
    assert saved is not None and saved["transcript_path"] == "/tmp/transcript.jsonl"
    assert saved["last_activity"].startswith("2999")


def test_sync_prunes_long_closed_ledger_entries_only(repo: Path) -> None:
    paths = Paths(Core().settings.home)
    with Core() as core:
        core.start(repo, session_id="old")
        core.end(repo, session_id="old", summary="x", push=False)
        core.start(repo, session_id="recent")
        core.end(repo, session_id="recent", summary="y", push=False)
        core.start(repo, session_id="open")
    with ledger.edit(paths, "old") as entry:
        entry["ended_at"] = "2020-01-01T00:00:00+00:00"
    with Core() as core:
        core.sync()
    assert ledger.get(paths, "old") is None
    assert ledger.get(paths, "recent") is not None and ledger.get(paths, "open") is not None
