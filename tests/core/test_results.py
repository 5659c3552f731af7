"""What every flow's result carries (steps.result): how many secrets of which kinds were removed
from what it saved, in the CLI and the MCP tools alike (red team X9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from claude_session.core.facade import Core
from helpers.clirun import cli
from helpers.gitrepo import make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


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
