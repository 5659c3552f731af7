"""Many sessions at once, as separate processes: 20 sessions on 20 projects and 10 sessions on
one project start, pause, resume and end together (more at once: ``bench/bench_state.py``).
Every ledger entry, context file and session record is accounted for, each record exactly
once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_session.core.facade import Core
from helpers.gitrepo import git, make_repo

pytestmark = pytest.mark.slow

SERVER = str(Path(__file__).resolve().parents[2] / "server")

# One process = one session: start, pause, resume, end, each result printed as a JSON line.
_WORKER = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {server!r})
    from pathlib import Path
    from claude_session.core.facade import Core
    repo, sid, go = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    while time.time() < go:  # all processes begin together
        time.sleep(0.005)
    out = {{}}
    with Core() as core:
        out["start"] = core.start(repo, session_id=sid, no_import=True).status
        (repo / f"paused-{{sid}}.txt").write_text(sid)  # each session's own work
        paused = core.pause(repo, session_id=sid, summary=f"PAUSED {{sid}}",
                            next_steps=[f"next for {{sid}}"], wip_commit=True)
        out["pause_context"] = paused.context_file
        out["warnings"] = list(paused.warnings)
        out["resume"] = core.resume(repo, session_id=sid).status
        (repo / f"ended-{{sid}}.txt").write_text(sid)
        ended = core.end(repo, session_id=sid, summary=f"ENDED {{sid}}", push=False)
        out["end_context"] = ended.context_file
        out["warnings"] += ended.warnings
        out["record"] = ended.record.id
        out["tracker"] = ended.tracker
    print(json.dumps(out))
""")


def _run_all(tmp_path: Path, jobs: list[tuple[Path, str]]) -> dict[str, dict[str, str]]:
    script = tmp_path / "worker.py"
    script.write_text(_WORKER.format(server=SERVER))
    go = time.time() + 4.0  # enough for every interpreter to be up and waiting
    procs = {
        sid: subprocess.Popen(
            [sys.executable, str(script), str(repo), sid, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for repo, sid in jobs
    }
    results, errors = {}, {}
    for sid, proc in procs.items():
        out, err = proc.communicate(timeout=240)
        if proc.returncode != 0:
            errors[sid] = err.strip().splitlines()[-1:] if err.strip() else proc.returncode
        else:
            results[sid] = json.loads(out.strip().splitlines()[-1])
    assert not errors, errors
    return results


def _assert_accounted(home: Path, results: dict[str, dict[str, str]]) -> None:
    for sid, out in results.items():
        assert out["start"] == "ready", (sid, out)
        # no git write refused (a WIP commit's failure is a warning; an end commit's, an error)
        assert not [w for w in out["warnings"] if "WIP" in w or "git" in w], (sid, out)
        assert f"PAUSED {sid}" in Path(out["pause_context"]).read_text(), sid
        assert f"ENDED {sid}" in Path(out["end_context"]).read_text(), sid
        # stored, or (the local database busy past its timeout on a loaded machine) queued in
        # the outbox: never lost, and delivered by the next sync
        assert out["tracker"] in ("local", "queued"), (sid, out)
        entry = json.loads((home / "claude-session" / "ledger" / f"{sid}.json").read_text())
        assert entry["status"] == "ended" and entry["record_id"] == out["record"], sid
    with Core() as core:
        assert core.sync().remaining == 0
        every = core.history(limit=1000).records
    # each pause sent its own record, which the end's continues
    paused = {r.claude_session_id: r.id for r in every if r.end_mode == "paused"}
    records = [r for r in every if r.end_mode != "paused"]
    assert paused.keys() == results.keys()
    # (on one project, a resume picks up the newest pause there, whichever session made it)
    assert {r.continues for r in records} <= set(paused.values()) and all(
        r.continues for r in records
    )
    by_session: dict[str | None, int] = {}
    for record in records:
        by_session[record.claude_session_id] = by_session.get(record.claude_session_id, 0) + 1
    assert by_session == {sid: 1 for sid in results}
    assert {r.id for r in records} == {out["record"] for out in results.values()}
    assert sorted(r.summary for r in records) == sorted(f"ENDED {sid}" for sid in results)
    contexts = list((home / "contexts").glob("*.md"))
    assert len(contexts) == 2 * len(results)  # one pause and one end context each
    assert not [p for p in home.rglob("*") if ".corrupt-" in p.name]
    pause = json.loads((home / "pause-state.json").read_text())["projects"]
    assert pause == {}  # every project was ended


def test_twenty_sessions_on_twenty_projects_at_once_lose_nothing(
    tmp_path: Path, isolated_home: Path
) -> None:
    jobs = [(make_repo(tmp_path / f"proj{i:02d}"), f"many-{i:02d}") for i in range(20)]
    results = _run_all(tmp_path, jobs)
    _assert_accounted(isolated_home, results)


@pytest.fixture
def busy_cpu() -> Iterator[None]:
    """Another process keeps one CPU busy for the whole test, as a build or a second agent
    does: git commands then take longer and the sessions' git writes overlap more."""
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait(timeout=10)


# Each round is a fresh repository and ten fresh processes; the collisions on .git/index.lock
# differ every time. CONTENTION_ROUNDS=20 in the environment runs the 20-round check.
_ROUNDS = int(os.environ.get("CONTENTION_ROUNDS", "2"))


@pytest.mark.parametrize("round_", range(_ROUNDS))
def test_ten_sessions_on_one_project_at_once_lose_nothing(
    tmp_path: Path, isolated_home: Path, busy_cpu: None, round_: int
) -> None:
    """Ten sessions pause and end in one repository at once while another process keeps a CPU
    busy: their git writes wait for each other's index.lock instead of failing."""
    repo = make_repo(tmp_path / "shared")
    results = _run_all(tmp_path, [(repo, f"same-{i}") for i in range(10)])
    _assert_accounted(isolated_home, results)
    # every session's work is in a commit (a WIP or an end commit, whichever got there first)
    assert git(repo, "status", "--porcelain") == ""
    committed = set(git(repo, "ls-tree", "--name-only", "HEAD").split())
    assert {f"{kind}-{sid}.txt" for sid in results for kind in ("paused", "ended")} <= committed


def test_every_benchmark_runs_in_quick_mode() -> None:
    """CI's smoke run of bench/run_all.py: every script still runs and prints its figures."""
    done = subprocess.run(
        [sys.executable, str(Path(SERVER).parent / "bench" / "run_all.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert "bench_state" in done.stdout and "bench_history" in done.stdout
    assert "FAIL" not in done.stdout
