"""No code from the project folder ever runs (redteam E1, E2).

Claude Code runs hooks and MCP servers with the project folder, maybe a stranger's clone, as the
working directory. The project here holds a ``claude_session/`` package and ``venv.py``,
``pip.py``, ``ensurepip.py``, ``sitecustomize.py``, ``usercustomize.py``, ``json.py``,
``git.py``, ``mcp.py``, each of which leaves a marker file when imported; ``PYTHONPATH`` points
at it too. Every command we register (read back from what a real install wrote) or spawn runs
there, and no marker may appear.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import launch_mcp
from helpers.claude_code import claude_bin  # noqa: F401 - fixture
from helpers.gitrepo import make_repo

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ("SessionStart", "UserPromptSubmit", "Stop", "PreCompact", "SessionEnd")
MODULES = (
    "venv",
    "pip",
    "ensurepip",
    "sitecustomize",
    "usercustomize",
    "json",
    "git",
    "mcp",
)
PACKAGE = (
    "__init__",
    "__main__",
    "edges/__init__",
    "edges/cli",
    "edges/hooks/__init__",
    "edges/hooks/events",
)
INIT = (
    json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
    )
    + "\n"
)


def payload(marks: Path, name: str) -> str:
    return (
        "import os, sys\n"
        f"open(os.path.join({str(marks)!r}, {name!r}), 'w').write(os.getcwd())\n"
        "sys.stdout.write('{}')\n"
    )


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder


@pytest.fixture
def evil(tmp_path: Path, marks: Path) -> Path:
    """A cloned repository that tries to run its own code through claude-session."""
    repo = make_repo(tmp_path / "evilproj")
    for name in MODULES:
        (repo / f"{name}.py").write_text(payload(marks, name))
    package = repo / "claude_session"
    package.mkdir()
    for name in PACKAGE:
        (package / f"{name}.py").parent.mkdir(parents=True, exist_ok=True)
        (package / f"{name}.py").write_text(payload(marks, f"claude_session.{name}"))
    return repo


def hostile_env(project: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(project), **extra)
    env.pop("PYTHONSTARTUP", None)
    return env


def assert_nothing_ran(marks: Path, what: str) -> None:
    ran = sorted(p.name for p in marks.iterdir())
    assert not ran, f"{what}: code from the project folder ran: {ran}"


def run_shell(command: str, *, cwd: Path, stdin: str, env: dict[str, str]) -> str:
    """As Claude Code runs a hook: the command line through the shell, in the project."""
    proc = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def mcp_initialize(argv: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    """Start an MCP server command in ``cwd`` and return its answer to ``initialize``."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(INIT)
        proc.stdin.flush()
        line = proc.stdout.readline()
        proc.stdin.close()
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert '"serverInfo"' in line, line + proc.stderr.read()
    return line


def cli(*args: str, path_dir: Path) -> dict[str, object]:
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT / "server"),
        PATH=f"{path_dir}{os.pathsep}{os.environ['PATH']}",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


@pytest.fixture
def claude_on_path(tmp_path: Path, claude_bin: Path) -> Path:  # noqa: F811
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "claude").symlink_to(claude_bin)
    return folder


def registered_hooks(config: Path) -> dict[str, list[str]]:
    settings = json.loads((config / "settings.json").read_text())
    return {
        event: [h["command"] for g in groups for h in g["hooks"]]
        for event, groups in settings.get("hooks", {}).items()
    }


def registered_mcp(config: Path) -> list[str]:
    server = json.loads((config / ".claude.json").read_text())["mcpServers"]["session"]
    return [server["command"], *server.get("args", [])]


def test_E1_classic_install_commands_never_import_the_projects_code(
    isolated_home: Path, claude_on_path: Path, evil: Path, marks: Path
) -> None:
    result = cli("install", "--classic", path_dir=claude_on_path)
    assert str(result["mcp"]).startswith("registered"), result
    hooks = registered_hooks(isolated_home)
    env = hostile_env(evil)
    for event in EVENTS:
        [command] = hooks[event]
        data = {"session_id": "e1", "cwd": str(evil), "hook_event_name": event}
        out = run_shell(command, cwd=evil, stdin=json.dumps(data), env=env)
        assert_nothing_ran(marks, f"the {event} hook")
        assert out == "" or isinstance(json.loads(out), dict)
        assert " -I " in command and "-m claude_session" not in command, command
    # our own hook ran: the SessionStart hook opened the ledger entry
    assert (isolated_home / "claude-session" / "ledger" / "e1.json").is_file()

    argv = registered_mcp(isolated_home)
    line = mcp_initialize(argv, cwd=evil, env=env)
    assert_nothing_ran(marks, "the MCP server")
    assert '"session"' in line
    assert argv[1] == "-I" and "-m" not in argv, argv


def test_E1_the_plugin_hooks_never_import_the_projects_code(
    isolated_home: Path, evil: Path, marks: Path
) -> None:
    hooks = json.loads((ROOT / "hooks" / "hooks.json").read_text())["hooks"]
    env = hostile_env(evil, CLAUDE_PLUGIN_ROOT=str(ROOT))
    for event in EVENTS:
        [command] = [h["command"] for g in hooks[event] for h in g["hooks"]]
        data = {"session_id": "p1", "cwd": str(evil), "hook_event_name": event}
        out = run_shell(command, cwd=evil, stdin=json.dumps(data), env=env)
        assert_nothing_ran(marks, f"the plugin's {event} hook")
        assert out == "" or "systemMessage" not in json.loads(out), out
        assert command.startswith("python3 -I "), command
    assert (isolated_home / "claude-session" / "ledger" / "p1.json").is_file()


@pytest.fixture
def bare_python(tmp_path: Path) -> Path:
    """A Python without the dependencies, as on a machine where nothing was pip-installed."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    return bare / "bin" / "python"


def plugin_mcp_argv(python: Path) -> list[str]:
    """The plugin's MCP command from .mcp.json, with ``python3`` being ``python``."""
    server = json.loads((ROOT / ".mcp.json").read_text())["mcpServers"]["session"]
    assert server["command"] == "python3"
    args = [a.replace("${CLAUDE_PLUGIN_ROOT}", str(ROOT)) for a in server["args"]]
    return [str(python), *args]


@pytest.mark.slow
def test_E2_the_plugin_launchers_first_run_never_imports_the_projects_code(
    tmp_path: Path, evil: Path, marks: Path, bare_python: Path
) -> None:
    """First start on a bare Python: the launcher makes its venv (``-m venv``, which runs
    ``ensurepip``) and runs ``-m pip`` in a fresh plugin data folder. Offline here, so pip
    finds nothing (``PIP_NO_INDEX``) after it really started."""
    data = tmp_path / "plugin-data"
    env = hostile_env(evil, CLAUDE_PLUGIN_DATA=str(data), PIP_NO_INDEX="1")
    proc = subprocess.run(
        plugin_mcp_argv(bare_python),
        cwd=evil,
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert_nothing_ran(marks, "the launcher's venv and pip steps")
    assert proc.returncode == 1 and "reconnect with /mcp" in proc.stderr, proc.stderr
    log = (data / "venv-install.log").read_text()
    assert " -I -m venv " in log and " -I -m pip install " in log, log
    assert (data / "venv" / "bin" / "python").exists()  # the venv was made (ensurepip ran)
    assert "pip" in log.split(" -I -m pip install ", 1)[1].lower()  # pip's own complaint


@pytest.mark.slow
def test_E2_the_launcher_starts_the_venv_server_isolated_in_the_project(
    tmp_path: Path, evil: Path, marks: Path, bare_python: Path
) -> None:
    """With a ready venv, the launcher execs the server from it, in the project folder."""
    data = tmp_path / "plugin-data"
    venv = data / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # the dependencies from the interpreter running the tests (itself perhaps a venv, whose
    # packages --system-site-packages would not reach): a .pth naming its site-packages
    python = venv / "bin" / "python"
    site_dir = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(site_dir, "test-dependencies.pth").write_text(ours + "\n")
    (venv / ".claude-session-stamp").write_text(launch_mcp.stamp())
    env = hostile_env(evil, CLAUDE_PLUGIN_DATA=str(data))
    line = mcp_initialize(plugin_mcp_argv(bare_python), cwd=evil, env=env)
    assert_nothing_ran(marks, "the venv's MCP server")
    assert '"session"' in line


def test_E2_the_launcher_on_a_python_with_the_dependencies_never_imports_the_projects_code(
    isolated_home: Path, evil: Path, marks: Path
) -> None:
    python = sys.executable  # the interpreter running the tests has the dependencies
    line = mcp_initialize(plugin_mcp_argv(Path(python)), cwd=evil, env=hostile_env(evil))
    assert_nothing_ran(marks, "the launcher's own server")
    assert '"session"' in line
