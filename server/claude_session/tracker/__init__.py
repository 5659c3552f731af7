"""Session trackers: where finished session records go (SPEC section 6)."""

from __future__ import annotations

from collections.abc import Callable

from claude_session.config import Settings
from claude_session.errors import ConfigError
from claude_session.paths import Paths
from claude_session.tracker.base import Tracker
from claude_session.tracker.local import LocalTracker

__all__ = ["LocalTracker", "Tracker", "open_tracker"]


def open_tracker(
    settings: Settings, paths: Paths, *, resolve_secret: Callable[[str], str] | None = None
) -> Tracker:
    """The tracker to use: the remote one when a tracker URL is configured, else the local
    database. Opening either costs nothing and never fails: connections and the key come on
    first use, and an unusable URL keeps records in the outbox rather than failing a flow.

    ``resolve_secret`` turns an ``op://`` reference in the key setting into the key (the core
    passes 1Password's; the tracker package does not import the vault)."""
    if settings.tracker_url is None:
        return LocalTracker(paths.tracker_db)
    # httpx is imported only by those who use a remote tracker (MCP start-up time).
    from claude_session.tracker.client import HttpTracker, MisconfiguredTracker

    try:
        return HttpTracker.from_settings(settings, resolve_secret=resolve_secret)
    except ConfigError as exc:
        return MisconfiguredTracker(exc)
