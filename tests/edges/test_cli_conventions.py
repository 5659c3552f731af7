"""The command line's conventions, as a person and a script meet them: help for every option,
no abbreviated options, bad usage is exit 2 (and a JSON error under --json), bare verb groups
print their own help. Real processes, real git."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from claude_session.edges.cli import build_parser
from helpers.clirun import cli
from helpers.gitrepo import git, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "webapp")


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _parsers(sub)
    return found


def test_every_option_of_every_verb_has_help_text() -> None:
    missing = [
        f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
        for parser in _parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction) and not (action.help or "").strip()
    ]
    assert missing == []


def test_an_abbreviated_option_is_refused_not_guessed(repo: Path) -> None:
    (repo / "work.py").write_text("x = 1\n")
    proc = cli("end", "--handof", "--summary", "s", cwd=repo)
    assert proc.returncode == 2
    assert "usage: claude-session end" in proc.stderr
    assert "unrecognized arguments: --handof" in proc.stderr
    assert "Run `claude-session end --help` for its options." in proc.stderr
    assert git(repo, "status", "--porcelain") == "?? work.py"  # nothing was committed


def test_an_unknown_option_shows_the_verbs_usage_not_the_top_level(repo: Path) -> None:
    proc = cli("pause", "--summry", "typo", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: claude-session pause")
    assert "claude-session pause: error: unrecognized arguments: --summry typo" in proc.stderr


@pytest.mark.parametrize(
    ("words", "usage"),
    [
        (["handoff"], "claude-session handoff"),
        (["tracker"], "claude-session tracker"),
        (["tracker", "token"], "claude-session tracker token"),
    ],
)
def test_a_bare_verb_group_prints_its_own_help(repo: Path, words: list[str], usage: str) -> None:
    proc = cli(*words, cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"usage: {usage} ")
    assert "positional arguments" in proc.stderr
    as_json = cli(*words, "--json", cwd=repo)
    error = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and error["status"] == "error"
    assert f"`{usage} --help`" in error["message"]


@pytest.mark.parametrize(
    "words",
    [
        ["remind", "on", "--every", "0"],
        ["remind", "on", "--dirty-files", "0"],
        ["remind", "on", "--every", "soon"],
        ["history", "--limit", "-5"],
        ["start", "--on-mismatch", "bogus"],
        ["tracker", "serve", "--workers", "0"],
    ],
)
def test_usage_and_range_errors_exit_2_with_a_json_error(repo: Path, words: list[str]) -> None:
    text = cli(*words, cwd=repo)
    assert text.returncode == 2 and text.stdout == ""
    assert "error:" in text.stderr and "Traceback" not in text.stderr
    proc = cli("--json", *words, cwd=repo)
    assert proc.returncode == 2
    error = json.loads(proc.stdout)  # one JSON object, nothing else
    assert error["status"] == "error" and error["error"] == "UsageError"
    assert words[-2] in error["message"] or words[0] in error["message"]


def test_a_range_error_names_the_range(repo: Path) -> None:
    proc = cli("remind", "on", "--every", "0", cwd=repo)
    assert "give --every a whole number from 1 to 1440" in proc.stderr


def test_version_as_text_and_as_json(repo: Path) -> None:
    from claude_session import __version__

    assert cli("--version", cwd=repo).stdout == f"claude-session {__version__}\n"
    for words in (["--json", "--version"], ["--version", "--json"]):
        proc = cli(*words, cwd=repo)
        assert proc.returncode == 0
        assert json.loads(proc.stdout) == {"name": "claude-session", "version": __version__}


def test_a_transcript_that_does_not_exist_is_bad_usage(repo: Path, tmp_path: Path) -> None:
    cli("start", cwd=repo)
    (repo / "work.py").write_text("x = 1\n")
    proc = cli("--json", "end", "--summary", "s", "--transcript", "/nonexistent.jsonl", cwd=repo)
    assert proc.returncode == 2
    error = json.loads(proc.stdout)
    assert "--transcript /nonexistent.jsonl does not exist" in error["message"]
    assert git(repo, "status", "--porcelain") == "?? work.py"  # refused before any commit
    proc = cli("end", "--summary", "s", "--transcript", str(tmp_path), cwd=repo)
    assert proc.returncode == 2 and "is a folder" in proc.stderr


def test_tracker_help_names_the_environment_it_reads(repo: Path) -> None:
    serve = cli("tracker", "serve", "--help", cwd=repo).stdout
    for name in ("_DATABASE", "_ORIGINS", "_SECRET", "_SECURE_COOKIES"):
        assert f"CLAUDE_SESSION_TRACKER{name}" in serve
    token = cli("tracker", "token", "create", "--help", cwd=repo).stdout
    assert "$CLAUDE_SESSION_TRACKER_DATABASE" in token
