"""Session trackers: where finished session records go (SPEC section 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from claude_session.config import Settings
from claude_session.errors import ConfigError
from claude_session.paths import Paths
from claude_session.tracker.base import Tracker
from claude_session.tracker.local import LocalTracker

if TYPE_CHECKING:
    from claude_session.tracker.client import HttpTracker

__all__ = ["HttpTracker", "LocalTracker", "Tracker", "open_tracker"]


def open_tracker(settings: Settings, paths: Paths) -> Tracker:
    """The tracker to use: the remote one when a tracker URL is configured, else the local
    database. Opening either costs nothing and never fails: connections and the key come on
    first use, and an unusable URL keeps records in the outbox rather than failing a flow."""
    if settings.tracker_url is None:
        return LocalTracker(paths.tracker_db)
    # httpx is imported only by those who use a remote tracker (MCP start-up time).
    from claude_session.tracker.client import HttpTracker, MisconfiguredTracker

    try:
        return HttpTracker.from_settings(settings)
    except ConfigError as exc:
        return MisconfiguredTracker(exc)


def __getattr__(name: str) -> object:
    if name == "HttpTracker":
        from claude_session.tracker.client import HttpTracker

        return HttpTracker
    raise AttributeError(name)
