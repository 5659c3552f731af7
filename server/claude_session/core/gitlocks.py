"""Taking turns with other gits: a write that finds a lock held waits and runs again, and our
own commits in one working tree take turns.

Two sessions in one repository, or a session and the user, run git at the same time. A write
that finds a lock held (git refuses: "Unable to create '....lock': File exists") waits and runs
again, for ``LOCK_WAIT`` seconds in all; a lock still there after that (a crashed git leaves
one) is reported with advice and never removed (no process id in it says whose it is).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from claude_session.base import locking
from claude_session.errors import GitError

#: seconds a git write waits in all for a lock another git holds (.git/index.lock, a ref's
#: .lock) before the failure is reported
LOCK_WAIT = 5.0
_RETRY_FIRST = 0.02  # seconds before the first retry; doubled each time up to the next
_RETRY_MAX = 0.25
#: seconds a commit waits for its turn behind another claude-session process committing in the
#: same working tree (that process is alive: the turn is an flock, gone with its process; but a
#: commit hook may run for long)
COMMIT_TURN_WAIT = 60.0
#: git's words (LC_ALL=C: GitPython sets it) when it could not take a lock because the file
#: exists
LOCK_HELD = re.compile(r"Unable to create '[^'\n]*\.lock': File exists")
# ... and when a write is worth running again: the lock held, a ref moved between reading and
# locking it (a commit racing another commit), a message emptied by another git commit
# rewriting .git/COMMIT_EDITMSG (ours are never empty)
_RETRY = re.compile(
    LOCK_HELD.pattern
    + r"|cannot lock ref '[^'\n]*': is at|Aborting commit due to empty commit message"
)

Result = tuple[int, str, str]


def retrying(run: Callable[[], Result]) -> Result:
    """Run a git command that takes a lock; while another git holds it, wait and run again.

    The lock is not looked at beforehand (that would race): git's own refusal is the signal,
    and git takes a lock before it changes anything, so running the command again is safe.
    """
    deadline = time.monotonic() + LOCK_WAIT
    delay = _RETRY_FIRST
    while True:
        status, out, err = run()
        remaining = deadline - time.monotonic()
        if status == 0 or remaining <= 0 or not _RETRY.search(err):
            return status, out, err
        # jitter: sessions that collided once must not retry in step
        time.sleep(min(delay * random.uniform(0.5, 1.5), remaining))
        delay = min(delay * 2, _RETRY_MAX)


@contextlib.contextmanager
def commit_turn(git_dir: str, root: Path) -> Iterator[None]:
    """One commit at a time in this working tree among claude-session processes.

    git commit writes the message to .git/COMMIT_EDITMSG and reads it back with no lock held,
    so two commits at once can empty or swap each other's message. The turn is an flock on the
    git folder itself: no file is made, and a process that dies lets go. Where flock is not
    offered (some network file systems), git's own locks remain.
    """
    try:
        fd = os.open(git_dir, os.O_RDONLY)
    except OSError:
        fd = None
    try:
        if fd is not None and not _flock(fd, COMMIT_TURN_WAIT):
            raise GitError(
                f"Another claude-session process has been committing in {root} for more than "
                f"{COMMIT_TURN_WAIT:g} s (a slow commit hook?). Try again when it is done; "
                "nothing was changed."
            )
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing lets go of the flock


def _flock(fd: int, wait: float) -> bool:
    """Take an exclusive flock on ``fd`` within ``wait`` seconds; True also where the file
    system offers no flock (nothing to wait for), False when another holder kept it."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if locking.try_lock(fd):
                return True
        except OSError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
