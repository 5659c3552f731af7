"""What every flow stands on: the settings, the state home's paths, the clock, and the
backends (the ClaudeSync vault and the session tracker, each opened once, on first use).

One ``Services`` serves a whole MCP server, whose SDK runs tool calls in parallel worker
threads: nothing one call collects lives here. ``call()`` opens the call's own flow (its
warnings and redaction counts, ``base.flow``); the flows and everything below them report into
it with ``flow.warn``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from claude_session.base import clock, flow
from claude_session.base.backend import Resource
from claude_session.config import Settings
from claude_session.paths import Paths

if TYPE_CHECKING:  # the backends import SQLAlchemy and the 1Password SDK: only when used
    from claude_session.tracker.base import Tracker
    from claude_session.tracker.delivery import Delivery
    from claude_session.vault.base import Vault

log = logging.getLogger(__name__)


class Services(Resource):
    """Settings, paths, clock and backends of one machine's claude-session."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        vault: Vault | None = None,
        tracker: Tracker | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.paths = Paths(self.settings.home)
        #: the clock every flow reads (tests pass their own)
        self.now = now
        self._vault: Vault | None = vault
        self._tracker: Tracker | None = tracker
        self._lock = threading.Lock()  # tool calls run in parallel worker threads

    @contextmanager
    def call(self) -> Iterator[flow.Flow]:
        """The flow of one command or tool call: the warnings it produces are its own,
        whatever runs at the same time (a flow calling another shares the outer one)."""
        with flow.begin() as current:
            yield current

    @property
    def vault(self) -> Vault:
        with self._lock:
            if self._vault is None:
                from claude_session.vault import open_vault

                self._vault = vault = open_vault(self.settings, self.paths)
                return vault
            return self._vault

    @property
    def tracker(self) -> Tracker:
        with self._lock:
            if self._tracker is None:
                from claude_session.tracker import open_tracker

                self._tracker = tracker = open_tracker(
                    self.settings, self.paths, resolve_secret=self._tracker_secret
                )
                return tracker
            return self._tracker

    def _tracker_secret(self, reference: str) -> str:
        """The key an ``op://`` tracker setting names, read from 1Password within the seconds a
        tracker call may take (the tracker package does not import the vault)."""
        from claude_session.tracker.client import DEFAULT_BUDGET
        from claude_session.vault.secretref import resolve_secret

        return resolve_secret(reference, self.settings, timeout=DEFAULT_BUDGET)

    @property
    def vault_description(self) -> str | None:
        """The vault in use, if one was opened by this call or an earlier one."""
        return self._vault.description if self._vault is not None else None

    @property
    def delivery(self) -> Delivery:
        from claude_session.tracker.delivery import Delivery

        return Delivery(self.paths, self.tracker)

    def close(self) -> None:
        for backend in (self._vault, self._tracker):
            if backend is not None:
                backend.close()
        self._vault = self._tracker = None
