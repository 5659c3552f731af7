"""Session trackers: where finished session records go (SPEC section 6)."""

from __future__ import annotations

from claude_session.config import Settings
from claude_session.paths import Paths
from claude_session.tracker.base import Tracker
from claude_session.tracker.local import LocalTracker

__all__ = ["LocalTracker", "Tracker", "open_tracker"]


def open_tracker(settings: Settings, paths: Paths) -> Tracker:
    """The tracker to use: the local database unless a tracker URL is configured."""
    if settings.tracker_url is None:
        return LocalTracker(paths.tracker_db)
    # Seam for the remote client: build the HTTP tracker from settings.tracker_url and
    # settings.tracker_token (POST {url}/api/sessions, bearer token) here. Until it exists the
    # records stay on this machine rather than being dropped, and the description says so.
    tracker = LocalTracker(paths.tracker_db)
    tracker.description += f" (the remote tracker {settings.tracker_url} is not supported yet)"
    return tracker
