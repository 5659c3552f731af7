"""What a session context holds: ``Context``, normalised the way a file keeps text, and
``build``, the one way a flow or a hook makes one. Standard library only."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from claude_session.base.context.syntax import clean_text, split_lines, utc

KINDS = ("pause", "end", "handoff", "compact", "import", "unended")
SECTIONS = (
    "Summary",
    "Accomplishments",
    "Next steps",
    "Notes",
    "Working state",
    "Files changed",
    "Maintenance runs",
    "Insights from claude.ai",
)

WORKING_LISTS = (
    ("dirty_files", "Dirty files"),
    ("untracked_files", "Untracked files"),
    ("stashes", "Stashes"),
    ("commits", "Commits"),
)
LIST_FIELDS = (
    "accomplishments",
    "next_steps",
    "dirty_files",
    "untracked_files",
    "stashes",
    "commits",
    "files_changed",
    "maintenance_runs",
)
RUN_KEYS = ("command", "status", "run_at", "notes", "results")


# --- normalisation: what a context can hold survives a trip through a file -------------------


def _clean_item(item: str) -> str:
    """A list item: its non-blank lines, the first one without leading blanks."""
    lines = [line.rstrip() for line in split_lines(item) if line.strip()]
    if lines:
        lines[0] = lines[0].lstrip()
    return "\n".join(lines)


def clean_items(items: list[str]) -> list[str]:
    return [cleaned for cleaned in (_clean_item(str(item)) for item in items) if cleaned]


def _clean_run(run: dict[str, Any]) -> dict[str, Any]:
    """A maintenance run as JSON gives it back (datetimes become strings, tuples lists)."""
    cleaned = json.loads(json.dumps(run, default=str, ensure_ascii=False))
    return cleaned if isinstance(cleaned, dict) else {"results": cleaned}


@dataclass
class Context:
    """One session context. Construction normalises text the way a file would (line endings,
    trailing blanks, empty list items), so ``parse(render(c)) == c``."""

    project: str
    kind: str
    created: datetime
    branch: str | None = None
    head: str | None = None
    session_id: str | None = None
    repository: str | None = None
    summary: str = ""
    accomplishments: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    notes: str = ""
    dirty_files: list[str] = field(default_factory=list)
    untracked_files: list[str] = field(default_factory=list)
    stashes: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)
    maintenance_runs: list[dict[str, Any]] = field(default_factory=list)
    insights: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"context kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        self.created = utc(self.created)
        for name in ("summary", "notes", "insights"):
            setattr(self, name, clean_text(getattr(self, name)))
        for name in LIST_FIELDS[:-1]:
            setattr(self, name, clean_items(getattr(self, name)))
        self.maintenance_runs = [_clean_run(run) for run in self.maintenance_runs if run]


if TYPE_CHECKING:

    class WorkingTree(Protocol):
        """What a context says of the working tree: ``gitread.Status``, or the core's
        ``WorkingState`` (which adds the stashes)."""

        @property
        def branch(self) -> str | None: ...
        @property
        def head(self) -> str | None: ...
        @property
        def dirty_files(self) -> Sequence[str]: ...
        @property
        def untracked_files(self) -> Sequence[str]: ...


def build(
    kind: str,
    *,
    project: str,
    session_id: str | None,
    tree: WorkingTree | None,
    created: datetime | None = None,
    repository: str | None = None,
    summary: str = "",
    accomplishments: Iterable[str] = (),
    next_steps: Iterable[str] = (),
    notes: str = "",
    commits: Iterable[str] = (),
    files_changed: Iterable[str] = (),
    maintenance_runs: Iterable[dict[str, Any]] = (),
    max_files: int | None = None,
) -> Context:
    """The one way a flow or a hook makes a session's context: what it says of the working
    tree comes from ``tree`` (None outside git: no branch, no files); ``created`` is now unless
    given; ``max_files`` caps each list of the tree's files (a note written without a model)."""
    dirty = list(tree.dirty_files) if tree is not None else []
    untracked = list(tree.untracked_files) if tree is not None else []
    return Context(
        project=project,
        kind=kind,
        created=created or datetime.now(timezone.utc),
        branch=tree.branch if tree is not None else None,
        head=tree.head if tree is not None else None,
        session_id=session_id,
        repository=repository,
        summary=summary,
        accomplishments=list(accomplishments),
        next_steps=list(next_steps),
        notes=notes,
        dirty_files=dirty[:max_files],
        untracked_files=untracked[:max_files],
        stashes=list(getattr(tree, "stashes", ())),
        commits=list(commits),
        files_changed=list(files_changed),
        maintenance_runs=list(maintenance_runs),
    )
