"""After 1Password's rate limit, the commands that run by themselves (start, status, the MCP
server's start-up sync) leave 1Password alone until the wait has passed, say so, and lose
nothing; ``sync`` tries at once (findings/onepassword-2.md L4). The fake counts requests as
1Password publishes its limits (F8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from claude_session.config import Settings
from claude_session.core.facade import Core
from helpers.fake_onepassword import FakeOnePassword
from helpers.handoff_world import core, fake, handoff, pending_requests, repo, settings, warned
from helpers.onepassword_vault import pass_rate_limit_wait

__all__ = ["core", "fake", "repo", "settings"]  # the fixtures used here


def test_L4_after_a_rate_limit_commands_wait_without_spending_it_and_sync_tries_now(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """L4: a pause whose hand-off meets the write limit keeps it waiting; the starts, status
    and start-up syncs after it make no request at all, and each says when 1Password is tried
    again; ``sync`` tries at once; once 1Password's hour and the wait have passed, start
    creates the waiting hand-off, once."""
    fake.limits(hourly_writes=1)
    with core() as c:
        handoff(c, repo, "s1", "first")
        limited = c.pause(repo, session_id="s1", summary="second", handoff=True)
    warned(limited, "rate limit was reached", "Commands do not call 1Password again before")
    assert len(fake.items) == 1 and len(pending_requests(settings)) == 1
    requests, calls = len(fake.requests), fake.count()

    with core() as c:
        started = c.start(repo, session_id="s2")
        c.status(repo)
        c.startup_sync()
        c.start(repo, session_id="s3")
    assert len(fake.requests) == requests and fake.count() == calls  # not one request
    warned(started, "does not call it again before", "`claude-session sync` tries at once")
    assert started.status == "ready" and len(pending_requests(settings)) == 1

    with core() as c:
        synced = c.sync(repo)  # the person asked: tried now (1Password still says no)
    assert len(fake.requests) > requests and len(pending_requests(settings)) == 1
    warned(synced, "rate limit was reached")

    assert fake.clock is not None
    fake.clock.advance(3601)  # 1Password's hour
    pass_rate_limit_wait(settings)
    with core() as c:
        created = c.start(repo, session_id="s4")
    warned(created, "Created the delayed ClaudeSync item")
    assert len(fake.items) == 2 and pending_requests(settings) == []
