"""``base/repoprograms.py``: which filter settings of ``git config --show-scope`` output are
kept off, with what, and how they travel to git (issue 25)."""

from __future__ import annotations

from claude_session.base import repoprograms


def records(*entries: tuple[str, str, str | None]) -> list[str]:
    """``git config -z --show-scope --get-regexp`` records for (scope, key, value)."""
    out: list[str] = []
    for scope, key, value in entries:
        out += [scope, key if value is None else f"{key}\n{value}"]
    return [*out, ""]


def test_a_driver_of_the_repository_alone_is_switched_off_and_named() -> None:
    options, refused = repoprograms.overrides(
        records(
            ("local", "core.repositoryformatversion", "0"),
            ("local", "filter.x.clean", "/tmp/spy"),
            ("worktree", "filter.y.process", "/tmp/spy"),
            ("local", "filter.z.required", "true"),
        )
    )
    assert options == {
        "filter.x.clean": "",
        "filter.y.process": "",
        "filter.x.required": "false",
        "filter.y.required": "false",
    }
    assert refused == {"x", "y"}


def test_the_users_own_driver_wins_over_the_repositorys_and_runs() -> None:
    """git-lfs set up globally; the repository gives the same driver other programs (and one
    the user has none for)."""
    options, refused = repoprograms.overrides(
        records(
            ("global", "filter.lfs.clean", "git-lfs clean -- %f"),
            ("global", "filter.lfs.required", "true"),
            ("local", "filter.lfs.clean", "/tmp/spy"),
            ("local", "filter.lfs.smudge", "/tmp/spy"),
            ("command", "filter.c.clean", "mine"),
        )
    )
    assert options == {
        "filter.lfs.clean": "git-lfs clean -- %f",
        "filter.lfs.smudge": "",
        "filter.lfs.required": "false",
    }
    assert refused == {"lfs"}


def test_only_the_last_value_counts_and_empty_or_bare_keys_run_nothing() -> None:
    options, refused = repoprograms.overrides(
        records(
            ("local", "filter.a.clean", "/tmp/spy"),
            ("command", "filter.a.clean", "cat"),  # the user's -c comes last: theirs
            ("local", "filter.b.clean", ""),
            ("local", "filter.c.clean", None),
            ("local", "filter.d=e.f.clean", "/tmp/spy"),  # a name with '=' and '.'
        )
    )
    assert options == {"filter.d=e.f.clean": "", "filter.d=e.f.required": "false"}
    assert refused == {"d=e.f"}


def test_settings_go_after_the_callers_own_environment_settings() -> None:
    programs = repoprograms.Programs((("filter.x.clean", ""),), ("x",))
    env = {"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "a.b", "GIT_CONFIG_KEY_1": "c.d"}
    assert programs.settings(env) == {
        "GIT_CONFIG_COUNT": "3",
        "GIT_CONFIG_KEY_2": "filter.x.clean",
        "GIT_CONFIG_VALUE_2": "",
    }
    assert repoprograms.NONE.settings(env) == {}
