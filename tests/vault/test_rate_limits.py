"""1Password's rate limits: the fake counts requests as 1Password publishes its limits (F8),
through the SDK's own client; the vault remembers a limit it met, so the commands after it do
not spend the limit further (L4)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from onepassword import ItemCategory, ItemCreateParams
from onepassword.errors import RateLimitExceededException

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.errors import RateLimited
from claude_session.models import PendingHandoff
from claude_session.vault.op_limits import FIRST_WAIT, LONGEST_WAIT, RateLimitMemory
from helpers.fake_onepassword import OTHER_TOKEN, VALID_TOKEN, FakeClock, FakeOnePassword
from helpers.onepassword_vault import op_vault, pass_rate_limit_wait, rate_limit_file


def _sdk(fake: FakeOnePassword, token: str, work: Any) -> Any:
    """``work(client)`` with the SDK's own client signed in to the fake."""

    async def run() -> Any:
        client = await fake.authenticate(token, "claude-session", "0.1.0")
        return await work(client)

    return asyncio.run(run())


def _create(fake: FakeOnePassword, token: str, title: str) -> Any:
    params = ItemCreateParams(
        category=ItemCategory.SECURENOTE, vault_id=fake.vault_id(), title=title
    )
    return _sdk(fake, token, lambda c: c.items.create(params))


def test_F8_the_fake_counts_requests_per_token_hour_and_per_account_day() -> None:
    """F8: the fake's rate limit is no longer only a switch. Writes past the hourly limit of
    one token get the SDK's ``RateLimitExceededException`` while reads go on; another token has
    its own hour; the account's day is shared by both, and requests refused for the limit count
    in it; an hour later the token writes again."""
    fake = FakeOnePassword(clock=FakeClock())
    fake.tokens.add(OTHER_TOKEN)
    fake.limits(hourly_reads=1000, hourly_writes=2, daily=12)
    _create(fake, VALID_TOKEN, "a")
    _create(fake, VALID_TOKEN, "b")  # 4 requests: 2 sign-ins, 2 writes
    with pytest.raises(RateLimitExceededException):
        _create(fake, VALID_TOKEN, "c")  # the third write of the hour (counted: 6)
    vault_id = fake.vault_id()
    assert _sdk(fake, VALID_TOKEN, lambda c: c.items.list(vault_id))  # reads go on (8)
    _create(fake, OTHER_TOKEN, "d")  # another token, its own hour (10)
    assert fake.clock is not None
    fake.clock.advance(3601)
    _create(fake, VALID_TOKEN, "e")  # a new hour (12: the day is full now)
    with pytest.raises(RateLimitExceededException):
        _create(fake, OTHER_TOKEN, "f")  # the account's day, shared by every token
    assert sorted(d["title"] for d in fake.items.values()) == ["a", "b", "d", "e"]
    fake.clock.advance(86400)
    _create(fake, OTHER_TOKEN, "g")  # a new day


def test_L4_a_rate_limit_is_remembered_and_later_commands_do_not_call(
    settings: Settings, fake: FakeOnePassword
) -> None:
    """L4: once 1Password said "rate limit", the next commands fail at once, with when they
    will try again, and make no request (each would sign in and spend the limit further); a
    command that tries now (``sync``) does; once the wait has passed, commands call again."""
    fake.limits(hourly_writes=1)
    with flow.begin(), op_vault(settings, fake) as vault:
        vault.create_item(PendingHandoff(project="shop", context="one"))
    with (
        flow.begin(),
        op_vault(settings, fake) as vault,
        pytest.raises(RateLimited, match="Commands do not call 1Password again before"),
    ):
        vault.create_item(PendingHandoff(project="shop", context="two"))
    calls = fake.count()
    for _ in range(3):
        with (
            flow.begin(),
            op_vault(settings, fake) as vault,
            pytest.raises(RateLimited, match="does not call it again before") as info,
        ):
            vault.list_items(project="shop")
    assert fake.count() == calls  # not one request, sign-in included
    assert "`claude-session sync` tries at once" in str(info.value)
    assert VALID_TOKEN not in rate_limit_file(settings).read_text()

    with flow.begin(), op_vault(settings, fake) as vault:  # sync: tries now, still limited
        vault.try_now()
        with pytest.raises(RateLimited):
            vault.create_item(PendingHandoff(project="shop", context="three"))
    [entry] = json.loads(rate_limit_file(settings).read_text()).values()
    assert entry["strikes"] == 2  # the wait doubles

    assert fake.clock is not None
    fake.clock.advance(3601)  # 1Password's hour has passed
    with flow.begin(), op_vault(settings, fake) as vault:
        vault.try_now()
        vault.create_item(PendingHandoff(project="shop", context="four"))
    pass_rate_limit_wait(settings)
    with flow.begin(), op_vault(settings, fake) as vault:
        assert len(vault.list_items(project="shop")) == 2


def test_L4_the_wait_doubles_from_a_minute_to_an_hour_and_is_per_credentials(
    tmp_path: Path,
) -> None:
    """L4: 1Password does not say when a limit resets: the wait is 1, 2, 4 ... minutes for
    limits met in a row, never more than an hour; another token's memory is its own; a damaged
    file is no memory."""
    moment = datetime(2026, 1, 2, 12, 0, tzinfo=timezone.utc)
    path = tmp_path / "limits.json"
    memory = RateLimitMemory(path, "one", now=lambda: moment)
    waits = [(memory.hit().until - moment).total_seconds() for _ in range(9)]
    assert waits[:3] == [FIRST_WAIT, 2 * FIRST_WAIT, 4 * FIRST_WAIT]
    assert max(waits) == LONGEST_WAIT == waits[-1]
    other = RateLimitMemory(path, "two", now=lambda: moment)
    assert other.load() is None
    loaded = memory.load()
    assert loaded is not None and loaded.active(moment + timedelta(minutes=59))
    assert "12:00 UTC" in loaded.told() and "13:00 UTC" in loaded.told()
    later = RateLimitMemory(path, "one", now=lambda: moment + timedelta(hours=3))
    assert later.hit().strikes == 1  # not in a row: the wait starts again at a minute
    path.write_text("{not json")
    assert memory.load() is None
