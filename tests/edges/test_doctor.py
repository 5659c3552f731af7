"""`doctor` tells the truth: it contacts the tracker (a real service on 127.0.0.1) and the vault
(the fake 1Password) within a time limit, checks that Claude Code is wired, says what to do for
each problem, and exits 1 when anything is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.edges.doctor import run_checks
from claude_session.edges.wiring import HOOK_EVENTS, hook_command
from claude_session.vault.onepassword import OnePasswordVault
from helpers.claude_code import claude_bin  # noqa: F401 - fixture
from helpers.fake_onepassword import VALID_TOKEN, FakeOnePassword
from helpers.tracker_service import Service, closed_port, tracker_service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with tracker_service(tmp_path) as running:
        yield running


@pytest.fixture
def wired(
    isolated_home: Path,
    tmp_path: Path,
    claude_bin: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """The classic hooks in the user settings and the real `claude` on PATH."""
    hooks = {e: [{"hooks": [{"type": "command", "command": hook_command(e)}]}] for e in HOOK_EVENTS}
    (isolated_home / "settings.json").write_text(json.dumps({"hooks": hooks}))
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "claude").symlink_to(claude_bin)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return isolated_home


def doctor(
    home: Path, tmp_path: Path, *, vault: Any = None, limit: float = 5.0, **env: str
) -> dict[str, dict[str, Any]]:
    settings = Settings.from_env({"CLAUDE_CONFIG_DIR": str(home), **env})
    with Core(settings, vault=vault) as core:
        result = run_checks(core, tmp_path, time_limit=limit).model_dump()
    checks = {c["check"]: c for c in result["checks"]}
    assert (result["status"] == "ok") == all(c["ok"] for c in checks.values())
    for c in checks.values():
        assert c["ok"] or c["fix"], c  # every problem says what to do
    return checks


def test_all_fine_with_a_live_tracker_and_its_key(
    wired: Path, tmp_path: Path, service: Service
) -> None:
    checks = doctor(
        wired,
        tmp_path,
        CLAUDE_SESSION_TRACKER_URL=service.url,
        CLAUDE_SESSION_TRACKER_TOKEN=service.key,
    )
    assert all(c["ok"] for c in checks.values()), checks
    assert "answered" in checks["tracker"]["detail"]
    assert "classic install" in checks["wired"]["detail"]


def test_a_refused_key_a_missing_key_and_a_tracker_that_is_down_are_problems(
    wired: Path, tmp_path: Path, service: Service
) -> None:
    refused = doctor(
        wired,
        tmp_path,
        CLAUDE_SESSION_TRACKER_URL=service.url,
        CLAUDE_SESSION_TRACKER_TOKEN="cst_not_a_key",
    )["tracker"]
    assert not refused["ok"] and "refused the key" in refused["detail"]
    assert "CLAUDE_SESSION_TRACKER_TOKEN" in refused["fix"]
    missing = doctor(wired, tmp_path, CLAUDE_SESSION_TRACKER_URL=service.url)["tracker"]
    assert not missing["ok"] and "CLAUDE_SESSION_TRACKER_TOKEN is not" in missing["detail"]
    down = doctor(
        wired,
        tmp_path,
        CLAUDE_SESSION_TRACKER_URL=f"http://127.0.0.1:{closed_port()}",
        CLAUDE_SESSION_TRACKER_TOKEN=service.key,
    )["tracker"]
    assert not down["ok"] and "cannot be reached" in down["detail"]
    assert "tracker serve" in down["fix"]
    bad_url = doctor(wired, tmp_path, CLAUDE_SESSION_TRACKER_URL="127.0.0.1:9")["tracker"]
    assert not bad_url["ok"] and "http://" in bad_url["fix"]


def test_a_tracker_that_hangs_is_cut_at_the_time_limit(wired: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        check = doctor(
            wired,
            tmp_path,
            limit=1.0,
            CLAUDE_SESSION_TRACKER_URL=url,
            CLAUDE_SESSION_TRACKER_TOKEN="cst_x",
        )["tracker"]
        took = time.monotonic() - started
    assert not check["ok"] and "did not answer" in check["detail"]
    assert took < 30  # generous: the limit is 1 s, a hung check would wait forever


def test_1password_is_contacted(wired: Path, tmp_path: Path) -> None:
    fake = FakeOnePassword()
    env = {"OP_SERVICE_ACCOUNT_TOKEN": VALID_TOKEN}
    settings = Settings.from_env({"CLAUDE_CONFIG_DIR": str(wired), **env})
    good = doctor(
        wired, tmp_path, vault=OnePasswordVault(settings, authenticate=fake.authenticate), **env
    )["vault"]
    assert good["ok"] and "answered" in good["detail"]

    bad_env = {"OP_SERVICE_ACCOUNT_TOKEN": "ops_garbage"}
    bad_settings = Settings.from_env({"CLAUDE_CONFIG_DIR": str(wired), **bad_env})
    bad = doctor(
        wired,
        tmp_path,
        **bad_env,
        vault=OnePasswordVault(bad_settings, authenticate=fake.authenticate),
    )["vault"]
    assert not bad["ok"] and "OP_SERVICE_ACCOUNT_TOKEN" in bad["detail"] and "token" in bad["fix"]
    assert "ops_garbage" not in json.dumps(bad)

    fake.network_down()
    down = doctor(
        wired, tmp_path, vault=OnePasswordVault(settings, authenticate=fake.authenticate), **env
    )["vault"]
    assert not down["ok"] and "Check the connection" in down["fix"]

    fake.heal()
    fake.rate_limited()  # N11: the hint is the message's own, not the network's
    limited = doctor(
        wired, tmp_path, vault=OnePasswordVault(settings, authenticate=fake.authenticate), **env
    )["vault"]
    assert "rate limit" in limited["detail"] and "wait a while" in limited["fix"]
    assert "network" not in limited["fix"]


def test_not_wired_and_a_bad_routine_are_problems_and_the_cli_exits_1(
    isolated_home: Path,
    tmp_path: Path,
    claude_bin: Path,  # noqa: F811
) -> None:  # noqa: F811
    routine = isolated_home / "routines" / "handoff.json"
    routine.parent.mkdir()
    routine.write_text("{ nope")
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "claude").symlink_to(claude_bin)
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT / "server"),
        PATH=f"{folder}{os.pathsep}{os.environ['PATH']}",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "doctor"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("BAD  wired") for line in lines), proc.stdout
    assert any(line.startswith("BAD  routine") for line in lines), proc.stdout
    assert "claude-session install" in proc.stdout
    assert any(line.startswith("ok   tracker") for line in lines)  # the local one


@pytest.mark.parametrize("name", ["session", "plugin_session_session", "plugin:session:session"])
def test_a_project_server_with_our_tool_names_is_a_problem(
    wired: Path, tmp_path: Path, name: str
) -> None:
    """N36: doctor, run in a clone whose .mcp.json takes claude-session's server name."""
    (tmp_path / ".mcp.json").write_text(
        json.dumps({"mcpServers": {name: {"command": "python3", "args": ["probe.py"]}}})
    )
    check = doctor(wired, tmp_path)["project MCP servers"]
    assert not check["ok"] and ".mcp.json" in check["detail"] and name in check["detail"]
    assert "Remove that server" in check["fix"]
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {"sessions": {}}}))
    assert doctor(wired, tmp_path)["project MCP servers"]["ok"]
