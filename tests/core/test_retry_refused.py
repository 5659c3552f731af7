"""Hand-offs the vault refused for good (item too big, invalid input, an archived item) are not
stranded: once the person fixed the cause, ``sync --retry-refused`` creates them, with their own
date, once (findings/onepassword-2.md D8). The vault is the 1Password one on the fake below the
SDK; the CLI runs in its own process on the local vault."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from claude_session.base.state import handoffs as handoff_state
from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.edges import textout
from claude_session.models import PendingHandoff
from claude_session.paths import Paths
from claude_session.vault.onepassword import OnePasswordVault
from helpers.clirun import cli
from helpers.fake_onepassword import TOO_BIG, VALID_TOKEN, FakeOnePassword
from helpers.gitrepo import make_remote, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    make_remote(r, tmp_path / "remote.git")
    return r


@pytest.fixture
def fake() -> FakeOnePassword:
    return FakeOnePassword()


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    return Settings.from_env().replace(op_token=VALID_TOKEN)


@pytest.fixture
def core(settings: Settings, fake: FakeOnePassword) -> Callable[[], Core]:
    return lambda: Core(settings, vault=OnePasswordVault(settings, authenticate=fake.authenticate))


def requests(settings: Settings) -> list[dict[str, object]]:
    folder = Paths(settings.home).data / "pending-handoffs"
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def test_a_refused_handoff_is_created_by_sync_retry_refused_once_the_cause_is_fixed(
    repo: Path, fake: FakeOnePassword, core: Callable[[], Core], settings: Settings
) -> None:
    """D8: a hand-off the vault refused for good is kept as failed and never retried by itself;
    ``sync --retry-refused`` tries it again, finds or creates its item with its own title and
    creation id, and removes the request."""
    fake.item_limit = 800  # the server refuses the item: too big
    with core() as c:
        c.start(repo, session_id="s1")
        paused = c.pause(repo, session_id="s1", summary="x" * 900, handoff=True)
    assert paused.handoff_item is None and fake.items == {}
    [refused] = requests(settings)
    assert refused["state"] == "failed" and "too big" in str(refused["reason"])

    fake.item_limit = None  # the person fixed the cause (a smaller context, another vault...)
    with core() as c:
        plain = c.sync(repo)
        status = c.status(repo)
    assert plain.retried_handoffs == 0 and fake.items == {}  # refused stays refused by default
    text = textout.render_text("status", status.model_dump(mode="json"))
    assert "sync --retry-refused" in text  # status says how to try it again

    with core() as c:
        retried = c.sync(repo, retry_refused=True)
    assert retried.retried_handoffs == 1 and requests(settings) == []
    [item] = [fake.item(d["id"]) for d in fake.items.values()]
    fields = {f.title: f.value for f in item.fields}
    assert item.title == refused["title"] and fields["creation_id"] == refused["id"]
    assert any("Trying the refused ClaudeSync item" in w for w in retried.warnings)

    with core() as c:  # nothing is made twice
        again = c.sync(repo, retry_refused=True)
    assert again.retried_handoffs == 0 and len(fake.items) == 1


def test_a_handoff_refused_again_stays_failed_with_the_new_reason_and_others_go_on(
    repo: Path, fake: FakeOnePassword, core: Callable[[], Core], settings: Settings
) -> None:
    """D8: a retry the vault refuses again is failed again (with today's reason), and does not
    stop the other refused hand-offs from being created."""
    fake.item_limit = 800
    with core() as c:
        c.start(repo, session_id="s1")
        c.pause(repo, session_id="s1", summary="y" * 900, handoff=True)
        c.pause(repo, session_id="s1", summary="z" * 900, handoff=True)
    assert [r["state"] for r in requests(settings)] == ["failed", "failed"]
    fake.item_limit = None
    fake.fail("items.create", Exception(TOO_BIG), times=1)  # the oldest is refused again
    with core() as c:
        retried = c.sync(repo, retry_refused=True)
    assert retried.retried_handoffs == 1 and len(fake.items) == 1
    [left] = requests(settings)
    assert left["state"] == "failed" and "item is too big" in str(left["reason"])


def test_sync_retry_refused_on_the_command_line(repo: Path, isolated_home: Path) -> None:
    """D8 through the CLI (a process, the local vault): the option has help, a refused request
    on disk becomes an item, and a value given to the flag is a usage error (exit 2, a JSON
    error under --json)."""
    helped = cli("sync", "--help", cwd=repo)
    assert helped.returncode == 0 and "--retry-refused" in helped.stdout
    assert "refused for good" in " ".join(helped.stdout.split())
    request = PendingHandoff(
        project="shop", context="# Context\n\nwork\n", state="failed", reason="item is too big"
    )
    request.title = "session-shop-2026-01-02"
    handoff_state.save(Paths(isolated_home), request.model_dump(mode="json"))

    kept = cli("sync", "--json", cwd=repo)
    assert kept.returncode == 0 and json.loads(kept.stdout)["retried_handoffs"] == 0
    done = cli("sync", "--retry-refused", "--json", cwd=repo)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["retried_handoffs"] == 1
    assert list((Paths(isolated_home).data / "pending-handoffs").glob("*.json")) == []
    items = list((Paths(isolated_home).data / "vault").rglob("*.json"))
    assert any("session-shop-2026-01-02" in p.read_text() for p in items)

    bad = cli("sync", "--retry-refused=yes", "--json", cwd=repo)
    assert bad.returncode == 2 and json.loads(bad.stdout)["status"] == "error"
