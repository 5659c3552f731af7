"""Every word list of the product, each defined once: the ``Literal`` types that the models,
the MCP tools and the core are typed with, and their values as tuples for argparse and checks.

Standard library, but not on the hooks' path (it imports ``typing``): modules of the hook-safe
part name these types only under ``TYPE_CHECKING`` (mypy then checks their plain strings against
the list here) and import this module at run time only off the per-turn path.
"""

from __future__ import annotations

from typing import Literal, get_args

#: how a session ends (seed: "Handoff Decision on /end")
EndMode = Literal["standard", "handoff", "sync"]
END_MODES: tuple[EndMode, ...] = get_args(EndMode)

#: the answers to a branch mismatch on start and resume (the CLI also takes "ask")
MismatchChoice = Literal["switch", "stay", "cancel"]
MISMATCH_CHOICES: tuple[MismatchChoice, ...] = get_args(MismatchChoice)

#: how a recorded session ended: by /end in one of its modes, or without /end (paused, or not)
RecordEnd = Literal["standard", "handoff", "sync", "paused", "unended"]
RECORD_ENDS: tuple[RecordEnd, ...] = get_args(RecordEnd)

#: what the branch check decided
BranchDecision = Literal["match", "mismatch", "switched", "stayed", "cancelled"]

#: what ``remind`` does
RemindAction = Literal["on", "off", "status"]
REMIND_ACTIONS: tuple[RemindAction, ...] = get_args(RemindAction)

#: the ``status`` of start and resume results
StartStatus = Literal["ready", "branch_mismatch", "cancelled", "no_pause_state"]

#: where a finished record went
TrackerOutcome = Literal["sent", "queued", "local", "auth_failed", "rejected"]

#: a ledger entry's life: open, being ended (its record made), ended by /end, finalized without it
LedgerStatus = Literal["active", "ending", "ended", "finalized"]

#: what a context file was written for (its front matter ``kind``)
ContextKind = Literal["pause", "end", "handoff", "compact", "import", "unended"]
CONTEXT_KINDS: tuple[ContextKind, ...] = get_args(ContextKind)

#: what a ClaudeSync item carries: a claude.ai hand-off, or a session for another machine
ItemKind = Literal["handoff", "sync"]
