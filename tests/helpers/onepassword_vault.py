"""The 1Password vault on the fake 1Password (``fake_onepassword``), for the vault's tests: the
fixtures (a test module imports the ones it uses) and small factories.

    fake            a fresh FakeOnePassword on a FakeClock: stalls cost no real time
    settings        settings with the fake's valid service account token
    vault_factory   a new OnePasswordVault on the same fake each call (the vault contract's)
    vault           one of them, closed after the test
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from claude_session.base import clock
from claude_session.config import Settings
from claude_session.paths import Paths
from claude_session.vault import op_limits
from claude_session.vault.base import Vault
from claude_session.vault.onepassword import OnePasswordVault
from helpers.fake_onepassword import VALID_TOKEN, FakeClock, FakeOnePassword
from helpers.vault_contract import make


@pytest.fixture
def fake() -> FakeOnePassword:
    return FakeOnePassword(clock=FakeClock())


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    return Settings(home=isolated_home, op_token=VALID_TOKEN)


@pytest.fixture
def vault_factory(settings: Settings, fake: FakeOnePassword) -> Callable[[], Vault]:
    return lambda: op_vault(settings, fake)


@pytest.fixture
def vault(vault_factory: Callable[[], Vault]) -> Iterator[Vault]:
    with vault_factory() as opened:
        yield opened


def op_vault(settings: Settings, fake: FakeOnePassword, **kw: Any) -> OnePasswordVault:
    """The vault on ``fake``, on its clock when it has one."""
    if fake.clock is not None:
        kw.setdefault("clock", fake.clock)
    return OnePasswordVault(settings, authenticate=fake.authenticate, **kw)


def rate_limit_file(settings: Settings) -> Path:
    """Where the rate limit met by a command is remembered for the next ones (L4)."""
    return Paths(settings.home).data / op_limits.FILE_NAME


def pass_rate_limit_wait(settings: Settings) -> None:
    """The wait after a remembered rate limit has passed (its ``until`` is in the past)."""
    path = rate_limit_file(settings)
    entries = json.loads(path.read_text())
    for entry in entries.values():
        entry["until"] = (clock.now() - timedelta(seconds=1)).isoformat()
    path.write_text(json.dumps(entries))


def chain(exc: BaseException) -> str:
    """Every message in an exception chain: what a traceback in a log would show."""
    return "".join(traceback.format_exception(exc))


def crowd(vault: Vault, count: int = 60) -> set[str]:
    """Other projects' items in the same vault (five of them named like ours, in other
    repositories), each with an answer waiting; their ids."""
    ids = set()
    for n in range(count):
        project = "widgets" if n % 12 == 0 else f"app{n}"
        other = make(vault, project, repository=f"github.com/else/app{n}")
        vault.set_response(other.id, "## Decisions\n- theirs")
        ids.add(other.id)
    return ids
