"""Hostile and broken input: arbitrary bytes in every state file, arbitrary hook stdin, and
project and branch names built to escape folders, break lines or pass as git options."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_session.base import flow, sessions
from claude_session.base.context import context_file_name
from claude_session.base.state import ledger, pause, remind
from claude_session.core.lifecycle import Core
from claude_session.edges.hooks import events as hooklib
from claude_session.paths import Paths, safe_name
from claude_session.vault.base import base_title
from helpers.gitrepo import git, make_repo

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted((ROOT / "hooks").glob("*.py"))
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FLOWS = settings(max_examples=60, deadline=None)  # each example runs real flows

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _bytes_or_json() -> st.SearchStrategy[bytes]:
    """Raw bytes, broken JSON, and JSON of every shape (the interesting corruptions)."""
    return st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "projects",
                    "settings",
                    "last_reminded",
                    "default",
                    "session_id",
                    "project_root",
                ]
            ),
            json_values,
            max_size=4,
        ).map(lambda v: json.dumps(v).encode()),
        st.builds(
            lambda b, n: b[:n],
            json_values.map(lambda v: json.dumps(v).encode()),
            st.integers(0, 50),
        ),
    )


# --- state files ------------------------------------------------------------------------------


def _home() -> Paths:
    home = Path(tempfile.mkdtemp(prefix="hostile-"))
    return Paths(home)


def _state_files(paths: Paths) -> list[tuple[Path, Callable[[], object]]]:
    """Each state file and its owner's validated read."""
    return [
        (paths.pause_state, lambda: pause.get(paths, "/p")),
        (paths.remind_state, lambda: remind.read(paths)),
        (paths.ledger_entry("s"), lambda: ledger.get(paths, "s")),
    ]


@FAST
@given(content=_bytes_or_json())
def test_any_bytes_in_a_state_file_never_crash_and_corrupt_ones_are_moved_aside(
    content: bytes,
) -> None:
    paths = _home()
    for path, read in _state_files(paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        with flow.begin() as current:  # a moved-aside file is told to the flow reading it
            data = read()
        assert data is None or isinstance(data, dict)
        aside = list(path.parent.glob(f"{path.name}.corrupt-*"))
        if current.warnings:  # refused: moved (or, partly readable, copied) aside byte for byte
            assert len(aside) == 1 and aside[0].read_bytes() == content
            assert not path.exists() or path.read_bytes() == content
        else:  # accepted as it is: the file is untouched
            assert path.read_bytes() == content and not aside
        for item in aside:
            item.unlink()


@FLOWS
@given(content=_bytes_or_json())
def test_any_bytes_in_the_pause_state_leave_the_flows_working(content: bytes) -> None:
    paths = _home()
    folder = paths.home / "project"
    folder.mkdir()
    paths.pause_state.write_bytes(content)
    settings_ = _settings(paths)
    with Core(settings_) as core:
        try:
            core.pause(folder, session_id="s", summary="hostile")
        except Exception as exc:  # only a clear refusal of a newer format is allowed
            assert "newer claude-session" in str(exc), exc
            return
        resumed = core.resume(folder, session_id="s")
    assert resumed.status == "ready" and "hostile" in resumed.context


def _settings(paths: Paths) -> Any:
    from claude_session.config import Settings

    return Settings.from_env({"CLAUDE_CONFIG_DIR": str(paths.home)})


@FLOWS
@given(
    entry=st.dictionaries(
        st.sampled_from(
            [
                "status",
                "started_at",
                "last_activity",
                "claude_pid",
                "starting_head",
                "summary",
                "transcript_path",
                "maintenance_runs",
                "security_findings",
                "record_id",
                "source",
                "project",
                "repository_url",
                "context_id",
            ]
        ),
        json_values,
        max_size=8,
    ),
    raw=st.binary(max_size=100),
)
def test_any_ledger_entry_never_stops_orphan_finalizing_or_the_spool(
    entry: dict[str, Any], raw: bytes
) -> None:
    paths = _home()
    paths.ledger.mkdir(parents=True)
    entry.update(session_id="odd", project_root=str(paths.home / "nowhere"))
    (paths.ledger / "odd.json").write_text(json.dumps(entry))
    (paths.ledger / "raw.json").write_bytes(raw)
    sessions.finalize_orphans(paths, project_root=None, keep=None)
    with Core(_settings(paths)) as core:
        result = core.sync()
    assert result.rejected == 0 or result.remaining >= result.rejected


# --- hook stdin -------------------------------------------------------------------------------

hook_events = st.fixed_dictionaries(
    {},
    optional={
        "session_id": st.text(max_size=40) | json_values,
        "cwd": st.text(max_size=40) | json_values,
        "transcript_path": st.text(max_size=40) | json_values,
        "source": st.sampled_from(["startup", "resume", "clear", "compact"]) | json_values,
        "prompt": st.text(max_size=200) | json_values,
        "hook_event_name": st.text(max_size=20),
        "trigger": json_values,
        "custom_instructions": json_values,
    },
)


def _run_hook_in_process(event: str, stdin: str, home: Path) -> str:
    old = sys.stdin, os.environ.get("CLAUDE_CONFIG_DIR")
    sys.stdin = io.StringIO(stdin)
    os.environ["CLAUDE_CONFIG_DIR"] = str(home)
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            assert hooklib.main(event) == 0
    finally:
        sys.stdin = old[0]
        if old[1] is None:
            os.environ.pop("CLAUDE_CONFIG_DIR", None)
        else:
            os.environ["CLAUDE_CONFIG_DIR"] = old[1]
    return out.getvalue()


@settings(max_examples=200, deadline=None)
@given(
    event=st.sampled_from(sorted(hooklib.EVENTS)),
    stdin=st.one_of(
        hook_events.map(json.dumps), json_values.map(json.dumps), st.text(max_size=200)
    ),
)
def test_any_hook_stdin_gives_exit_zero_and_json_or_nothing(event: str, stdin: str) -> None:
    home = Path(tempfile.mkdtemp(prefix="hook-"))
    out = _run_hook_in_process(event, stdin, home)
    if out.strip():
        parsed = json.loads(out)
        assert isinstance(parsed, dict)
        context = parsed.get("hookSpecificOutput", {}).get("additionalContext", "")
        assert len(context) < 10_000  # Claude Code's cap for added context


@pytest.mark.parametrize(
    "stdin",
    [
        b"\xff\xfe\x00garbage",
        b'{"session_id": "\xc3\x28"}',
        b"[1, 2, 3]",
        b"{" * 5000,
        b"",
        b"null",
        json.dumps({"session_id": "../../etc/passwd", "cwd": "/", "source": "compact"}).encode(),
        json.dumps({"session_id": "x\u0000y", "cwd": "a\u0000b"}).encode(),
    ],
)
def test_hook_scripts_survive_raw_bytes_on_stdin(
    stdin: bytes, isolated_home: Path, tmp_path: Path
) -> None:
    for script in HOOKS:
        done = subprocess.run(
            [sys.executable, str(script)],
            input=stdin,
            cwd=tmp_path,
            capture_output=True,
            timeout=30,
        )
        assert done.returncode == 0, (script.name, done.stderr)
        if done.stdout.strip():
            assert isinstance(json.loads(done.stdout), dict), (script.name, done.stdout)
    assert not (isolated_home.parent / "etc").exists()
    ledger_dir = isolated_home / "claude-session" / "ledger"
    for path in ledger_dir.glob("*") if ledger_dir.is_dir() else []:
        assert path.parent == ledger_dir


# --- names ------------------------------------------------------------------------------------

SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
HOSTILE_NAMES = [
    "../../etc",
    "a/b/c",
    "line\nbreak",
    "-rf",
    "--help",
    "naïve-ünïcode",
    "项目",
    "..",
    ".",
    "",
    "   ",
    "-",
    "CON",
    "a" * 300,
    "x\u0000y",
    "tab\there",
    "emoji-🚀",
]


@settings(max_examples=500, deadline=None)
@given(st.text() | st.sampled_from(HOSTILE_NAMES))
def test_safe_names_are_one_plain_path_component(text: str) -> None:
    name = safe_name(text)
    assert SAFE.match(name) and name not in (".", ".."), (text, name)
    file_name = context_file_name(text, "pause", datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert "/" not in file_name and "\n" not in file_name and not file_name.startswith(("-", "."))
    assert Path(file_name).name == file_name
    title = base_title(text, datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert re.fullmatch(r"session-[A-Za-z0-9][A-Za-z0-9._-]*-2025-01-01", title), title


@pytest.mark.parametrize(
    "folder",
    [
        "--help",
        "-rf",
        "line\nbreak",
        "naïve ünïcode",
        "项目",
        "$(touch PWNED)",
        "a'b\"c",
        "..hidden",
    ],
)
def test_hostile_project_folders_stay_inside_the_home(
    folder: str, tmp_path: Path, isolated_home: Path
) -> None:
    repo = make_repo(tmp_path / "projects" / folder)
    with Core() as core:
        core.start(repo, session_id="s", no_import=True)
        paused = core.pause(repo, session_id="s", summary="hostile folder", handoff=True)
        resumed = core.resume(repo, session_id="s")
        ended = core.end(repo, session_id="s", summary="done", push=False, mode="handoff")
        items = core.vault.list_items()
    for path in (paused.context_file, ended.context_file):
        assert Path(path or "").parent == isolated_home / "contexts"
        assert SAFE.match(Path(path or "").name)
    assert resumed.status == "ready" and "hostile folder" in resumed.context
    assert items and all(re.fullmatch(r"session-[A-Za-z0-9._-]+", i.title) for i in items)
    assert not list(tmp_path.rglob("PWNED")) and not Path("PWNED").exists()
    for path in isolated_home.rglob("*"):
        assert isolated_home in path.resolve().parents or path.resolve() == isolated_home


@pytest.mark.parametrize(
    "branch",
    [
        "feature/deep/name",
        "ünï-côdé",
        "with'quote",
        "$(touch-PWNED)",
        "semi;colon",
        "`id`",
        "x--force",
    ],
)
def test_odd_branch_names_round_trip_through_pause_and_resume(branch: str, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    git(repo, "checkout", "-q", "-b", branch)
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary="odd branch")
        git(repo, "checkout", "-q", "main")
        switched = core.resume(repo, session_id="s", on_mismatch="switch")
    assert paused.branch == branch and switched.status == "ready"
    assert git(repo, "branch", "--show-current") == branch
    assert not list(tmp_path.rglob("PWNED"))
