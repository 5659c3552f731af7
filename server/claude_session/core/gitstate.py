"""What git reads back: a working tree's state, a push's outcome, and ``git status``
(porcelain v2) parsed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class WorkingState:
    """Everything a context file or pause entry needs, collected in two or three git calls.

    Outside git (or when git cannot say) the state is ``unknown``: no branch, no head, no
    files, and ``known`` False, so that callers need no ``None`` checks."""

    root: str
    branch: str | None = None
    head: str | None = None
    detached: bool = False
    empty: bool = True
    dirty_files: list[str] = field(default_factory=list)
    untracked_files: list[str] = field(default_factory=list)
    stashes: list[str] = field(default_factory=list)
    origin_url: str | None = None
    operation: str | None = None
    known: bool = True

    @classmethod
    def unknown(cls, root: Path | str) -> WorkingState:
        return cls(root=str(root), known=False)

    @property
    def changed(self) -> bool:
        """Whether a commit would take anything (tracked changes or untracked files)."""
        return bool(self.dirty_files or self.untracked_files)


@dataclass(frozen=True)
class PushOutcome:
    """What a push did; ``pushed`` is True when the upstream holds HEAD afterwards."""

    status: str  # pushed | up_to_date | no_remote | no_upstream | rejected | failed | detached
    pushed: bool
    detail: str


@dataclass(frozen=True)
class Status:
    """``git status --porcelain=v2 --branch`` parsed."""

    branch: str | None
    head: str | None
    detached: bool
    dirty: list[str]
    untracked: list[str]


def parse_status(out: str) -> Status:
    branch: str | None = None
    head: str | None = None
    dirty: list[str] = []
    untracked: list[str] = []
    records = iter(out.split("\0"))
    for record in records:
        if record.startswith("# branch.oid "):
            oid = record[len("# branch.oid ") :]
            head = None if oid == "(initial)" else oid
        elif record.startswith("# branch.head "):
            branch = record[len("# branch.head ") :]
        elif record.startswith("1 "):
            dirty.append(record.split(" ", 8)[8])
        elif record.startswith("2 "):
            dirty.append(record.split(" ", 9)[9])
            next(records, None)  # the rename's original path follows as its own record
        elif record.startswith("u "):
            dirty.append(record.split(" ", 10)[10])
        elif record.startswith("? "):
            untracked.append(record[2:])
    detached = branch == "(detached)"
    return Status(None if detached else branch, head, detached, dirty, untracked)
