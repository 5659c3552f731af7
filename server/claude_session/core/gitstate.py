"""What git reads back: a working tree's state, and a push's outcome (``git status`` itself is
parsed by ``base.gitread.parse_status``, for the hooks and the core alike)."""

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

    #: pushed | up_to_date | no_remote | no_upstream | rejected | failed | detached | not_wanted
    status: str
    pushed: bool
    detail: str


@dataclass(frozen=True)
class WipRun:
    """Unpushed WIP commits on top of HEAD (newest first) and the commit under them (None: the
    first of them has no parent)."""

    shas: list[str]
    base: str | None
