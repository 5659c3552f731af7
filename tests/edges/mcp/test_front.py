"""The MCP server's start-up front (``mcp_front``): ``initialize`` and ``tools/list`` answered from
the cache of the SDK's own answers while the SDK is still being imported.

The server runs as the plugin starts it (``python -I server/launch_mcp.py``), in a real git
repository, spoken to with raw JSON-RPC lines; every line it writes is read and checked: each
request is answered exactly once, and the cached answers are the SDK's, byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_session.edges.mcp.front import cache_file as front_cache_file
from claude_session.edges.mcp.front import cache_key
from helpers.gitrepo import make_repo

ROOT = Path(__file__).resolve().parents[3]
LAUNCHER = ROOT / "server" / "launch_mcp.py"
VERSION = "2025-11-25"
IDS = [1, 2, 4, 5, 6, 3]  # the requests' ids, in order


def _line(message: dict[str, Any]) -> bytes:
    return (json.dumps(message) + "\n").encode()


def session(version: str = VERSION, list_id: Any = 2) -> list[dict[str, Any]]:
    """What Claude Code sends on connecting (it offers the tools once every list is answered),
    then one tool call."""
    return [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "front-test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": list_id, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 4, "method": "prompts/list"},
        {"jsonrpc": "2.0", "id": 5, "method": "resources/list"},
        {"jsonrpc": "2.0", "id": 6, "method": "resources/templates/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "set_reminder", "arguments": {}},
        },
    ]


def serve(
    repo: Path, requests: list[dict[str, Any]], *, guard: float = 120
) -> tuple[list[bytes], str]:
    """Run the server, send each request after the previous one is answered; all its stdout
    lines (none may be lost or doubled) and its stderr. A server still running after ``guard``
    seconds is hung: it is killed (its stdout closes, and the test fails)."""
    import threading

    proc = subprocess.Popen(
        [sys.executable, "-I", str(LAUNCHER)],
        cwd=repo,
        env=dict(os.environ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines: list[bytes] = []
    watchdog = threading.Timer(guard, proc.kill)
    watchdog.start()
    try:
        for request in requests:
            proc.stdin.write(_line(request))
            proc.stdin.flush()
            if "id" in request:
                line = proc.stdout.readline()
                assert line, "the server closed stdout"
                lines.append(line)
                assert json.loads(line)["id"] == request["id"], line[:200]
        rest, err = proc.communicate(timeout=60)  # stdin closed: the server stops
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
    lines += rest.splitlines(keepends=True)
    return lines, err.decode("utf-8", "replace")


@pytest.fixture
def repo(tmp_path: Path, isolated_home: Path) -> Path:
    return make_repo(tmp_path / "front-proj")


def cache_file(config: Path) -> Path:
    """This install's answer file (``front.cache_file``)."""
    return front_cache_file(config / "claude-session", cache_key())


def test_second_start_answers_from_the_cache_exactly_as_the_sdk_did(
    repo: Path, isolated_home: Path
) -> None:
    first, _ = serve(repo, session())
    cache = json.loads(cache_file(isolated_home).read_text())
    assert set(cache["versions"][VERSION]) == {
        "initialize",
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
    }
    second, err = serve(repo, session())
    # one answer per request, nothing doubled, the cached ones identical to the SDK's
    assert [json.loads(line)["id"] for line in second] == IDS, err
    assert second[:5] == first[:5]
    tools = {t["name"] for t in json.loads(second[1])["result"]["tools"]}
    assert "pause_session" in tools and len(tools) == 8
    assert json.loads(second[4])["result"]["resourceTemplates"]
    assert json.loads(second[5])["result"]["structuredContent"]["settings"] is not None


def test_a_stale_cache_is_used_once_then_rewritten_from_the_sdk(
    repo: Path, isolated_home: Path
) -> None:
    serve(repo, session())
    path = cache_file(isolated_home)
    cache = json.loads(path.read_text())
    cache["versions"][VERSION]["tools/list"] = {"tools": []}  # as after a change of tools
    path.write_text(json.dumps(cache))
    stale, err = serve(repo, session())
    assert [json.loads(line)["id"] for line in stale] == IDS
    assert json.loads(stale[1])["result"]["tools"] == []  # the front answered from the cache
    assert "out of date" in err
    fresh, _ = serve(repo, session())
    assert len(json.loads(fresh[1])["result"]["tools"]) == 8


def test_cache_of_other_sources_or_another_protocol_version_is_not_used(
    repo: Path, isolated_home: Path
) -> None:
    serve(repo, session())
    path = cache_file(isolated_home)
    cache = json.loads(path.read_text())
    cache["versions"][VERSION]["tools/list"] = {"tools": []}
    cache["key"] = [*cache["key"][:-1], "another pydantic"]
    path.write_text(json.dumps(cache))
    lines, _ = serve(repo, session())
    assert len(json.loads(lines[1])["result"]["tools"]) == 8  # the SDK's own answer
    lines, _ = serve(repo, session(version="2025-06-18", list_id="list-a"))
    assert [json.loads(line)["id"] for line in lines] == [1, "list-a", *IDS[2:]]
    assert len(json.loads(lines[1])["result"]["tools"]) == 8
    versions = json.loads(path.read_text())["versions"]
    assert {VERSION, "2025-06-18"} <= set(versions)


def test_a_broken_cache_file_costs_only_time(repo: Path, isolated_home: Path) -> None:
    path = cache_file(isolated_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"key": ["not json')
    lines, _ = serve(repo, session())
    assert [json.loads(line)["id"] for line in lines] == IDS
    assert json.loads(path.read_text())["versions"][VERSION]["tools/list"]["tools"]


def test_warm_makes_the_first_start_answer_from_the_cache(
    repo: Path, isolated_home: Path, tmp_path: Path
) -> None:
    from claude_session.edges.mcp import front as mcp_front

    # as `install` does: the server run as the plugin runs it, once per protocol version, in
    # parallel (each server keeps the versions the others wrote)
    problems = mcp_front.warm([sys.executable, "-I", str(LAUNCHER)], cwd=tmp_path)
    assert problems == []
    path = cache_file(isolated_home)
    versions = json.loads(path.read_text())["versions"]
    assert set(versions) == set(mcp_front.handshake_versions())
    for answers in versions.values():
        assert set(answers) == set(mcp_front.CACHED_METHODS)
        assert len(answers["tools/list"]["tools"]) == 8
    # the very first session is answered by the front, from what warm made
    cache = json.loads(path.read_text())
    cache["versions"][VERSION]["tools/list"] = {"tools": [{"name": "from-the-cache"}]}
    path.write_text(json.dumps(cache))
    lines, _ = serve(repo, session())
    assert json.loads(lines[1])["result"]["tools"] == [{"name": "from-the-cache"}]


def test_warm_reports_a_server_that_does_not_answer(tmp_path: Path) -> None:
    from claude_session.edges.mcp import front as mcp_front

    silent = [sys.executable, "-c", "import sys, time; sys.stdin.read(); time.sleep(30)"]
    problems = mcp_front.warm(silent, cwd=tmp_path, versions=("2025-11-25",), timeout=2)
    assert len(problems) == 1 and "2025-11-25" in problems[0], problems
    missing = mcp_front.warm([str(tmp_path / "no-such-python")], cwd=tmp_path)
    assert missing and all("did not start" in p for p in missing)


def _discover(ident: int) -> dict[str, Any]:
    """The 2026-07-28 protocol's probe, as Claude Code 2.1.332 sends it first."""
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "front-test", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return {"jsonrpc": "2.0", "id": ident, "method": "server/discover", "params": {"_meta": meta}}


def test_a_session_opened_with_server_discover_is_the_sdks_alone_even_with_a_warm_cache(
    repo: Path, isolated_home: Path
) -> None:
    """Claude Code 2.1.332 probes with ``server/discover`` and, when a slow server has not
    answered within ~3 s, falls back to ``initialize`` on the same process. The probe reaches
    the SDK first, so the SDK serves the 2026-07-28 protocol: an ``initialize`` answered early
    from the cache (in 2025-11-25) would split the connection. The front stays silent; the
    SDK answers the probe and refuses the late ``initialize``."""
    serve(repo, session())  # a 2025-11-25 session first: the cache is warm
    assert cache_file(isolated_home).is_file()
    proc = subprocess.Popen(
        [sys.executable, "-I", str(LAUNCHER)],
        cwd=repo,
        env={**os.environ, "CLAUDE_SESSION_MCP_START_DELAY": "2"},  # a slow start
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(_line(_discover(0)) + _line(session()[0]))  # the probe, the fallback
        proc.stdin.flush()
        first, second = json.loads(proc.stdout.readline()), json.loads(proc.stdout.readline())
    finally:
        proc.kill()
        proc.wait()
    assert first["id"] == 0 and "result" in first, first  # the SDK's own answer, first
    assert first["result"]["supportedVersions"], first
    assert second["id"] == 1 and "result" not in second, second  # no legacy handshake
    assert second["error"]["code"] == -32022, second


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _huge(path: Path) -> None:
    with path.open("wb") as handle:  # sparse: no disk, 300 MB by its size
        handle.truncate(300 * 1024 * 1024)


@pytest.mark.parametrize("plant", [_fifo, _dev_zero, _huge], ids=["fifo", "dev-zero", "huge"])
def test_a_cache_that_is_a_fifo_a_device_link_or_huge_never_stops_the_server(
    repo: Path, isolated_home: Path, plant: Any
) -> None:
    """N6, N7: ``mcp-answers.json`` as a FIFO (read blocked forever), a link to /dev/zero
    (MemoryError) or a 300 MB file: every request is answered, the bad file is moved aside and
    a fresh cache written in its place."""
    path = cache_file(isolated_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    plant(path)
    lines, err = serve(repo, session(), guard=60)
    assert [json.loads(line)["id"] for line in lines] == IDS, err
    assert "MemoryError" not in err and "Traceback" not in err, err
    assert path.is_file() and not path.is_symlink()
    assert json.loads(path.read_text())["versions"][VERSION]["tools/list"]["tools"]
    assert list(path.parent.glob(f"{path.name}.corrupt-*")), err


def test_two_installs_sharing_one_state_folder_keep_their_own_answers(tmp_path: Path) -> None:
    """N8 (redteam-2): a ``--plugin-dir`` checkout and a pipx install alternate on one home;
    each has its own answer file, so neither start replaces the other's answers. A change of
    code in one install (sizes and times in its key) keeps that install's file name."""
    key = cache_key()
    other = [key[0], *(part.replace("/", "/other/", 1) for part in key[1:])]
    touched = [key[0], *(part.rsplit(":", 2)[0] + ":1:2" for part in key[1:])]
    assert front_cache_file(tmp_path, key) != front_cache_file(tmp_path, other)
    assert front_cache_file(tmp_path, key) == front_cache_file(tmp_path, touched)
    assert front_cache_file(tmp_path, key).name.startswith("mcp-answers-")


def _imported(importtime: str) -> set[str]:
    """The modules named in ``python -X importtime`` lines (each as it finished importing)."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in importtime.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_the_first_status_runs_without_gitpython_which_a_commit_then_loads(
    repo: Path, tmp_path: Path
) -> None:
    """Issue 23: from spawn to the first tool result no slower than ``mcp-server-git``. A status
    (what a session's first look at its state asks) reads git without GitPython, whose import
    was most of the first call's time; writing (an end's commit) still loads it. Checked in the
    server as the plugin starts it, with ``-X importtime`` (each module as it is imported)."""
    stderr_file = tmp_path / "server-stderr.txt"
    (repo / "work.txt").write_text("to commit\n")
    requests = session()[:3] + [
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": "session_status", "arguments": {}},
        },
        {
            "jsonrpc": "2.0",
            "id": 9,
            "method": "tools/call",
            "params": {"name": "start_session", "arguments": {"session_id": "s-23"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 8,
            "method": "tools/call",
            "params": {
                "name": "end_session",
                "arguments": {
                    "session_id": "s-23",
                    "summary": "done",
                    "commit_message": "Work",
                    "push": False,
                },
            },
        },
    ]
    with stderr_file.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-X", "importtime", str(LAUNCHER)],
            cwd=repo,
            env=dict(os.environ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        assert proc.stdin is not None and proc.stdout is not None
        seen: dict[int, tuple[dict[str, Any], set[str]]] = {}
        try:
            for request in requests:
                proc.stdin.write(_line(request))
                proc.stdin.flush()
                if "id" in request:
                    answer = json.loads(proc.stdout.readline())
                    seen[answer["id"]] = (answer, _imported(stderr_file.read_text()))
            proc.stdin.close()
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    status, before = seen[7]
    assert status["result"]["structuredContent"]["branch"] == "main", status
    assert "mcp.server.mcpserver" in before and "claude_session.core.facade" in before
    assert "git" not in before
    ended, after = seen[8]
    assert ended["result"].get("structuredContent", {}).get("commit"), ended
    assert "git" in after
