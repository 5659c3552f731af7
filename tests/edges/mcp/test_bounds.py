"""Tool results within a budget (edges/mcp/bounds.py): after a huge maintenance run, status
and end answer in a few kB, say what they left out and where the whole is kept (finding B7 of
claude-code-versions.md: 14.8 MB and 30 MB before)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import TextContent

from claude_session.edges.mcp.bounds import BUDGET, bound
from claude_session.models import MaintenanceResult, MaintenanceRun
from helpers.gitrepo import make_remote, make_repo
from helpers.mcp_stdio import call, cli_server

pytestmark = pytest.mark.anyio

FINDINGS = 6_000  # about 850 kB of results: under what the tool takes, far over the budget


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "bounds-proj")
    make_remote(r, tmp_path / "remote.git")
    return r


def findings() -> dict[str, Any]:
    return {
        "findings": [
            {"id": f"F{n}", "severity": "low", "text": f"finding {n} " + "x" * 80}
            for n in range(FINDINGS)
        ]
    }


def ledger_file(session_id: str) -> Path:
    return (
        Path(os.environ["CLAUDE_CONFIG_DIR"]) / "claude-session" / "ledger" / f"{session_id}.json"
    )


async def sizes(client: Client, tool: str, **args: Any) -> tuple[dict[str, Any], int, int]:
    """The structured result, and the characters of its JSON and of its text block."""
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    [text] = result.content
    assert isinstance(text, TextContent)
    return result.structured_content, len(json.dumps(result.structured_content)), len(text.text)


async def record_scan(client: Client, repo: Path, session_id: str) -> None:
    await call(client, "start_session", cwd=str(repo), session_id=session_id)
    _, json_size, text_size = await sizes(
        client,
        "record_maintenance_run",
        cwd=str(repo),
        session_id=session_id,
        command="security-scan",
        status="warnings",
        results=findings(),
    )
    assert json_size <= BUDGET and text_size <= 2 * BUDGET


async def test_status_after_a_huge_maintenance_run_is_cut_and_says_where_the_whole_is(
    repo: Path,
) -> None:
    async with Client(cli_server(repo)) as client:
        await record_scan(client, repo, "big-1")
        status, json_size, text_size = await sizes(
            client, "session_status", cwd=str(repo), session_id="big-1"
        )
    assert json_size <= BUDGET and text_size <= 2 * BUDGET
    [run] = status["active_session"]["maintenance_runs"]
    assert run["command"] == "security-scan" and run["results"]["counts"] == {"findings": FINDINGS}
    note = status["warnings"][-1]
    assert "cut to fit 50,000" in note and "active_session.maintenance_runs.0" in note
    assert str(ledger_file("big-1")) in note
    kept = json.loads(ledger_file("big-1").read_text())  # the whole is where the note says
    assert len(kept["maintenance_runs"][0]["results"]["findings"]) == FINDINGS


async def test_end_after_a_huge_maintenance_run_is_cut_and_names_the_tracker_record(
    repo: Path,
) -> None:
    async with Client(cli_server(repo)) as client:
        await record_scan(client, repo, "big-2")
        ended, json_size, text_size = await sizes(
            client, "end_session", cwd=str(repo), session_id="big-2", summary="scanned"
        )
    assert json_size <= BUDGET and text_size <= 2 * BUDGET
    assert ended["status"] == "ended" and ended["tracker"] == "local"
    assert ended["record"]["maintenance_runs"][0]["results"]["left_out"].endswith("of JSON")
    note = ended["warnings"][-1]
    assert f"the tracker's record {ended['record']['id']}" in note
    assert str(ledger_file("big-2")) in note


def test_a_result_within_the_budget_is_returned_as_it_is() -> None:
    result = MaintenanceResult(
        project="p",
        project_root="/p",
        session_id="s",
        run=MaintenanceRun(command="audit", status="ok", results={"findings": [1, 2]}),
    )
    assert bound(result, "nowhere") is result


def test_a_cut_result_keeps_its_shape_and_lists_what_it_left_out() -> None:
    result = MaintenanceResult(
        project="p",
        project_root="/p",
        session_id="s",
        run=MaintenanceRun(command="audit", status="ok", results=findings(), notes="n" * 60_000),
        warnings=[f"warning {n}" for n in range(3)],
    )
    cut = bound(result, "the ledger")
    assert isinstance(cut, MaintenanceResult)
    assert len(cut.model_dump_json()) <= BUDGET
    assert cut.warnings[:3] == result.warnings  # the flow's own warnings are kept
    assert cut.run.notes and cut.run.notes.endswith("characters left out]")
    assert (
        "the results of run" in cut.warnings[-1] and "characters of run.notes" in cut.warnings[-1]
    )
    assert cut.warnings[-1].endswith("The whole is kept in the ledger.")
