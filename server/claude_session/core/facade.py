"""``Core``: the one object the CLI, the MCP server and the tests call, one method per verb.

Each method is the flow of its own module (``start``, ``pause``, ``resume``, ``end``,
``answers``, ``handoffs``, ``remind``, ``maintenance``, ``upkeep``) run over this machine's
``Services``. It knows nothing of MCP, hooks or argument parsing; it raises
``ClaudeSessionError`` subclasses whose message says what to do, and returns the models of
``claude_session.models``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from claude_session.base import clock
from claude_session.base.backend import Resource
from claude_session.config import Settings
from claude_session.core import answers, handoffs, maintenance, received, remind, upkeep
from claude_session.core.end import end
from claude_session.core.pause import pause
from claude_session.core.resume import resume
from claude_session.core.services import Services
from claude_session.core.start import start
from claude_session.paths import Paths

if TYPE_CHECKING:
    from claude_session.tracker.base import Tracker
    from claude_session.tracker.delivery import Delivery
    from claude_session.vault.base import Vault


P = ParamSpec("P")
R = TypeVar("R")


def _flow(fn: Callable[Concatenate[Services, P], R]) -> Callable[Concatenate[Core, P], R]:
    """A flow of the core as a method: called over this ``Core``'s services."""

    def method(core: Core, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return fn(core.services, *args, **kwargs)

    method.__name__, method.__doc__ = fn.__name__, fn.__doc__
    return method


class Core(Resource):
    """The flows of one machine's claude-session, over its settings and state home."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        vault: Vault | None = None,
        tracker: Tracker | None = None,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.services = Services(settings, vault=vault, tracker=tracker, now=now)

    # the seed's flows
    start = _flow(start)
    pause = _flow(pause)
    resume = _flow(resume)
    end = _flow(end)
    remind = _flow(remind.remind)
    record_maintenance = _flow(maintenance.record_maintenance)
    # the round trip to claude.ai
    import_handoff = _flow(answers.import_handoff)
    handoff_prompt = _flow(handoffs.prompt)
    handoff_receive = _flow(received.receive)
    pending_handoffs = _flow(handoffs.pending_handoffs)
    # the books
    status = _flow(upkeep.status)
    history = _flow(upkeep.history)
    sync = _flow(upkeep.sync)
    startup_sync = _flow(upkeep.startup_sync)
    contexts = _flow(upkeep.contexts)
    context = _flow(upkeep.context)

    # --- what the edges read --------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def paths(self) -> Paths:
        return self.services.paths

    @property
    def vault(self) -> Vault:
        return self.services.vault

    @property
    def tracker(self) -> Tracker:
        return self.services.tracker

    @property
    def delivery(self) -> Delivery:
        return self.services.delivery

    def close(self) -> None:
        self.services.close()
