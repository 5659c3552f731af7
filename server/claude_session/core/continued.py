"""A CLI session's pause that another session resumed: where the pausing session's part ends,
and what its own later commands do.

A pause sends the record of its stretch at once, and the pausing session's entry stays open
for what it does next. A CLI session has no Claude Code whose exit would close that entry, so,
left open, it was finalized only after 12 hours of silence, and that record counted every
commit made since the pause: the resuming session's. Now, when another session resumes the
pause of a CLI session that has run no command since it paused, the pausing session's part
ends there: its entry is finalized at the resume, marked ``continued_by``, and its record stays
the one its pause sent (commits stop at the pause; whatever git got between the pause and the
resume says nothing of whose it is, and with several sessions in one repository it is theirs,
so no record of it is made). If the pausing session comes back later (``end``, ``pause``,
``resume``), it opens a new part that continues its own record, counted from that moment, and
``end`` says plainly what happened.
"""

from __future__ import annotations

from claude_session.base import flow
from claude_session.base.clock import parse_time
from claude_session.base.state import ledger
from claude_session.base.statefile import file_lock
from claude_session.core.services import Services
from claude_session.errors import StateError
from claude_session.models import LedgerEntry, PauseEntry


def close_tail(services: Services, pause: PauseEntry, resumed_by: str) -> bool:
    """Another session (``resumed_by``) resumed ``pause``: end the pausing CLI session's part
    now, if it is idle since its pause. True when it was closed. A session that is pausing or
    ending at this moment (its turn is held) or did anything since its pause is left as it is."""
    sid = pause.session_id
    if not sid or sid == resumed_by or not pause.record_id:
        return False
    turn = services.paths.ledger / f"{services.paths.ledger_entry(sid).stem}.turn"
    try:
        with file_lock(turn, timeout=0):  # steps.session_turn's lock, never waited for
            if not _idle_since(ledger.get(services.paths, sid), pause):
                return False
            with ledger.edit(services.paths, sid) as data:
                if not _idle_since(data, pause):  # (read again under the entry's lock)
                    return False
                data.update(
                    status="finalized",
                    ended_at=services.now().isoformat(),
                    record_id=pause.record_id,
                    continued_by=resumed_by,
                    continued_at=services.now().isoformat(),
                )
                return True
    except StateError:
        return False


def _idle_since(entry: dict[str, object] | None, pause: PauseEntry) -> bool:
    """The entry is a CLI session's open part after this very pause, untouched since: no Claude
    Code runs it, no end has fixed a record for it, and no command of it ran after the pause
    (each flow stamps ``last_activity``; the pause stamps it before ``paused_at``)."""
    if entry is None or entry.get("status", "active") != "active":
        return False
    if (
        entry.get("claude_pid")
        or entry.get("record_id")
        or entry.get("continues") != pause.record_id
    ):
        return False
    last = parse_time(entry.get("last_activity"))
    return last is not None and last <= pause.paused_at


def reopened(entry: LedgerEntry | None) -> bool:
    """True when ``entry`` is a part another session's resume closed: a command of the session
    opens a new part (``steps.open_entry`` makes it continue this one)."""
    return entry is not None and entry.status == "finalized" and bool(entry.continued_by)


def tell(entry: LedgerEntry) -> None:
    """Say what happened to a session that comes back after its pause was resumed elsewhere."""
    when = entry.continued_at.isoformat(timespec="minutes") if entry.continued_at else "earlier"
    flow.warn(
        f"Session {entry.session_id}'s pause was resumed by session {entry.continued_by} at "
        f"{when}; its part up to then is recorded (record {entry.record_id}). This records what "
        f"it does from now on as a new part that continues that record: only what it commits "
        f"from here, not that session's commits."
    )
