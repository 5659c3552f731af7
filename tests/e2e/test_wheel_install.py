"""The README's quick start on a fresh machine: a wheel built from this checkout, installed into
a new virtualenv (never the system Python, which PEP 668 refuses on Debian and Ubuntu), run with
a new HOME and no configuration; then `claude-session install` (the plugin) from that ordinary,
non-editable install, driven by the real Claude Code, and `uninstall`.

The virtualenv sees the test Python's site-packages (a ``.pth`` line) for the runtime
dependencies only: claude-session itself comes from the wheel (checked), so the test needs no
package index except to build the wheel, when setuptools here is too old to build it offline.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.claude_code import find_claude, run_claude
from helpers.fake_anthropic import FakeAnthropic, request_text, text, tool_results, tool_use
from helpers.gitrepo import make_repo

ROOT = Path(__file__).resolve().parents[2]
STATUS_TOOL = "mcp__plugin_session_session__session_status"


def _can_build_offline() -> bool:
    try:
        from importlib.metadata import version

        major, minor = (int(x) for x in version("setuptools").split(".")[:2])
    except Exception:  # noqa: BLE001 - no setuptools: build in isolation
        return False
    return (major, minor) >= (70, 1) or (
        major >= 68 and importlib.util.find_spec("wheel") is not None
    )


def _source_copy(target: Path) -> Path:
    """The checkout's files as they are now (tracked and new, not ignored)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "-co", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("wheel")
    src = _source_copy(base / "src")
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-q",
        "-w",
        str(base / "dist"),
        str(src),
    ]
    if _can_build_offline():
        build.insert(4, "--no-build-isolation")
    done = subprocess.run(build, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (base / "dist").glob("claude_session-*.whl")
    env_dir = base / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120
    )
    python = env_dir / "bin" / "python"
    # the runtime dependencies (and pip) from this Python's site-packages, after the venv's own
    # (a .pth line adds a folder without running that folder's .pth files, so an editable
    # claude-session installed here does not come along)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "test-deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    done = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--ignore-installed",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    yield env_dir


def fresh_env(tmp_path: Path, venv: Path, bin_dir: Path | None = None) -> dict[str, str]:
    """A login with a new HOME, the venv's bin on PATH, nothing of ours configured."""
    home = tmp_path / "fresh-home"
    home.mkdir(exist_ok=True)
    path = [str(venv / "bin"), *([str(bin_dir)] if bin_dir else []), "/usr/bin", "/bin"]
    keep = {
        "LANG",
        "LC_ALL",
        "TMPDIR",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_GLOBAL",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    }
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(HOME=str(home), PATH=os.pathsep.join(path))
    return env


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["claude-session", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def test_the_wheel_installs_and_runs_a_session_with_no_configuration(
    tmp_path: Path, venv: Path
) -> None:
    env = fresh_env(tmp_path, venv)
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-I",
            "-c",
            "import claude_session, sys; print(claude_session.__file__)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the wheel's copy, not this checkout
    assert (Path(where).parent / "plugin" / ".claude-plugin" / "plugin.json").is_file()

    repo = make_repo(tmp_path / "proj")
    started = run(env, repo, "start")
    assert started.returncode == 0, started.stderr
    assert "ready in proj on main" in started.stdout
    ended = json.loads(
        run(env, repo, "--json", "end", "--summary", "WHEEL-END", "--no-push").stdout
    )
    assert ended["tracker"] == "local", ended
    state = Path(env["HOME"]) / ".claude"
    assert (state / "claude-session" / "tracker.db").is_file()
    history = run(env, repo, "history")
    assert history.returncode == 0 and "WHEEL-END" in history.stdout


@pytest.mark.skipif(
    find_claude() is None,
    reason="Claude Code client not installed: run `bash .ci/install_claude_code.sh`",
)
def test_plugin_install_from_the_wheel_runs_the_installed_copy(tmp_path: Path, venv: Path) -> None:
    claude = find_claude()
    assert claude is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(claude)
    env = fresh_env(tmp_path, venv, bin_dir)
    home = Path(env["HOME"])
    config = home / ".claude"
    repo = make_repo(tmp_path / "market")

    done = run(env, repo, "--json", "install")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    plugin = Path(result["marketplace"])
    assert plugin == config / "claude-session" / "plugin"
    hooks = json.loads((plugin / "hooks" / "hooks.json").read_text())
    start_hook = hooks["hooks"]["SessionStart"][0]["hooks"][0]["command"]
    assert str(venv / "bin" / "python") in start_hook and str(ROOT) not in start_hook
    mcp = json.loads((plugin / ".mcp.json").read_text())["mcpServers"]["session"]
    assert mcp["command"] == str(venv / "bin" / "python")
    listed = subprocess.run(
        ["claude", "plugin", "list"], env=env, capture_output=True, text=True, timeout=120
    ).stdout
    assert "session@claude-session" in listed

    context = config / "contexts" / "market-pause.md"
    context.parent.mkdir(parents=True, exist_ok=True)
    context.write_text("---\nproject: market\n---\n")
    (config / "pause-state.json").write_text(
        json.dumps(
            {
                "version": 1,
                "projects": {
                    str(repo): {
                        "project": "market",
                        "project_root": str(repo),
                        "branch": "main",
                        "context_file": str(context),
                        "paused_at": "2026-11-24T10:00:00+00:00",
                        "summary": "WHEEL-PAUSE summary",
                    }
                },
            }
        )
    )

    def status_call(body: dict[str, Any]) -> Any:
        return tool_use(STATUS_TOOL, {"cwd": str(repo)})

    with FakeAnthropic([status_call, text("done")]) as api:
        proc = run_claude(
            "check the session",
            cwd=repo,
            config_dir=config,
            home=home,
            base_url=api.base_url,
            allowed_tools=[STATUS_TOOL],
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        first, second = api.turn_requests[0], api.turn_requests[1]
    assert "WHEEL-PAUSE summary" in request_text(first)  # the installed SessionStart hook
    results = tool_results(second)
    assert results and "market" in json.dumps(results)  # the installed MCP server

    again = run(env, repo, "--json", "install")  # idempotent, replaces the earlier copy
    assert again.returncode == 0, again.stdout + again.stderr
    gone = run(env, repo, "--json", "uninstall")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    listed = subprocess.run(
        ["claude", "plugin", "list"], env=env, capture_output=True, text=True, timeout=120
    ).stdout
    assert "session@claude-session" not in listed
    assert not plugin.exists()
