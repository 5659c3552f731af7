"""What git reads back: a working tree's state, and a push's outcome (``git status`` itself is
parsed by ``base.gitread.parse_status``, for the hooks and the core alike).

The state is read with plain git processes, not GitPython (which ``core.repository`` loads for
writes): a first MCP tool call, a status, does not wait for it to load (issue 23)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from claude_session.base import gitread
from claude_session.core import gitmessages
from claude_session.core.gitmessages import NO_GIT
from claude_session.errors import GitError

# Every command we run, reads and writes alike, skips git's optional locks (status refreshing
# the index): we must never be why the user's own git command finds index.lock taken.
BASE_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_PAGER": "cat"}
# ``gitread.NO_PROGRAMS`` as options, as GitPython puts them before every command of a repo
_SETTINGS = tuple(word for setting in gitread.NO_PROGRAMS for word in ("-c", setting))

#: an operation in progress: (marker file or folder in the git dir, its name), in this order
OPERATION_MARKERS: tuple[tuple[str, str], ...] = (
    ("rebase-merge", "rebase"),
    ("rebase-apply/applying", "am"),
    ("rebase-apply", "rebase"),
    ("MERGE_HEAD", "merge"),
    ("CHERRY_PICK_HEAD", "cherry-pick"),
    ("REVERT_HEAD", "revert"),
    ("BISECT_LOG", "bisect"),
)


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


def read_state(root: Path, git_dir: Path) -> WorkingState:
    """Branch, head, changes, stashes, origin and operation in progress of the working tree
    ``root`` (git dir ``git_dir``): one ``git status`` (two with stashes) and a few file reads."""
    env = _read_env(root)
    status = gitread.parse_status(_read(root, env, *gitread.STATUS_ARGS).split("\0"))
    stashes: list[str] = []
    # The stash list is the reflog of refs/stash: without that file there is nothing to list,
    # and the common case costs no git process.
    if (gitread.common_dir(git_dir) / "logs" / "refs" / "stash").exists():
        stashes = [line for line in _read(root, env, "stash", "list").split("\n") if line]
    return WorkingState(
        root=str(root),
        branch=status.branch,
        head=status.head,
        detached=status.detached,
        empty=status.head is None,
        dirty_files=list(status.dirty_files),
        untracked_files=list(status.untracked_files),
        stashes=stashes,
        origin_url=gitread.origin_url(root),
        operation=operation_in_progress(git_dir),
    )


def operation_in_progress(git_dir: Path) -> str | None:
    """merge, rebase, am, cherry-pick, revert or bisect when one is under way, else None."""
    for marker, operation in OPERATION_MARKERS:
        if (git_dir / marker).exists():
            return operation
    return None


def _read_env(root: Path) -> dict[str, str]:
    """The environment of a read in ``root``: no optional locks, git's words in English (as
    GitPython has them), and no filter program the repository's own config names (issue 25,
    ``gitread.programs``); GitError when git cannot tell which those are."""
    programs = gitread.programs(root)
    if programs is None:
        raise GitError(gitmessages.UNREADABLE_CONFIG)
    env = {**os.environ, **BASE_ENV, "LANGUAGE": "C", "LC_ALL": "C"}
    env.update(programs.settings(env))
    return env


def _read(root: Path, env: dict[str, str], command: str, *args: str) -> str:
    """A read-only git command in ``root`` with our settings and ``env`` (``_read_env``); its
    stdout, or GitError with what git said."""
    import subprocess

    try:
        done = subprocess.run(
            [gitread.git_program(), *_SETTINGS, command, *args],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError(NO_GIT) from exc
    except OSError as exc:
        raise GitError(f"git could not be run in {root}: {exc}") from exc
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace")
        raise gitmessages.command_error(command, args, done.returncode, stderr, root)
    return done.stdout.decode("utf-8", "surrogateescape")
