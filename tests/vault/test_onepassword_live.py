"""The 1Password vault against a real account: runs only when ``OP_SERVICE_ACCOUNT_TOKEN`` is set
in the environment pytest starts in (the service account needs read and write access to the vault
``CLAUDE_SESSION_VAULT``, default ``ClaudeSync``). Every item it creates is deleted afterwards,
archived ones included.

The first run with a real token (docs/1password.md) is covered here: a hand-off made by ``pause
--handoff``, an answer pasted by hand (the 1Password app keeps a pasted answer on one line: the
test writes that flattened form through the SDK, as the app would), the import, and the item
archived.

The token is read when this module is imported: the autouse isolation fixture removes it from
``os.environ`` before each test runs.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from claude_session.base import context as ctxmod
from claude_session.base import flow
from claude_session.config import DEFAULT_VAULT, Settings
from claude_session.core.facade import Core
from claude_session.core.project import resolve
from claude_session.errors import ItemRefused
from claude_session.models import PendingHandoff
from claude_session.paths import Paths
from claude_session.vault import op_latency, op_sdk
from claude_session.vault.base import identity_tag
from claude_session.vault.onepassword import OnePasswordVault
from claude_session.vault.op_items import BOTH_STATES, to_handoff
from claude_session.vault.op_latency import LatencyMemory
from claude_session.vault.op_sdk import connect, fingerprint, run_sync
from claude_session.vault.secretref import forget_secrets, resolve_secret
from helpers.gitrepo import make_repo

TOKEN = os.environ.get("OP_SERVICE_ACCOUNT_TOKEN", "").strip()
VAULT = os.environ.get("CLAUDE_SESSION_VAULT", "").strip() or DEFAULT_VAULT
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WAIT = 60.0  # seconds for the test's own SDK calls; each command gets ``op_deadline``

pytestmark = pytest.mark.skipif(
    not TOKEN,
    reason="OP_SERVICE_ACCOUNT_TOKEN is not set: no live 1Password account to test "
    f"against (set it, with write access to the vault '{VAULT}', to run these)",
)

ANSWER = """Summary for Claude Code.

## Decisions
- keep the live vault small
## Changes to make
- archive imported items
## Open questions
- none
## Next steps
- write the migration
- run the benchmark
"""


def app_paste(text: str) -> str:
    """What the 1Password app stores when this is pasted into a field the SDK made: one line."""
    return " ".join(text.split("\n"))


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    # A real network round trip per call: more room than the 5 s default.
    return Settings(home=isolated_home, op_token=TOKEN, vault_name=VAULT, op_deadline=30.0)


def _ours(settings: Settings, vault_id: str) -> set[str]:
    listed = run_sync(connect(settings).items.list(vault_id, BOTH_STATES), WAIT)
    return {o.id for o in listed if "cs-live-" in o.title}


@pytest.fixture
def vault(settings: Settings) -> Iterator[OnePasswordVault]:
    opened = OnePasswordVault(settings)
    vault_id = opened.calls.vault_id()
    before = _ours(settings, vault_id)
    yield opened
    client = connect(settings)
    for item_id in _ours(settings, vault_id) - before:  # archived ones included
        run_sync(client.items.delete(vault_id, item_id), WAIT)


@pytest.fixture
def project() -> str:
    return f"cs-live-{uuid.uuid4().hex[:8]}"


def make(vault: OnePasswordVault, project: str, **kw: Any) -> Any:
    kw.setdefault("repository", f"example.com/{project}")
    return vault.create_item(
        PendingHandoff(
            project=project,
            branch="main",
            session_id="live",
            machine="pytest",
            context="# live context\n\nline two",
            transfer_prompt="paste me",
            **kw,
        )
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


def test_live_answer_times_are_measured_to_size_the_default_deadline(
    isolated_home: Path, project: str
) -> None:
    """L7: a hand-off as a new process makes it (sign-in, vault, listing, create, listing),
    with no deadline chosen: the sign-in and call times are recorded, and the deadline learned
    from them is written to ``tests/artifacts/1password-live-latency.json`` (what sizes the
    default on this link)."""
    op_sdk.reset()  # a new process: it signs in
    settings = Settings(home=isolated_home, op_token=TOKEN, vault_name=VAULT)
    with flow.begin(), OnePasswordVault(settings) as fresh:
        began = time.monotonic()
        item = make(fresh, project)
        took = time.monotonic() - began
        vault_id = fresh.calls.vault_id()
    run_sync(connect(settings).items.delete(vault_id, item.id), WAIT)  # nothing left behind
    memory = LatencyMemory(
        Paths(settings.home).data / op_latency.FILE_NAME, fingerprint(settings)[:16]
    )
    measured = memory.samples()
    assert len(measured["sign_in"]) == 1 and len(measured["call"]) == 1
    record = {**measured, "handoff_seconds": round(took, 3), "deadline": memory.deadline()}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "1password-live-latency.json").write_text(json.dumps(record, indent=1))
    assert op_latency.DEFAULT_OP_DEADLINE <= memory.deadline() <= op_latency.LONGEST


def test_live_same_day_items_get_their_own_titles(vault: OnePasswordVault, project: str) -> None:
    now = datetime.now(timezone.utc)
    first, second = make(vault, project, now=now), make(vault, project, now=now)
    assert second.title == f"{first.title}-2"


def test_live_stale_version_is_retried(
    vault: OnePasswordVault, settings: Settings, project: str
) -> None:
    item = make(vault, project)
    client = connect(settings)
    raw = run_sync(client.items.get(vault.calls.vault_id(), item.id), WAIT)
    vault.set_response(item.id, "first")  # bumps the version under ``raw``
    with pytest.raises(Exception, match="not up to date"):
        run_sync(client.items.put(raw), WAIT)
    assert (
        to_handoff(
            run_sync(client.items.get(vault.calls.vault_id(), item.id), WAIT)
        ).claude_ai_response
        == "first"
    )
    assert vault.set_response(item.id, "second").claude_ai_response == "second"


def test_live_secret_reference_resolves(
    vault: OnePasswordVault, settings: Settings, project: str
) -> None:
    item = make(vault, project)
    forget_secrets()
    assert resolve_secret(f"op://{VAULT}/{item.id}/project", settings) == project


def test_live_first_run_handoff_answer_pasted_by_hand_import_archive(
    vault: OnePasswordVault, settings: Settings, project: str, tmp_path: Path
) -> None:
    """docs/1password.md's first run: a hand-off, the answer pasted in the app, the import, the
    item archived (and then left alone)."""
    repo = make_repo(tmp_path / project)
    identity = resolve(repo).identity
    with Core(settings, vault=vault) as core:
        core.start(repo, session_id="live-1")
        paused = core.pause(repo, session_id="live-1", summary="live first run", handoff=True)
        title = str(paused.handoff_item)
        assert title.startswith(f"session-{project}-") and paused.transfer_prompt
        client = connect(settings)
        vault_id = vault.calls.vault_id()
        [overview] = [o for o in run_sync(client.items.list(vault_id), WAIT) if o.title == title]
        assert identity_tag(identity) in overview.tags  # what listing picks the project by
        # The person pastes claude.ai's answer into claude_ai_response in the app.
        raw = run_sync(client.items.get(vault_id, overview.id), WAIT)
        fields = [
            f.model_copy(update={"value": app_paste(ANSWER)})
            if f.title == "claude_ai_response"
            else f
            for f in raw.fields
        ]
        run_sync(client.items.put(raw.model_copy(update={"fields": fields})), WAIT)
        imported = core.import_handoff(repo, session_id="live-1")
        assert imported.status == "imported" and imported.item == title
        insights = ctxmod.parse(Path(str(imported.context_file)).read_text()).insights
        for heading in ("Decisions", "Changes to make", "Next steps"):
            assert f"### {heading}" in insights
        assert "- write the migration" in insights and "- run the benchmark" in insights
        assert core.import_handoff(repo, session_id="live-1").status == "nothing_to_import"
        # The person archives the item in the app: it is no longer listed, never written, and
        # its title stays taken.
        run_sync(client.items.archive(vault_id, overview.id), WAIT)
    with flow.begin():
        assert vault.list_items(project=project, repository=identity) == []
    with flow.begin(), pytest.raises(ItemRefused, match="archived"):
        vault.set_response(overview.id, "late")
    with flow.begin():
        again = make(vault, project, repository=identity)
    assert again.title == f"{title}-2"


def _app_save(settings: Settings, vault: OnePasswordVault, title: str, change: Any) -> None:
    """The person edits the item in the app and saves: ``change(raw)`` gives the new item;
    every field made through the API is saved on one line (L1-new, as the app likely does)."""
    client = connect(settings)
    vault_id = vault.calls.vault_id()
    [overview] = [o for o in run_sync(client.items.list(vault_id), WAIT) if o.title == title]
    raw = change(run_sync(client.items.get(vault_id, overview.id), WAIT))
    flat = [f.model_copy(update={"value": app_paste(f.value)}) for f in raw.fields]
    run_sync(client.items.put(raw.model_copy(update={"fields": flat})), WAIT)


def _added_field(raw: Any) -> Any:
    from onepassword import ItemField, ItemFieldType, ItemSection

    sections = [*raw.sections, ItemSection(id="addmore", title="")]
    field = ItemField(
        id=uuid.uuid4().hex[:26],
        title="claude_ai_response",
        field_type=ItemFieldType.TEXT,
        value=ANSWER,
        section_id="addmore",
    )
    return raw.model_copy(update={"fields": [*raw.fields, field], "sections": sections})


def _in_notes(raw: Any) -> Any:
    return raw.model_copy(update={"notes": f"{raw.notes}\n\n{ANSWER}"})


@pytest.mark.parametrize("paste", [_added_field, _in_notes], ids=["added field", "notes"])
def test_live_answer_where_people_paste_it_is_imported_once_on_resume(
    vault: OnePasswordVault, settings: Settings, project: str, tmp_path: Path, paste: Any
) -> None:
    """issue 24: the answer in a field the person added, or in the notes, every field re-saved
    on one line; /session:resume brings it in once, and the context keeps its lines."""
    repo = make_repo(tmp_path / project)
    with Core(settings, vault=vault) as core:
        core.start(repo, session_id="live-1")
        paused = core.pause(repo, session_id="live-1", summary="live resume", handoff=True)
    _app_save(settings, vault, str(paused.handoff_item), paste)
    with Core(settings, vault=vault) as core:
        assert core.status(repo).handoff_waiting is True
        resumed = core.resume(repo, session_id="live-2")
        assert resumed.imported_item == paused.handoff_item
        assert "keep the live vault small" in resumed.context
        assert core.start(repo, session_id="live-3").imported_item is None
