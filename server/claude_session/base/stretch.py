"""The stretches of a session: what one record counts. Standard library only (hooks finalize).

Claude Code goes on with a session after its record was made: ``claude --resume <id>`` and
``claude --continue`` append to the same transcript (2.1.197 keeps the session id), and
``--fork-session`` starts a new session whose transcript begins with a copy of its parent's
responses (same message ids). Each stretch gets its own record with only its own responses:
the message ids every record billed are kept beside the ledger (``ledger.add_billed``), a
stretch counts the responses of its transcript that no other record billed, and it continues
the record that billed the newest response before it (or the one its entry names, when Claude
Code resumed the same session id).
"""

from __future__ import annotations

from pathlib import Path

from claude_session.base.state import ledger
from claude_session.base.tokens import Usage, usage_from_transcript
from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Entry = dict[str, Any]
#: how long counting may spend reading one transcript
BUDGET = 3.0
#: a record's token fields
TOKEN_FIELDS = ("tokens_input", "tokens_output", "tokens_cache_creation", "tokens_cache_read")


def token_fields(usage: Usage) -> dict[str, int]:
    """A usage as the record's token fields."""
    counts = (usage.input, usage.output, usage.cache_creation, usage.cache_read)
    return dict(zip(TOKEN_FIELDS, counts))  # noqa: B905 - Python 3.9: no strict=


def offset(entry: Entry) -> int:
    """Where the entry's stretch starts in its transcript (bytes; 0: the whole transcript),
    as ``ledger.stretch_start`` noted it when the stretch began, if the entry still names that
    transcript."""
    start = entry.get("stretch_offset")
    path = entry.get("transcript_path")
    if not isinstance(start, int) or start <= 0 or not path:
        return 0
    return start if entry.get("stretch_transcript") == path else 0


def count(
    paths: Paths, entry: Entry, *, record_id: str | None, budget: float = BUDGET
) -> tuple[Usage | None, str | None]:
    """This stretch's usage (the responses of the entry's transcript that no record other than
    ``record_id`` billed) and the id of the record it continues; (None, the entry's own
    ``continues``) without a usable transcript path."""
    path = entry.get("transcript_path")
    named = entry.get("continues") if isinstance(entry.get("continues"), str) else None
    if not path or not isinstance(path, str):
        return None, named
    whole = usage_from_transcript(Path(path), session_id=str(entry["session_id"]), budget=budget)
    earlier = ledger.billed_by(paths, whole.ids, but=record_id)
    before = [earlier[i] for i in whole.ids if i in earlier]
    own = whole.without(earlier)
    own.earlier = [i for i in whole.ids if i in earlier]
    return own, named or (before[-1] if before else None)


def bill(paths: Paths, session_id: str, record_id: str, usage: Usage | None) -> None:
    """Keep what a record billed, so that no later stretch bills it again."""
    if usage is not None:
        ledger.add_billed(paths, session_id, record_id, usage.ids)


def is_empty(entry: Entry, usage: Usage | None, commits: int) -> bool:
    """A resumed stretch in which nothing happened: no response of its own, no commit, no pause,
    no summary, no maintenance run (2.1.197's ``--fork-session`` reopens the parent session for
    a moment before the fork gets its own id). It gets no record."""
    return bool(
        entry.get("continues")
        and (usage is None or not usage.responses)
        and not commits
        and not entry.get("paused_at")
        and not entry.get("summary")
        and not entry.get("maintenance_runs")
    )


def fold_tail(paths: Paths, entry: Entry, usage: Usage | None, commits: int) -> Entry | None:
    """The paused record this quiet stretch follows in the same session (the pause turn's own
    answer, a question or two, no commit), with the stretch's responses added to it and billed
    by it; None when the stretch is not such a tail and gets its own record."""
    record = entry.get("record")
    if (
        not isinstance(record, dict)
        or record.get("end_mode") != "paused"
        or record.get("id") != entry.get("continues")
        or commits
        or entry.get("summary")
        or entry.get("maintenance_runs")
        or usage is None
    ):
        return None
    from claude_session.base import pricing

    folded = dict(record)
    for key, count in token_fields(usage).items():
        folded[key] = int(folded.get(key) or 0) + count
    tail = pricing.record_cost(usage, paths)
    folded["cost_usd"] = pricing.add_costs(folded.get("cost_usd"), tail["cost_usd"])
    folded["models"] = list(dict.fromkeys([*(folded.get("models") or []), *tail["models"]]))
    bill(paths, str(entry["session_id"]), str(record["id"]), usage)
    return folded
