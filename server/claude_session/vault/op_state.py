"""The small JSON files where what 1Password did is remembered across commands (its rate limit,
``op_limits``; its answer times, ``op_latency``): one object, keyed by a short hash of the
credentials. Such a file only saves time or requests, so one that cannot be read is taken as
empty and one that cannot be written is left as it was (both are logged)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from claude_session.base import bounded
from claude_session.base.statefile import atomic_write
from claude_session.errors import StateError

LIMIT = 64 * 1024

log = logging.getLogger(__name__)


def load(path: Path) -> dict[str, object]:
    """The file's object; empty when it is missing or unreadable."""
    try:
        data = json.loads(bounded.read_text(path, limit=LIMIT))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.info("%s not read: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def save(path: Path, entries: dict[str, object]) -> None:
    try:
        atomic_write(path, json.dumps(entries, indent=1) + "\n")
    except (OSError, StateError) as exc:
        log.info("%s not written: %s", path, exc)
