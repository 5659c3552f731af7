"""No filter or diff program the repository's own config names runs on a git command of ours
(issue 25, following G4 of redteam-2): ``filter.NAME.clean``/``smudge``/``process`` set in
``.git/config`` (directly, through an included file, or in a submodule's config) and named by
``.gitattributes``; ``diff.NAME.textconv``/``command`` and ``diff.external``. Driven through
real hook processes, the status line, the CLI and the MCP server over its real client, in real
repositories with a bare remote. A filter the user set up in their own global config (git-lfs's
way) still runs on ``end``'s ``git add``; a write that would go without the repository's own
filter is refused, with nothing staged or committed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from mcp import Client

from helpers.clirun import cli
from helpers.gitrepo import git, make_remote, make_repo
from helpers.hookrun import EVENTS, ROOT, run_hook, statusline
from helpers.mcp_stdio import call, cli_server, error_text


def spy(folder: Path, log: Path, name: str, *, prefix: str = "") -> Path:
    """A filter-like program that notes each run in ``log`` and passes its input through
    (``prefix`` before it: a clean filter whose work shows in the commit)."""
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {name} >> '{log}'\nprintf '%s' '{prefix}'\ncat\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def ran(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def arm(repo: Path, tmp_path: Path, log: Path, name: str, how: str) -> None:
    """Give driver ``name``'s filter and diff programs (spies) in the repository's own
    config: ``config`` directly, ``include`` through an included file, ``includeIf`` through
    a file included on a condition (the branch)."""
    settings = {
        f"filter.{name}.clean": str(spy(tmp_path, log, "clean")),
        f"filter.{name}.smudge": str(spy(tmp_path, log, "smudge")),
        f"filter.{name}.process": str(spy(tmp_path, log, "process")),
        f"diff.{name}.textconv": str(spy(tmp_path, log, "textconv")),
        f"diff.{name}.command": str(spy(tmp_path, log, "diffcommand")),
        "diff.external": str(spy(tmp_path, log, "external")),
    }
    target = ["--file", str(tmp_path / "extra.gitconfig")] if how != "config" else []
    for key, value in settings.items():
        git(repo, "config", *target, key, value)
    if how == "include":
        git(repo, "config", "include.path", str(tmp_path / "extra.gitconfig"))
    elif how == "includeIf":  # only while on main, as git decides it
        git(repo, "config", "includeIf.onbranch:main.path", str(tmp_path / "extra.gitconfig"))


def attributed(tmp_path: Path, line: str) -> tuple[Path, Path]:
    """A repository with a bare remote whose ``.gitattributes`` says ``line`` (committed,
    pushed), and where the spies will log."""
    repo = make_repo(tmp_path / "proj")
    make_remote(repo, tmp_path / "remote.git")
    (repo / ".gitattributes").write_text(f"{line}\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes")
    git(repo, "push", "-q")
    return repo, tmp_path / "ran.log"


def touch_tracked(repo: Path) -> None:
    """README.md rewritten with its own content and an old time: git must read it (through
    the clean filter) to tell whether it changed."""
    readme = repo / "README.md"
    readme.write_text(readme.read_text())
    os.utime(readme, (1_000_000_000, 1_000_000_000))


@pytest.fixture(params=[("config", "x"), ("include", "x"), ("includeIf", "x"), ("config", "a=b")])
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    """A repository whose own config names filter and diff programs for every file (a driver
    name with ``=`` too, which ``-c name=value`` could not carry), and the spies' log."""
    how, name = request.param
    repo, log = attributed(tmp_path, f"* filter={name} diff={name}")
    arm(repo, tmp_path, log, name, how)
    touch_tracked(repo)
    (repo / "new.txt").write_text("new\n")
    return repo, log


def test_no_hook_and_no_status_line_runs_a_filter_of_the_repository(
    hostile: tuple[Path, Path],
) -> None:
    repo, log = hostile
    env = {"CLAUDE_PLUGIN_ROOT": str(ROOT)}
    for event in EVENTS:
        data = {"session_id": "h1", "cwd": str(repo), "hook_event_name": event}
        run_hook(event, data, cwd=repo, env=env)
        touch_tracked(repo)
    statusline(repo, "h1")
    assert ran(log) == []


def test_the_cli_runs_no_filter_and_refuses_to_commit_without_it(
    hostile: tuple[Path, Path],
) -> None:
    """start, status, pause and resume read the tree without the repository's filter; a WIP
    commit (the pause goes on without it, saying why) and end's commit are refused (git
    would store the files unfiltered), nothing staged or committed, and the message names
    the filter."""
    repo, log = hostile
    head = git(repo, "rev-parse", "HEAD")
    for args in (
        ("start", "--session-id", "s1"),
        ("status",),
        ("pause", "--session-id", "s1", "--summary", "half"),
        ("resume", "--session-id", "s2"),
    ):
        proc = cli(*args, cwd=repo)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        touch_tracked(repo)
    for args, code in (
        (("pause", "--session-id", "s2", "--summary", "wip", "--wip-commit"), 0),  # no WIP
        (("resume", "--session-id", "s3"), 0),
        (("end", "--session-id", "s3", "--summary", "done", "-m", "Finish"), 1),
    ):
        proc = cli(*args, cwd=repo)
        assert proc.returncode == code, (args, proc.stdout, proc.stderr)
        said = " ".join((proc.stdout + proc.stderr).split())
        if args[0] != "resume":
            assert "names the filter program(s)" in said and "runs no program" in said, said
        touch_tracked(repo)
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "diff", "--cached", "--name-only") == ""
    assert ran(log) == []


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_mcp_tools_run_no_filter_of_the_repository(
    hostile: tuple[Path, Path],
) -> None:
    repo, log = hostile
    async with Client(cli_server(repo)) as client:
        await call(client, "session_status", cwd=str(repo))
        await call(client, "start_session", cwd=str(repo), session_id="m1")
        touch_tracked(repo)
        await call(client, "pause_session", cwd=str(repo), session_id="m1", summary="half")
        touch_tracked(repo)
        await call(client, "resume_session", cwd=str(repo), session_id="m2")
        touch_tracked(repo)
        result = await client.call_tool(
            "end_session",
            {"cwd": str(repo), "session_id": "m2", "summary": "done", "commit_message": "Fin"},
        )
    assert "names the filter program(s)" in " ".join(error_text(result).split())
    assert git(repo, "log", "-1", "--format=%s") == "attributes"
    assert ran(log) == []


@pytest.mark.parametrize(
    "keys",
    [("diff.x.textconv",), ("diff.x.textconv", "diff.x.command", "diff.external")],
)
def test_a_diff_program_of_the_repository_never_runs_on_a_full_session(
    tmp_path: Path, keys: tuple[str, ...]
) -> None:
    """Diff drivers only (no filter): every flow goes through, commit and push included, and
    neither textconv (alone, or masked by a command), nor a driver's command, nor
    ``diff.external`` ran. (A guard: none of today's diffs prints a patch, which is what
    runs them; every diff we run also says ``--no-ext-diff --no-textconv``.)"""
    repo, log = attributed(tmp_path, "* diff=x")
    for key in keys:
        git(repo, "config", key, str(spy(tmp_path, log, key.replace(".", "-"))))
    start = git(repo, "rev-parse", "HEAD")
    (repo / "README.md").write_text("changed\n")
    for args in (
        ("start", "--session-id", "d1"),
        ("pause", "--session-id", "d1", "--summary", "half", "--wip-commit"),
        ("resume", "--session-id", "d2"),
        ("end", "--session-id", "d2", "--summary", "done", "-m", "Finish", "--keep-wip"),
    ):
        if args[0] == "end":
            (repo / "more.txt").write_text("more\n")
        proc = cli(*args, cwd=repo)
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    assert git(repo, "log", "-1", "--format=%s") == "Finish"
    assert git(repo, "rev-list", "--count", f"{start}..HEAD") == "2"
    for event in EVENTS:
        run_hook(event, {"session_id": "d2", "cwd": str(repo)}, cwd=repo)
    assert ran(log) == []


def test_a_filter_of_the_users_own_config_still_runs_on_end(tmp_path: Path) -> None:
    """git-lfs's way: the driver in the user's global config runs on end's ``git add`` (its
    work is in the commit), even where the repository's own config gives the same driver
    another program (the user's wins; the repository's never runs)."""
    repo, log = attributed(tmp_path, "*.bin filter=lfs")
    git(repo, "config", "--global", "filter.lfs.clean", str(spy(tmp_path, log, "lfs", prefix="P:")))
    git(repo, "config", "--global", "filter.lfs.required", "true")
    git(repo, "config", "filter.lfs.clean", str(spy(tmp_path, log, "clean")))
    assert cli("start", "--session-id", "l1", cwd=repo).returncode == 0
    (repo / "big.bin").write_text("data\n")
    proc = cli("end", "--session-id", "l1", "--summary", "done", "-m", "Add big", cwd=repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(repo, "show", "HEAD:big.bin") == "P:data"
    assert "lfs" in ran(log) and "clean" not in ran(log)


@pytest.mark.parametrize("kept", ["absorbed", "in its own folder"])
def test_a_filter_in_a_submodules_own_config_never_runs(tmp_path: Path, kept: str) -> None:
    """``git status`` looks inside a submodule with that submodule's config: a filter named
    there runs unless kept off too (the hooks, the status line and the CLI's status), whether
    its git folder is under ``.git/modules`` or in the submodule's own folder."""
    lib = make_repo(tmp_path / "lib")
    (lib / ".gitattributes").write_text("* filter=z\n")
    git(lib, "add", ".gitattributes")
    git(lib, "commit", "-q", "-m", "attributes")
    repo = make_repo(tmp_path / "proj")
    if kept == "absorbed":
        git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "lib")
    else:  # an existing clone added as it is: its .git stays a folder
        git(tmp_path, "clone", "-q", str(lib), str(repo / "lib"))
        git(repo, "submodule", "add", "-q", str(lib), "lib")
        assert (repo / "lib" / ".git").is_dir()
    git(repo, "commit", "-q", "-m", "submodule")
    log = tmp_path / "ran.log"
    git(repo / "lib", "config", "filter.z.clean", str(spy(tmp_path, log, "clean")))
    touch_tracked(repo / "lib")
    for event in EVENTS:
        run_hook(event, {"session_id": "u1", "cwd": str(repo)}, cwd=repo)
        touch_tracked(repo / "lib")
    statusline(repo, "h1")
    touch_tracked(repo / "lib")
    assert cli("status", cwd=repo).returncode == 0
    assert ran(log) == []
