"""Hand-offs (core/handoffs.py): two projects whose names clean up alike never share an item or
a context (red team S6); a delayed hand-off is made once however many commands retry it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.vault.onepassword import OnePasswordVault
from helpers.clirun import cli
from helpers.fake_onepassword import VALID_TOKEN, FakeOnePassword
from helpers.gitrepo import make_repo
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
