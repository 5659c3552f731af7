"""Run one flow of ``Core`` in this process and SIGKILL it right after its Nth durable write.

    python3 tests/helpers/crashpoints.py FLOW KILL_AT LOG REPO [SESSION_ID]

FLOW is ``pause`` or ``end``. Every durable write the flows make is wrapped: atomic file
writes (context files, pause-state, ledger entries, spool files, pending hand-offs), git
commits (WIP and end commits), the push, the outbox (put, confirm) and the tracker's own store.
Each completed write appends its label to LOG; the write numbered KILL_AT is followed by
SIGKILL, so the process dies with no chance to clean up, as a crash or a power cut would
leave it. KILL_AT 0 kills nowhere: the run only lists the write points.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "server"))

_count = 0


def _point(label: str, kill_at: int, log: Path) -> None:
    global _count
    _count += 1
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"{_count}\t{label}\n")
        handle.flush()
        os.fsync(handle.fileno())
    if _count == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)


def _wrap(owner: Any, name: str, label: Callable[..., str], kill_at: int, log: Path) -> None:
    real = getattr(owner, name)

    @functools.wraps(real)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        _point(label(*args, **kwargs), kill_at, log)
        return result

    setattr(owner, name, wrapper)


def _file_label(path: Path, *_: Any, **__: Any) -> str:
    path = Path(path)
    if path.parent.name in ("contexts", "ledger", "spool", "pending-handoffs"):
        return f"write {path.parent.name}/{path.name}"
    return f"write {path.name}"


def install(kill_at: int, log: Path) -> None:
    """Wrap every durable write of the flows (module-level names, and the copies that
    modules imported with ``from ... import``)."""
    import claude_session.core.facade  # noqa: F401 - loads every flow module
    import claude_session.edges.hooks.events  # noqa: F401
    from claude_session.base import statefile
    from claude_session.core import repository as git
    from claude_session.tracker import local, outbox

    atomic = statefile.atomic_write
    for name, module in sorted(sys.modules.items()):
        if name.startswith("claude_session") and getattr(module, "atomic_write", None) is atomic:
            _wrap(module, "atomic_write", _file_label, kill_at, log)
    _wrap(
        git.Repository,
        "_commit_all",
        lambda self, message, **k: "git commit " + message.splitlines()[0][:30],
        kill_at,
        log,
    )
    _wrap(git.Repository, "push", lambda self, *a, **k: "git push", kill_at, log)
    _wrap(outbox.Outbox, "put", lambda self, record, **k: "outbox put", kill_at, log)
    _wrap(
        outbox.Outbox,
        "confirm",
        lambda self, entries: f"outbox confirm {len(entries)}",
        kill_at,
        log,
    )
    _wrap(local.LocalTracker, "send", lambda self, *a, **k: "tracker store record", kill_at, log)


def run_flow(flow: str, repo: Path, session_id: str) -> None:
    from claude_session.core.facade import Core

    with Core() as core:
        if flow == "pause":
            core.pause(
                repo,
                session_id=session_id,
                summary="PAUSE-MARK summary",
                next_steps=["NEXT-MARK step"],
                note="NOTE-MARK",
                wip_commit=True,
            )
        elif flow == "end":
            core.end(
                repo,
                session_id=session_id,
                summary="END-MARK summary",
                accomplishments=["ACC-MARK"],
                next_steps=["NEXT-MARK"],
                message="end of session",
                push=True,
            )
        else:
            raise SystemExit(f"unknown flow {flow}")


def main() -> None:
    flow, kill_at, log, repo = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    session_id = sys.argv[5] if len(sys.argv) > 5 else "s"
    install(kill_at, log)
    run_flow(flow, Path(repo), session_id)


if __name__ == "__main__":
    main()
