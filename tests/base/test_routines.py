"""``~/.claude/routines/handoff.json``: read when present, defaults otherwise, bad values named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claude_session.base import routines
from claude_session.config import Settings
from claude_session.edges.install import Installer
from claude_session.paths import Paths


def write(home: Path, data: object) -> Path:
    path = routines.routine_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_no_file_means_the_seed_defaults(isolated_home: Path) -> None:
    routine = routines.load(isolated_home)
    assert routine.source is None and routine.problems == ()
    assert routine.vault == "ClaudeSync"
    assert routine.title(project="web", date="2026-11-28") == "session-web-2026-11-28"
    assert not routine.writes_vault("standard")
    assert routine.writes_vault("handoff") and routine.writes_vault("sync")
    assert routine.prompt({"project": "web"}) is None  # the built-in prompt


def test_the_file_sets_vault_title_modes_and_template(isolated_home: Path) -> None:
    write(
        isolated_home,
        {
            "vault": "Team Sync",
            "item_title": "cs-{project}-{branch}-{date}",
            "vault_end_modes": ["standard", "handoff"],
            "transfer_prompt_template": ["Project {project} on {branch}.", "{context}"],
        },
    )
    routine = routines.load(isolated_home)
    assert routine.problems == ()
    assert routine.vault == "Team Sync"
    assert routine.title(project="web", date="2026-11-28", branch="main") == (
        "cs-web-main-2026-11-28"
    )
    assert routine.writes_vault("standard") and not routine.writes_vault("sync")
    prompt = routine.prompt(
        {
            "project": "web",
            "branch": "main",
            "context": "CTX {project}",
            "return_request": "## RETURN",
        }
    )
    assert prompt is not None
    # a brace in a value is not expanded again; the return request is always there
    assert prompt.startswith("Project web on main.\nCTX {project}") and "## RETURN" in prompt
    # the vault name reaches the settings; the variable still wins
    assert Settings.from_env({"HOME": str(isolated_home.parent)}).vault_name == "Team Sync"
    config = {"CLAUDE_CONFIG_DIR": str(isolated_home)}
    assert Settings.from_env(config).vault_name == "Team Sync"
    assert Settings.from_env({**config, "CLAUDE_SESSION_VAULT": "Mine"}).vault_name == "Mine"


def test_bad_values_fall_back_one_key_at_a_time_and_say_what_to_fix(isolated_home: Path) -> None:
    path = write(
        isolated_home,
        {
            "vault": "",
            "item_title": "session-{project}",
            "vault_end_modes": ["handoff", "bogus"],
            "transfer_prompt_template": "Hi {projekt}",
        },
    )
    routine = routines.load(isolated_home)
    assert routine.vault == "ClaudeSync" and routine.item_title == routines.DEFAULT_TITLE
    assert routine.vault_end_modes == routines.DEFAULT_VAULT_END_MODES
    text = "\n".join(routine.problems)
    assert "'vault'" in text and "needs {date}" in text and "'vault_end_modes'" in text
    assert "projekt" in text and str(path) in text
    assert routine.transfer_prompt_template == "Hi {projekt}"  # kept, with the warning


@pytest.mark.parametrize(
    ("value", "used"),
    [(30, 30.0), (1, 1.0), (300, 300.0), (12.5, 12.5), (0, 5.0), (301, 5.0), ("30", 5.0)],
)
def test_op_deadline_in_the_file_is_checked(
    isolated_home: Path, value: object, used: float
) -> None:
    path = write(isolated_home, {"op_deadline": value})
    routine = routines.load(isolated_home)
    assert routine.op_deadline == used
    if used == 5.0:
        [problem] = routine.problems
        assert "'op_deadline'" in problem and "from 1 to 300" in problem and str(path) in problem
    else:
        assert routine.problems == ()
    assert Settings.from_env({"CLAUDE_CONFIG_DIR": str(isolated_home)}).op_deadline == used


@pytest.mark.parametrize(
    ("value", "used"),
    [("45", 45.0), (" 2.5 ", 2.5), ("soon", 12.0), ("0", 12.0), ("1e9", 12.0), ("nan", 12.0)],
)
def test_op_deadline_variable_wins_and_a_bad_one_is_named(
    isolated_home: Path, value: str, used: float
) -> None:
    write(isolated_home, {"op_deadline": 12})
    env = {"CLAUDE_CONFIG_DIR": str(isolated_home), "CLAUDE_SESSION_OP_DEADLINE": value}
    settings = Settings.from_env(env)
    assert settings.op_deadline == used
    if used == 12.0:  # the file's value, not the variable's
        [problem] = settings.problems
        assert problem.startswith("CLAUDE_SESSION_OP_DEADLINE is ") and repr(value) in problem
        assert "12 s is used" in problem
    else:
        assert settings.problems == ()


def test_op_deadline_defaults_to_five_seconds(isolated_home: Path) -> None:
    settings = Settings.from_env({"CLAUDE_CONFIG_DIR": str(isolated_home)})
    assert settings.op_deadline == 5.0 and settings.problems == ()


def test_a_file_that_is_not_json_is_reported_not_raised(isolated_home: Path) -> None:
    write(isolated_home, "{ nope")
    routine = routines.load(isolated_home)
    assert routine.vault == "ClaudeSync" and "not valid JSON" in routine.problems[0]
    assert Settings.from_env({"CLAUDE_CONFIG_DIR": str(isolated_home)}).vault_name == ("ClaudeSync")
    write(isolated_home, "[1, 2]")
    assert "JSON object" in routines.load(isolated_home).problems[0]


def test_classic_install_writes_the_defaults_once_and_uninstall_removes_them(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installer = Installer(Paths(isolated_home))
    # no `claude` on PATH: the MCP registration is reported as a note, the rest is installed
    monkeypatch.setenv("PATH", str(isolated_home / "no-bin"))
    result = installer.install_classic()
    path = routines.routine_file(isolated_home)
    assert "written with the defaults" in result.routine
    written = json.loads(path.read_text())
    assert written == routines.default_document()
    assert routines.load(isolated_home).problems == ()
    assert path.stat().st_mode & 0o777 == 0o600
    # the user's edit is kept by a second install and by uninstall
    written["vault"] = "Edited"
    path.write_text(json.dumps(written))
    assert "kept" in installer.install_classic().routine
    assert routines.load(isolated_home).vault == "Edited"
    installer.uninstall()
    assert path.exists()
    # unchanged defaults go with uninstall
    path.unlink()
    installer.install_classic()
    installer.uninstall()
    assert not path.exists()


def test_the_routine_file_shapes_the_handoff_item_and_prompt(tmp_path: Path) -> None:
    """Wired into ClaudeSync: the title pattern, the prompt template and which end modes write
    the vault (the seed's handoff routine config)."""
    import json as _json
    import os as _os

    from claude_session.core.facade import Core
    from helpers.gitrepo import make_repo

    home = Path(_os.environ["CLAUDE_CONFIG_DIR"])
    (home / "routines").mkdir(parents=True, exist_ok=True)
    (home / "routines" / "handoff.json").write_text(
        _json.dumps(
            {
                "item_title": "handoff-{project}-{branch}-{date}",
                "vault_end_modes": ["handoff"],
                "transfer_prompt_template": "CUSTOM for {project} on {branch}:\n{context}",
            }
        )
    )
    repo = make_repo(tmp_path / "proj")
    with Core() as core:
        paused = core.pause(repo, session_id="s", summary="halfway", handoff=True)
        assert paused.handoff_item is not None
        assert paused.handoff_item.startswith("handoff-proj-main-")
        assert paused.transfer_prompt and paused.transfer_prompt.startswith("CUSTOM for proj")
        assert "summary for Claude Code" in paused.transfer_prompt  # the way back is kept
        core.start(repo, session_id="t", on_mismatch="stay")
        synced = core.end(repo, session_id="t", summary="done", push=False, mode="sync")
    assert synced.handoff_item is None
    assert any("vault_end_modes" in w for w in synced.warnings), synced.warnings
