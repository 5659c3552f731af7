"""Pause (core/pause.py): through ``Core``, in process, on real repositories."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from claude_session.core.facade import Core
from helpers.gitrepo import make_repo

SERVER = str(Path(__file__).resolve().parents[2] / "server")


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


def test_sixty_concurrent_pauses_from_processes_keep_every_entry(
    tmp_path: Path, isolated_home: Path
) -> None:
    base = tmp_path / "projects"
    for i in range(60):
        (base / f"proj{i:03d}").mkdir(parents=True)
    script = tmp_path / "pauser.py"
    script.write_text(_PAUSER.format(server=SERVER))
    procs = [
        subprocess.Popen([sys.executable, str(script), str(base), str(n), str(n + 10)])
        for n in range(0, 60, 10)
    ]
    assert all(p.wait(300) == 0 for p in procs)
    projects = json.loads((isolated_home / "pause-state.json").read_text())["projects"]
    assert len(projects) == 60
    assert sum(1 for e in projects.values() if e.get("resumed_at")) == 30
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
