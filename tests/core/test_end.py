"""End (core/end.py): through ``Core``, in process, on real repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_session.core.facade import Core
from claude_session.errors import NoActiveSession
from helpers.gitrepo import commit_file, git, make_remote, make_repo

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


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("merge", "--receive-pack=touch {mark}"),
        ("merge", "-c"),
        ("merge", "--exec=touch {mark}"),
        ("remote", "--upload-pack=touch {mark}"),
        ("remote", "--receive-pack=touch {mark}"),
    ],
)
def test_G2_an_upstream_that_reads_as_an_option_fails_the_push_not_the_end(
    repo: Path, tmp_path: Path, key: str, value: str
) -> None:
    """redteam G2: ``branch.main.merge = --receive-pack=...`` made end fail with GitRefused
    after committing (exit 1, the session left open, no record, a retry failing the same).
    Now the end completes: committed, recorded and closed, the push reported as failed and
    why; nothing runs."""
    mark = tmp_path / "ran"
    git(repo, "config", f"branch.main.{key}", value.format(mark=mark))
    (repo / "work.txt").write_text("work\n")
    with Core() as core:
        core.start(repo, session_id="g2")
        result = core.end(repo, session_id="g2", summary="s", message="m2")
        assert result.commit is not None and git(repo, "log", "-1", "--format=%s") == "m2"
        assert result.pushed is False and "git would read as an option" in result.push_detail
        assert result.tracker in ("local", "sent", "queued") and result.record.id
        with pytest.raises(NoActiveSession):
            core.end(repo, session_id="g2", summary="again")
    assert not mark.exists()
