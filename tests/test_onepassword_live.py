"""The 1Password vault against a real account: runs only when ``OP_SERVICE_ACCOUNT_TOKEN`` is set
in the environment pytest starts in (the service account needs read and write access to the vault
``CLAUDE_SESSION_VAULT``, default ``ClaudeSync``). Every item it creates is deleted afterwards.

The token is read when this module is imported: the autouse isolation fixture removes it from
``os.environ`` before each test runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_session.config import DEFAULT_VAULT, Settings
from claude_session.vault.onepassword import OnePasswordVault, connect, run_sync, to_handoff
from claude_session.vault.secretref import forget_secrets, resolve_secret

TOKEN = os.environ.get("OP_SERVICE_ACCOUNT_TOKEN", "").strip()
VAULT = os.environ.get("CLAUDE_SESSION_VAULT", "").strip() or DEFAULT_VAULT

pytestmark = pytest.mark.skipif(
    not TOKEN,
    reason="OP_SERVICE_ACCOUNT_TOKEN is not set: no live 1Password account to test "
    f"against (set it, with write access to the vault '{VAULT}', to run these)",
)


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    return Settings(home=isolated_home, op_token=TOKEN, vault_name=VAULT)


@pytest.fixture
def vault(settings: Settings) -> Iterator[OnePasswordVault]:
    opened = OnePasswordVault(settings)
    created_before = {i.id for i in opened.list_items()}
    yield opened
    client = connect(settings)
    vault_id = opened._vault()
    for item in opened.list_items():
        if item.id not in created_before and item.project.startswith("cs-live-"):
            run_sync(client.items.delete(vault_id, item.id))


@pytest.fixture
def project() -> str:
    return f"cs-live-{uuid.uuid4().hex[:8]}"


def make(vault: OnePasswordVault, project: str, **kw: Any) -> Any:
    return vault.create_item(
        project=project,
        branch="main",
        session_id="live",
        machine="pytest",
        repository=f"example.com/{project}",
        context="# live context\n\nline two",
        transfer_prompt="paste me",
        **kw,
    )


def test_live_round_trip_create_answer_import(vault: OnePasswordVault, project: str) -> None:
    item = make(vault, project)
    assert item.title.startswith(f"session-{project}-") and item.claude_ai_response == ""
    got = vault.get_item(item.title)
    assert got.context == "# live context\n\nline two" and got.transfer_prompt == "paste me"
    vault.set_response(item.id, "## Decisions\n- live\n## Next steps\n- more")
    pending = vault.pending_response(project=project, repository=f"example.com/{project}")
    assert pending is not None and pending.id == item.id
    assert pending.claude_ai_response == "## Decisions\n- live\n## Next steps\n- more"
    vault.mark_imported(item.id)
    assert vault.pending_response(project=project) is None


def test_live_same_day_items_get_their_own_titles(vault: OnePasswordVault, project: str) -> None:
    now = datetime.now(timezone.utc)
    first, second = make(vault, project, now=now), make(vault, project, now=now)
    assert second.title == f"{first.title}-2"


def test_live_stale_version_is_retried(
    vault: OnePasswordVault, settings: Settings, project: str
) -> None:
    item = make(vault, project)
    client = connect(settings)
    raw = run_sync(client.items.get(vault._vault(), item.id))
    vault.set_response(item.id, "first")  # bumps the version under ``raw``
    with pytest.raises(Exception, match="not up to date"):
        run_sync(client.items.put(raw))
    assert (
        to_handoff(run_sync(client.items.get(vault._vault(), item.id))).claude_ai_response
        == "first"
    )
    assert vault.set_response(item.id, "second").claude_ai_response == "second"


def test_live_secret_reference_resolves(
    vault: OnePasswordVault, settings: Settings, project: str
) -> None:
    item = make(vault, project)
    forget_secrets()
    assert resolve_secret(f"op://{VAULT}/{item.id}/project", settings) == project
