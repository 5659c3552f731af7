"""The claude.ai round trip through ``Core`` on a real repository, with the 1Password vault on
the SDK-level fake (``fake_onepassword``) and its clock (a stall costs no real time): fixtures a
test module imports, and small steps.

    repo      a real repository named ``shop`` with a bare ``origin``
    fake      a FakeOnePassword on a FakeClock
    settings  settings with the fake's valid service account token
    core      ``core()`` (or ``core(deadline=...)``): a new ``Core`` (one process's commands)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.core.project import resolve
from claude_session.models import PendingHandoff
from claude_session.paths import Paths
from claude_session.vault.onepassword import OnePasswordVault
from helpers.fake_onepassword import VALID_TOKEN, FakeClock, FakeOnePassword
from helpers.gitrepo import make_remote, make_repo

ANSWER = """Here is the summary for Claude Code.

## Decisions
- Keep SQLite for the local tracker
## Changes to make
- Add an index on sessions.started_at
## Open questions
- none
## Next steps
- Write the migration
- Run the benchmark
"""

OTHER_ANSWER = """## Decisions
- Move to PostgreSQL after all
## Next steps
- Write the PostgreSQL migration
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    make_remote(r, tmp_path / "remote.git")
    return r


@pytest.fixture
def fake() -> FakeOnePassword:
    return FakeOnePassword(clock=FakeClock())


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    return Settings.from_env().replace(op_token=VALID_TOKEN)


@pytest.fixture
def core(settings: Settings, fake: FakeOnePassword) -> Callable[..., Core]:
    def make(deadline: float | None = None, use: Settings | None = None) -> Core:
        chosen = use or settings
        vault = OnePasswordVault(
            chosen, authenticate=fake.authenticate, deadline=deadline, clock=fake.clock
        )
        return Core(chosen, vault=vault)

    return make


def handoff(c: Core, repo: Path, sid: str = "s1", summary: str = "Parser done.") -> Any:
    """A session started and paused with a hand-off (the result of ``pause``)."""
    c.start(repo, session_id=sid)
    return c.pause(repo, session_id=sid, summary=summary, handoff=True)


def answer_field(fake: FakeOnePassword, title: str) -> str:
    return str({f.title: f.value for f in fake.item(title).fields}["claude_ai_response"])


def imported(fake: FakeOnePassword, title: str) -> bool:
    """Whether the item says its answer was imported (its hash is stored)."""
    return bool({f.title: f.value for f in fake.item(title).fields}["imported_sha256"])


def import_files(settings: Settings) -> list[Path]:
    return sorted(Paths(settings.home).contexts.glob("*-import-*.md"))


def pending_requests(settings: Settings) -> list[Path]:
    folder = Paths(settings.home).pending_handoffs
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def kept_answers(settings: Settings) -> list[Path]:
    folder = Paths(settings.home).pending_answers
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def queue_requests(settings: Settings, repo: Path, count: int) -> list[str]:
    """``count`` hand-offs left waiting by an outage (as pause writes them); their ids."""
    project = resolve(repo)
    folder = Paths(settings.home).pending_handoffs
    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    for n in range(count):
        request = PendingHandoff(
            project=project.name,
            repository=project.identity,
            context=f"# Session context\n\nqueued hand-off {n}\n",
            transfer_prompt=f"prompt {n}",
        )
        (folder / f"{request.id}.json").write_text(json.dumps(request.model_dump(mode="json")))
        ids.append(request.id)
    return ids


def creation_ids(fake: FakeOnePassword) -> list[str]:
    return [
        next(f["value"] for f in data["fields"] if f["title"] == "creation_id")
        for data in fake.items.values()
    ]


def warned(result: Any, *phrases: str) -> str:
    """The one warning of ``result`` holding every phrase (fails when none does)."""
    found = [w for w in result.warnings if all(p in w for p in phrases)]
    assert found, f"no warning with {phrases}: {result.warnings}"
    return str(found[0])
