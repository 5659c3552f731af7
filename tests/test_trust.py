"""A cloned repository is untrusted input: the hooks' git reading, transcript paths and the
shared session logic, attacked as in ``shared/findings/redteam.md`` (tests named by row id)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from claude_session.base import gitread, sessions
from claude_session.base.state import ledger
from claude_session.core.lifecycle import Core
from claude_session.paths import Paths
from helpers.gitrepo import commit_file, git, make_repo
from helpers.hookrun import EVENTS, hook_argv

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
HANG_GUARD = 60  # seconds: a hook still running then is hung (its own deadlines are far below)


def hook(
    event: str,
    cwd: Path,
    *,
    session_id: str = "s1",
    env: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any] | None:
    data = {"session_id": session_id, "cwd": str(cwd), "hook_event_name": event, **extra}
    proc = subprocess.run(
        hook_argv(event),
        input=json.dumps(data),
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=HANG_GUARD,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(SERVER)},
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "proj")


def entry(home: Path, sid: str) -> dict[str, Any]:
    found = ledger.get(Paths(home), sid)
    assert found is not None
    return found


# --- transcripts (H4-H6) -------------------------------------------------------------------


@pytest.mark.parametrize("event", ["PreCompact", "SessionEnd", "Stop"])
def test_H4_dev_zero_as_transcript_never_hangs_a_hook(event: str, repo: Path) -> None:
    hook("SessionStart", repo, source="startup")
    out = hook(event, repo, transcript_path="/dev/zero")
    assert out is None or "systemMessage" not in out


@pytest.mark.parametrize("event", ["PreCompact", "SessionEnd"])
def test_H5_fifo_as_transcript_never_hangs_a_hook(event: str, repo: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "t.jsonl"
    os.mkfifo(fifo)
    hook("SessionStart", repo, source="startup")
    out = hook(event, repo, transcript_path=str(fifo))
    assert out is None or "systemMessage" not in out


def test_H6_a_stored_bad_transcript_path_never_blocks_later_starts_or_sync(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    hook("SessionStart", repo, session_id="dead", source="startup")
    hook("Stop", repo, session_id="dead", transcript_path=str(fifo))
    with ledger.edit(Paths(isolated_home), "dead") as data:
        data["claude_pid"] = 2**22 + 12345  # a Claude Code that is gone
    assert entry(isolated_home, "dead")["transcript_path"] == str(fifo)
    hook("SessionStart", repo, session_id="next", source="startup")
    assert entry(isolated_home, "dead")["status"] == "finalized"
    # the same with the CLI: start and sync finalize the orphan and return
    hook("Stop", repo, session_id="dead2", transcript_path="/dev/zero")
    with ledger.edit(Paths(isolated_home), "dead2") as data:
        data["claude_pid"] = 2**22 + 12346
    assert cli("sync", cwd=repo).returncode == 0
    assert entry(isolated_home, "dead2")["status"] == "finalized"


# --- the hooks' git reading (H9-H11) ---------------------------------------------------------


def test_H9_hooks_never_take_the_index_lock(repo: Path, isolated_home: Path) -> None:
    assert cli("remind", "on", "--every", "1", "--dirty-files", "1", cwd=repo).returncode == 0
    (repo / "README.md").write_text("hello\n")  # same content, new mtime: index entry stale
    os.utime(repo / "README.md", (1, 1))
    (repo / "new.txt").write_text("x")
    index = repo / ".git" / "index"
    before = index.stat()
    out = hook("UserPromptSubmit", repo, prompt="hi")
    assert out and "uncommitted" in out["hookSpecificOutput"]["additionalContext"]
    hook("PreCompact", repo)
    after = index.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_H10_a_head_pointing_outside_the_repository_is_never_read(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    secret = tmp_path / "private-note.txt"
    secret.write_text("MY_PRIVATE_NOTE_line1\nsecond line\n")
    rel = os.path.relpath(secret, repo / ".git")
    (repo / ".git" / "HEAD").write_text(f"ref: {rel}\n")
    hook("SessionStart", repo, source="startup")
    hook("PreCompact", repo)
    out = hook("SessionStart", repo, source="compact")
    assert "MY_PRIVATE_NOTE" not in json.dumps(entry(isolated_home, "s1"))
    assert "MY_PRIVATE_NOTE" not in json.dumps(out or {})
    for path in isolated_home.rglob("*"):
        if path.is_file():
            assert b"MY_PRIVATE_NOTE" not in path.read_bytes(), path


def test_H10_a_ref_symlinked_out_of_the_repository_is_never_read(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    secret = tmp_path / "victim-secret"
    secret.write_text("0123456789abcdef0123456789abcdef01234567\n")  # even if it looks like a sha
    ref = repo / ".git" / "refs" / "heads" / "main"
    ref.unlink()
    ref.symlink_to(secret)
    hook("SessionStart", repo, source="startup")
    assert entry(isolated_home, "s1")["starting_head"] is None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a repository to another user")
def test_H10_a_repository_owned_by_another_user_is_not_read(
    tmp_path: Path, isolated_home: Path
) -> None:
    import pwd

    nobody = pwd.getpwnam("nobody")
    shared = make_repo(tmp_path / "shared")
    secret = tmp_path / "victim-0600"
    secret.write_text("VICTIM-SECRET\n")
    secret.chmod(0o600)
    ref = shared / ".git" / "refs" / "heads" / "main"
    ref.unlink()
    ref.symlink_to(secret)
    work = shared / "work"
    work.mkdir()
    for base, dirs, files in os.walk(shared):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(base, name), nobody.pw_uid, nobody.pw_gid)
    os.chown(shared, nobody.pw_uid, nobody.pw_gid)
    os.chown(work, os.geteuid(), os.getegid())  # the victim's own folder inside it
    assert gitread.find_git(work) is None
    hook("SessionStart", work, source="startup")
    assert "VICTIM" not in json.dumps(entry(isolated_home, "s1"))


def test_H11_a_ref_name_never_reaches_git_as_an_option(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    target = tmp_path / "INJECTED"
    (repo / ".git" / "refs" / "heads" / "evil").write_text(f"--output={target}\n")
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/evil\n")
    hook("SessionStart", repo, source="startup")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "a.txt", "a")
    hook("SessionEnd", repo)
    assert not target.exists()
    assert not Path(f"{target}..HEAD").exists()


def test_the_git_reader_refuses_names_that_are_options_or_escape() -> None:
    assert not gitread.is_ref_name("refs/heads/-x")
    assert not gitread.is_ref_name("../../etc/passwd")
    assert not gitread.is_ref_name("refs/heads/../../../x")
    assert not gitread.is_ref_name("--output=/tmp/x")
    assert gitread.is_ref_name("refs/heads/feature/x-1")
    assert not gitread.is_oid("--output=/tmp/x")
    assert gitread.session_files(Path("/"), "--output=/tmp/x") == []


# --- one record, however the session ended (issue 9 part 2) ----------------------------------


def test_end_and_hook_finalization_agree_on_renames_deletions_and_non_ascii_paths(
    tmp_path: Path, isolated_home: Path
) -> None:
    def session(name: str) -> tuple[Path, str]:
        repo = make_repo(tmp_path / name)
        commit_file(repo, "a.txt", "a\n" * 50)
        commit_file(repo, "gone.txt", "bye")
        commit_file(repo, "sp ace é.txt", "1")
        start = git(repo, "rev-parse", "HEAD")
        git(repo, "mv", "a.txt", "b.txt")
        git(repo, "rm", "-q", "gone.txt")
        (repo / "sp ace é.txt").write_text("2")
        git(repo, "commit", "-qam", "rename, delete, edit")
        return repo, start

    by_hook, start = session("hooked")
    ledger.touch(
        Paths(isolated_home),
        ledger.new_entry(
            session_id="h",
            project="hooked",
            project_root=str(by_hook),
            branch="main",
            head=start,
            source="startup",
        ),
    )
    assert sessions.finalize_session(Paths(isolated_home), "h")
    spooled = json.loads(
        next((isolated_home / "claude-session" / "spool").glob("*.json")).read_text()
    )

    by_end, start = session("ended")
    with Core() as core:
        core.start(by_end, session_id="e")
        with ledger.edit(Paths(isolated_home), "e") as data:
            data["starting_head"] = start
        record = core.end(by_end, session_id="e", summary="done", push=False).record
    assert sorted(record.files_changed) == sorted(spooled["files_changed"])
    assert sorted(record.files_changed) == ["a.txt", "b.txt", "gone.txt", "sp ace é.txt"]
    assert record.commits_count == spooled["commits_count"] == 1


# --- ledger identity (S7) ------------------------------------------------------------------


def test_S7_session_ids_that_clean_up_alike_never_close_each_other(
    repo: Path, isolated_home: Path
) -> None:
    alive = subprocess.Popen(["sleep", "60"])  # team/alpha's Claude Code, still running
    try:
        hook("SessionStart", repo, session_id="team/alpha", source="startup")
        with ledger.edit(Paths(isolated_home), "team/alpha") as data:
            data["claude_pid"] = alive.pid
        hook("SessionStart", repo, session_id="team-alpha", source="startup")
        hook("SessionEnd", repo, session_id="team-alpha")
    finally:
        alive.kill()
        alive.wait()
    alpha = entry(isolated_home, "team/alpha")
    assert alpha["session_id"] == "team/alpha" and alpha["status"] == "active"
    assert entry(isolated_home, "team-alpha")["status"] == "finalized"


# --- corrupt state in hooks: moved aside and told --------------------------------------------


@pytest.mark.parametrize("event", EVENTS)
def test_hooks_move_a_corrupt_ledger_entry_aside_and_say_so(
    event: str, repo: Path, isolated_home: Path
) -> None:
    folder = isolated_home / "claude-session" / "ledger"
    folder.mkdir(parents=True)
    (folder / "s1.json").write_bytes(b"garbage \xff")
    (isolated_home / "pause-state.json").write_text("{oops")
    out = hook(event, repo, source="startup", prompt="hi")
    moved = sorted(p.name for p in isolated_home.rglob("*.corrupt-*"))
    if event == "UserPromptSubmit":  # reads neither file unless reminders are on
        assert out is None and moved == []
        return
    assert moved, "nothing was moved aside"
    assert out is not None and "moved" in out["systemMessage"]
    kept = [p for p in isolated_home.rglob("*.corrupt-*") if p.name.startswith("s1.json")]
    assert not kept or kept[0].read_bytes() == b"garbage \xff"


# --- hooklib is an edge (issue 9 part 4) -----------------------------------------------------

#: the hook-safe part of the package: a few root modules, ``base/`` and ``edges/hooks/`` (what the
#: hooks and the status line import); they may import only each other and the standard library
PACKAGE = SERVER / "claude_session"
HOOK_SAFE_ROOT = ("__init__", "config", "errors", "hook", "paths")


def hook_safe_modules() -> list[str]:
    """Dotted names (below ``claude_session``) of every module in the hook-safe part."""
    files = [PACKAGE / f"{name}.py" for name in HOOK_SAFE_ROOT]
    files += [*PACKAGE.glob("base/**/*.py"), *PACKAGE.glob("edges/hooks/*.py")]
    names = []
    for path in files:
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return sorted(n for n in names if n and n != "__main__")


STDLIB_ONLY = set(hook_safe_modules())


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:  # relative: from .errors import X
                found.add(f"claude_session.{node.module}")
            else:
                found.add(node.module)
                if node.module == "claude_session":
                    found.update(f"claude_session.{alias.name}" for alias in node.names)
    return found


def test_only_hook_entry_points_import_hooklib() -> None:
    package = SERVER / "claude_session"
    importers = sorted(
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if "claude_session.edges.hooks.events" in _imports(p)
    )
    assert importers == ["__main__.py", "hook.py"]  # the classic install's entry points


def test_the_modules_hooks_use_stay_standard_library_only() -> None:
    allowed = set(sys.stdlib_module_names) | {"claude_session"}
    assert {"base.flow", "base.state.ledger", "edges.hooks.events", "errors"} <= STDLIB_ONLY
    for name in sorted(STDLIB_ONLY):
        path = PACKAGE / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = PACKAGE / name.replace(".", "/") / "__init__.py"
        for imported in _imports(path):
            top, _, rest = imported.partition(".")
            if top == "claude_session" and rest:
                assert rest in STDLIB_ONLY or rest.rpartition(".")[0] in STDLIB_ONLY, (
                    f"{name} imports {imported}"
                )
            else:
                assert top in allowed, f"{name} imports {imported}"


def test_hook_notes_name_the_commands_of_the_install_mode(repo: Path, isolated_home: Path) -> None:
    assert cli("start", cwd=repo).returncode == 0
    assert cli("pause", "--summary", "lunch", cwd=repo).returncode == 0
    classic = hook("SessionStart", repo, session_id="c", source="startup")
    plugin = hook(
        "SessionStart",
        repo,
        session_id="p",
        source="startup",
        env={"CLAUDE_PLUGIN_ROOT": str(ROOT)},
    )
    assert classic and "/resume-session" in classic["hookSpecificOutput"]["additionalContext"]
    assert plugin and "/session:resume" in plugin["hookSpecificOutput"]["additionalContext"]


# --- two projects never share state (S6) -----------------------------------------------------


def test_S6_projects_whose_names_clean_up_alike_never_share_a_handoff_or_context(
    tmp_path: Path, isolated_home: Path
) -> None:
    work = make_repo(tmp_path / "work" / "my app")
    personal = make_repo(tmp_path / "personal" / "my-app")
    assert cli("start", cwd=work).returncode == 0
    assert cli("pause", "--summary", "WORK-ONLY plans", "--handoff", cwd=work).returncode == 0
    received = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "handoff", "receive"],
        cwd=work,
        input="Summary: WORK answer\n",
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        env={**os.environ, "PYTHONPATH": str(SERVER)},
    )
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


# --- redaction that tells (X1, X9) -----------------------------------------------------------


def test_X1_a_commit_message_holding_a_secret_is_refused_and_nothing_is_committed(
    tmp_path: Path, isolated_home: Path
) -> None:
    from helpers.gitrepo import make_remote
    from redact_samples import GH

    repo = make_repo(tmp_path / "proj")
    remote = make_remote(repo, tmp_path / "remote.git")
    assert cli("start", cwd=repo).returncode == 0
    (repo / "work.txt").write_text("work")
    head = git(repo, "rev-parse", "HEAD")
    refused = cli("end", "--summary", "done", "-m", f"deploy with {GH}", cwd=repo)
    assert refused.returncode == 1
    assert "github-token" in refused.stderr + refused.stdout
    assert "--allow-secret" in refused.stderr + refused.stdout
    assert GH not in refused.stderr + refused.stdout
    assert git(repo, "rev-parse", "HEAD") == head  # nothing committed
    assert git(remote, "rev-parse", "main") == head  # nothing pushed
    assert (repo / "work.txt").exists()
    # the session is still open: a corrected end goes through
    ended = cli("--json", "end", "--summary", "done", "-m", "deploy", cwd=repo)
    assert ended.returncode == 0, ended.stderr
    assert git(remote, "log", "-1", "--format=%s", "main") == "deploy"


def test_X1_allow_secret_commits_the_message_as_written(repo: Path, isolated_home: Path) -> None:
    from redact_samples import GH

    assert cli("start", cwd=repo).returncode == 0
    (repo / "x.txt").write_text("x")
    ended = cli(
        "end", "--summary", "s", "-m", f"fixture {GH}", "--no-push", "--allow-secret", cwd=repo
    )
    assert ended.returncode == 0, ended.stderr
    assert git(repo, "log", "-1", "--format=%s") == f"fixture {GH}"


def test_X1_a_wip_commit_from_a_summary_holding_a_secret_is_refused(
    repo: Path, isolated_home: Path
) -> None:
    from redact_samples import GH

    (repo / "x.txt").write_text("x")
    head = git(repo, "rev-parse", "HEAD")
    paused = cli("pause", "--summary", f"token {GH} rotated", "--wip-commit", cwd=repo)
    assert paused.returncode == 1 and "github-token" in paused.stderr
    assert git(repo, "rev-parse", "HEAD") == head


def test_X9_every_result_says_how_many_secrets_of_which_kinds_were_removed(
    repo: Path, isolated_home: Path
) -> None:
    from redact_samples import AWS_ID, GH

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
    from redact_samples import GH

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


# --- no platform import traps (issue 18 part 3) ------------------------------------------------

POSIX_ONLY = {"fcntl", "termios", "pwd", "grp", "resource", "posix", "tty", "pty"}


def test_no_module_imports_a_posix_only_module_where_windows_would_take_it() -> None:
    """File locking lives behind ``locking`` (fcntl on POSIX, msvcrt on Windows); nothing else
    imports a POSIX-only module at module level."""
    package = SERVER / "claude_session"
    offenders = []
    for path in [*package.rglob("*.py"), SERVER / "launch_mcp.py"]:
        if path.name == "locking.py":
            continue
        for node in ast.parse(path.read_text("utf-8")).body:  # module level only
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in POSIX_ONLY]
    assert offenders == []


def test_the_lock_interface_excludes_a_second_holder(tmp_path: Path) -> None:
    from claude_session.base import locking

    first = os.open(tmp_path / "l", os.O_RDWR | os.O_CREAT)
    second = os.open(tmp_path / "l", os.O_RDWR)
    try:
        assert locking.try_lock(first)
        assert not locking.try_lock(second)
        os.close(first)
        first = -1
        assert locking.try_lock(second)
    finally:
        for fd in (first, second):
            if fd >= 0:
                os.close(fd)
