"""Hand-offs (core/handoffs.py): two projects whose names clean up alike never share an item or
a context (red team S6)."""

from __future__ import annotations

import json
from pathlib import Path

from claude_session.core.facade import Core
from helpers.clirun import cli
from helpers.gitrepo import make_repo


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
