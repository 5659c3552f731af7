"""Secrets of the common providers in what the model writes, in the transcript, in remote URLs
and in the tracker's settings: none of them reaches a context file, a tracker record, a
ClaudeSync item (title, metadata or context), a log or an error message. Every byte the state
home holds afterwards (SQLite files included) is searched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from claude_session.core.facade import Core
from claude_session.edges.hooks import events as hooklib
from helpers.gitrepo import git, make_repo
from helpers.hookrun import hook_argv

ROOT = Path(__file__).resolve().parents[2]

# Provider formats, built by concatenation so no scanner flags this file as a leak.
SECRETS = {
    "aws-access-key": "AKIA" + "Q7X2M4N8P1R5T9V3",
    "aws-secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "9EXAMPLEKEY1",
    "github": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "gitlab": "glpat-" + "x7Yz9AbC3dEf5GhI1jKl",
    "openai": "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" + "Ab3dEf6hIj9kLm2nOp5q",
    "anthropic": "sk-ant-api03-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe" * 3 + "AA",
    "slack": "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "google": "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "npm": "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "jwt": "eyJhbGciOiJIUzI1NiJ9."
    + "eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "url-password": "hunter2" + "Passw0rdZ",
    "bearer": "abcDEF123456" + "ghiJKL789012mno",
    "pem-body": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
    "tracker-token": "cs_" + "Tr4ck3rT0k3nThatMustNeverLeak01",
}
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    + SECRETS["pem-body"]
    + "\nQ2hlY2tzdW0=\n-----END PRIVATE KEY-----"
)


def _prose() -> str:
    """Text a model or a user might write, holding every secret in its natural setting."""
    s = SECRETS
    return "\n".join(
        [
            f"export AWS_ACCESS_KEY_ID={s['aws-access-key']}",
            f"aws_secret_access_key = {s['aws-secret']}",
            f"used {s['github']} and {s['gitlab']} to clone",
            f"OPENAI_API_KEY={s['openai']} ANTHROPIC_API_KEY={s['anthropic']}",
            f"slack {s['slack']}, stripe {s['stripe']}, maps {s['google']}, npm {s['npm']}",
            f"session cookie {s['jwt']}",
            f"git clone https://alice:{s['url-password']}@git.example.com/x.git",
            f"curl -H 'Authorization: Bearer {s['bearer']}' https://api.example.com",
            PEM,
        ]
    )


def _leaks(text: str | bytes) -> list[str]:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    return [kind for kind, value in SECRETS.items() if value.encode() in data]


def _scan_home(home: Path) -> dict[str, list[str]]:
    found = {}
    for path in home.rglob("*"):
        if path.is_file():
            leaked = _leaks(path.read_bytes())
            if leaked:
                found[str(path.relative_to(home))] = leaked
    return found


def _transcript(path: Path, session_id: str) -> Path:
    lines = [
        {"type": "user", "sessionId": session_id, "message": {"role": "user", "content": _prose()}},
        {
            "type": "assistant",
            "sessionId": session_id,
            "requestId": "req_1",
            "message": {
                "id": "msg_1",
                "role": "assistant",
                "model": "claude-x",
                "content": [{"type": "text", "text": _prose()}],
                "usage": {"input_tokens": 5, "output_tokens": 7},
            },
        },
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(r, "remote", "add", "origin", str(bare))
    git(r, "push", "-q", "-u", "origin", "main")
    return r


def test_secrets_in_every_input_reach_no_file_record_item_or_message(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    prose = _prose()
    transcript = _transcript(tmp_path / "t.jsonl", "s")
    outputs: list[str] = []
    with Core() as core:
        outputs.append(core.start(repo, session_id="s").model_dump_json())
        outputs.append(
            core.record_maintenance(
                repo,
                session_id="s",
                command="secret-scan",
                status="failed",
                results={"findings": [{"match": prose}]},
                notes=prose,
            ).model_dump_json()
        )
        outputs.append(
            core.pause(
                repo, session_id="s", summary=prose, next_steps=[prose], note=prose, handoff=True
            ).model_dump_json()
        )
        outputs.append(core.resume(repo, session_id="s").model_dump_json())
        (repo / "notes.txt").write_text("work\n")
        ended = core.end(
            repo,
            session_id="s",
            summary=prose,
            accomplishments=[prose],
            next_steps=[prose],
            message="end of work",
            mode="handoff",
            transcript=str(transcript),
        )
        outputs.append(ended.model_dump_json())
        stored = core.tracker.get_session(ended.record.id)
        items = core.vault.list_items()
        outputs.append(core.status(repo, session_id="s").model_dump_json())
        outputs.append(core.handoff_prompt(repo).model_dump_json())
    assert stored is not None and not _leaks(stored.model_dump_json())
    assert items and not [i.title for i in items if _leaks(i.model_dump_json())]
    assert "REDACTED" in stored.summary
    assert not [o for o in outputs if _leaks(o)], [_leaks(o) for o in outputs]
    assert _scan_home(isolated_home) == {}


def test_secrets_in_the_transcript_stay_out_of_compaction_snapshots_and_hook_records(
    repo: Path, tmp_path: Path, isolated_home: Path
) -> None:
    transcript = _transcript(tmp_path / "t.jsonl", "hooked")
    event = {
        "session_id": "hooked",
        "cwd": str(repo),
        "transcript_path": str(transcript),
        "trigger": "auto",
        "custom_instructions": _prose(),
    }
    env = dict(os.environ, CLAUDE_CODE_SESSION_ID="hooked")
    for name in ("SessionStart", "Stop", "PreCompact", "UserPromptSubmit", "SessionEnd"):
        done = subprocess.run(
            hook_argv(name),
            cwd=repo,
            input=json.dumps({**event, "prompt": _prose()}),
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0 and not _leaks(done.stdout + done.stderr), name
    assert list((isolated_home / "contexts").glob("*compact*"))
    with Core() as core:
        core.sync()
        records = core.history(limit=10).records
    assert [r.claude_session_id for r in records] == ["hooked"]
    assert _scan_home(isolated_home) == {}


def test_credentials_in_remote_and_tracker_urls_stay_out_of_errors_and_logs(
    repo: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = SECRETS
    # a remote that refuses at once (nothing listens on port 9), with credentials in its URL
    git(
        repo,
        "remote",
        "set-url",
        "origin",
        f"https://alice:{s['url-password']}@127.0.0.1:9/shop.git",
    )
    monkeypatch.setenv(
        "CLAUDE_SESSION_TRACKER_URL", f"http://bob:{s['github']}@127.0.0.1:9/tracker"
    )
    monkeypatch.setenv("CLAUDE_SESSION_TRACKER_TOKEN", s["tracker-token"])
    with Core() as core:
        core.start(repo, session_id="s", no_import=True)
        (repo / "x.py").write_text("x\n")
        ended = core.end(repo, session_id="s", summary="network down", message="x")
        status = core.status(repo, session_id="s")
        synced = core.sync(repo)
    assert ended.pushed is False and ended.tracker == "queued"
    for text in (ended.model_dump_json(), status.model_dump_json(), synced.model_dump_json()):
        assert not _leaks(text), _leaks(text)
    cli = subprocess.run(
        [sys.executable, "-m", "claude_session.edges.cli", "sync", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "server")),
    )
    assert not _leaks(cli.stdout + cli.stderr), cli
    assert _scan_home(isolated_home) == {}


def test_hook_failure_log_holds_no_secret(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hook that fails writes the exception to claude-session/logs/hooks.log."""

    def failing(hc: hooklib.HookContext) -> None:
        raise ValueError(f"bad input {SECRETS['openai']}")

    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("{}"))
    assert hooklib.run("Stop", failing) == 0
    log = isolated_home / "claude-session" / "logs" / "hooks.log"
    assert log.exists() and "bad input" in log.read_text()
    assert not _leaks(log.read_bytes()), log.read_text()


def test_hook_failure_message_to_claude_code_holds_no_secret(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(hc: hooklib.HookContext) -> None:
        raise ValueError(f"could not parse {SECRETS['anthropic']}")

    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("{}"))
    assert hooklib.run("Stop", failing) == 0
    out = capsys.readouterr().out
    assert "systemMessage" in out and "could not parse" in out
    assert not _leaks(out), out
