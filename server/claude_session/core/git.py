"""Everything git, through GitPython.

Each operation is one or a few git commands (``repo.git.<cmd>`` with a ``--format`` or
``--porcelain``), never a walk over ``Commit`` objects, so the cost follows the size of the
answer, not the length of the history. Every ``git.Repo`` is closed after use: the MCP server
runs for hours, and GitPython otherwise leaves ``git cat-file`` children behind.

Two sessions in one repository, or a session and the user, run git at the same time. Every
command runs with GIT_OPTIONAL_LOCKS=0, so a read never takes .git/index.lock. A write that
finds a lock held (git refuses: "Unable to create '....lock': File exists") waits and runs
again, for LOCK_WAIT seconds in all; a lock still there after that (a crashed git leaves one)
is reported with advice and never removed. Our own commits in one working tree take turns
(``_commit_turn``).

Safety rules: refs that start with ``-`` are refused (no option injection), ``--`` goes before
paths, pushes go to the branch's upstream only and are never forced, and URLs are stripped of
credentials before they are stored or shown.

GitPython is imported lazily: importing it fails when no git binary is found, and that must be a
clear ``GitError`` when git is used, not an ``ImportError`` when this package is imported.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from claude_session.base import gitread, locking
from claude_session.errors import GitError, GitRefused
from claude_session.paths import real_path

if TYPE_CHECKING:
    import git as gitpython

WIP_PREFIX = "WIP: "
WIP_TRAILER = "claude-session: wip"

_NO_GIT = (
    "git was not found. Install git (https://git-scm.com) or set GIT_PYTHON_GIT_EXECUTABLE "
    "to the full path of the git program."
)
# Seconds a git write waits in all for a lock another git holds (.git/index.lock, a ref's
# .lock) before the failure is reported: two sessions in one repository pause or end at the same
# moment, or the user runs git meanwhile. A lock left by a crashed git outlives the wait and is
# reported with advice; it is never removed here (no process id in it says whose it is).
LOCK_WAIT = 5.0
_LOCK_RETRY_FIRST = 0.02  # seconds before the first retry; doubled each time up to the next
_LOCK_RETRY_MAX = 0.25
# Seconds a commit waits for its turn behind another claude-session process committing in the
# same working tree (see Repository._commit_turn). That process is alive (the turn is an flock,
# gone with its process), but a commit hook may run for long.
COMMIT_TURN_WAIT = 60.0
# git's words (LC_ALL=C: GitPython sets it) when it could not take a lock because the file
# exists, and when a write is worth running again: the lock held, a ref moved between reading
# and locking it (a commit racing another commit), a message emptied by another git commit
# rewriting .git/COMMIT_EDITMSG (ours are never empty).
_LOCK_HELD = re.compile(r"Unable to create '[^'\n]*\.lock': File exists")
_RETRY = re.compile(
    _LOCK_HELD.pattern
    + r"|cannot lock ref '[^'\n]*': is at|Aborting commit due to empty commit message"
)
# git commit's words (on stdout) when the index holds nothing new.
_NOTHING_TO_COMMIT = re.compile(r"(?m)^(nothing|no changes) (added )?to commit")
# Every command we run, reads and writes alike, skips git's optional locks (status refreshing
# the index): we must never be why the user's own git command finds index.lock taken.
_BASE_ENV = {"GIT_OPTIONAL_LOCKS": "0"}
# Network commands must fail instead of waiting for a password on a terminal nobody watches.
_NETWORK_ENV = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
# (marker file or folder in the git dir, operation name), checked in this order.
_OPERATION_MARKERS: tuple[tuple[str, str], ...] = (
    ("rebase-merge", "rebase"),
    ("rebase-apply/applying", "am"),
    ("rebase-apply", "rebase"),
    ("MERGE_HEAD", "merge"),
    ("CHERRY_PICK_HEAD", "cherry-pick"),
    ("REVERT_HEAD", "revert"),
    ("BISECT_LOG", "bisect"),
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
_MAX_DETAIL = 800


# --------------------------------------------------------------------------- URLs


def _redact(text: str) -> str:
    """Remove user:password@ from every URL in a message."""
    return _URL_USERINFO.sub(r"\1", text)


# --------------------------------------------------------------------------- records


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
class _Status:
    """``git status --porcelain=v2 --branch`` parsed."""

    branch: str | None
    head: str | None
    detached: bool
    dirty: list[str]
    untracked: list[str]


def _parse_status(out: str) -> _Status:
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
    return _Status(None if detached else branch, head, detached, dirty, untracked)


# --------------------------------------------------------------------------- opening


def _open_repo(path: Path) -> gitpython.Repo | None:
    """The repository holding ``path`` (None outside git); GitError when git itself is missing."""
    try:
        import git
    except ImportError as exc:
        raise GitError(_NO_GIT) from exc
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if repo.working_tree_dir is None:  # bare repository: no working tree to work in
        repo.close()
        return None
    return repo


def find_root(path: Path) -> Path | None:
    """The git top-level folder of ``path``; None outside git or when git is missing."""
    try:
        repo = _open_repo(path)
    except GitError:
        return None
    if repo is None:
        return None
    with repo:
        return Path(real_path(str(repo.working_tree_dir)))


def working_state(path: Path) -> WorkingState | None:
    """The working state of the repository holding ``path``; None outside git."""
    if find_root(path) is None:
        return None
    with Repository(path) as repo:
        return repo.state()


def _refuse_option(value: str, what: str) -> None:
    if not value or value.startswith("-"):
        raise GitRefused(f"Refused {what} '{value}': a name must not be empty or start with '-'.")


# --------------------------------------------------------------------------- Repository


class Repository:
    """One git working tree; use it as a context manager so the git.Repo is closed."""

    def __init__(self, path: Path) -> None:
        repo = _open_repo(path)
        if repo is None:
            raise GitError(
                f"{path} is not inside a git repository (with a working tree). "
                "Run this in the project's folder, or run git init there first."
            )
        self._repo = repo
        self.root = Path(str(repo.working_tree_dir)).resolve()
        self.name = self.root.name

    def __enter__(self) -> Repository:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop GitPython's helper processes."""
        self._repo.close()

    # ---------------------------------------------------------------- running git

    def _exec(
        self,
        command: str,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, str, str]:
        """Run one git command; (status, stdout, stderr), never raising for a non-zero status."""
        from git.exc import GitCommandNotFound  # GitPython is loaded: a Repository exists

        runner = getattr(self._repo.git, command.replace("-", "_"))
        try:
            result: tuple[int, str, str] = runner(
                *args,
                with_extended_output=True,
                with_exceptions=False,
                strip_newline_in_stdout=False,
                env={**_BASE_ENV, **(env or {})},
                kill_after_timeout=timeout,
            )
        except GitCommandNotFound as exc:
            raise GitError(_NO_GIT) from exc
        return result

    def _run(self, command: str, *args: str, env: dict[str, str] | None = None) -> str:
        """Run one git command and return its stdout; GitError on a non-zero status."""
        status, out, err = self._exec(command, *args, env=env)
        if status != 0:
            raise _command_error(command, args, status, err, self.root)
        return out

    def _exec_write(
        self,
        command: str,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, str, str]:
        """Run a git command that takes a lock; while another git holds it, wait and run again.

        The lock is not looked at beforehand (that would race): git's own refusal is the signal,
        and git takes a lock before it changes anything, so running the command again is safe.
        """
        deadline = time.monotonic() + LOCK_WAIT
        delay = _LOCK_RETRY_FIRST
        while True:
            status, out, err = self._exec(command, *args, env=env, timeout=timeout)
            remaining = deadline - time.monotonic()
            if status == 0 or remaining <= 0 or not _RETRY.search(err):
                return status, out, err
            # jitter: sessions that collided once must not retry in step
            time.sleep(min(delay * random.uniform(0.5, 1.5), remaining))
            delay = min(delay * 2, _LOCK_RETRY_MAX)

    def _write(self, command: str, *args: str) -> str:
        """``_run`` for a command that takes a lock: waits up to LOCK_WAIT for one held."""
        status, out, err = self._exec_write(command, *args)
        if status != 0:
            raise _command_error(command, args, status, err, self.root)
        return out

    def _lines(self, command: str, *args: str) -> list[str]:
        return [line for line in self._run(command, *args).split("\n") if line]

    def _zero_separated(self, command: str, *args: str) -> list[str]:
        return [item for item in self._run(command, *args).split("\0") if item]

    def _config(self, key: str) -> str | None:
        status, out, _ = self._exec("config", "--get", key)
        return (out.strip() or None) if status == 0 else None

    def _resolve_commit(self, rev: str) -> str | None:
        """The full sha of ``rev``; None when it names no commit here."""
        _refuse_option(rev, "revision")
        status, out, _ = self._exec("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        return out.strip() if status == 0 else None

    def _ref_exists(self, ref: str) -> bool:
        return self._exec("rev-parse", "--verify", "--quiet", ref)[0] == 0

    def _status(self, untracked: str = "normal") -> _Status:
        # -z: paths come raw (no quoting of unusual names); 'normal' reports an untracked
        # folder once instead of listing every file in it; --no-ahead-behind: counting the
        # divergence from the upstream costs time in proportion to it.
        return _parse_status(
            self._run(
                "status",
                "--porcelain=v2",
                "--branch",
                "--no-ahead-behind",
                "-z",
                f"--untracked-files={untracked}",
            )
        )

    # ---------------------------------------------------------------- reading

    def state(self) -> WorkingState:
        """Branch, head, changes, stashes, origin and operation in progress."""
        status = self._status()
        return WorkingState(
            root=str(self.root),
            branch=status.branch,
            head=status.head,
            detached=status.detached,
            empty=status.head is None,
            dirty_files=status.dirty,
            untracked_files=status.untracked,
            stashes=self._stashes(),
            origin_url=self.origin_url(),
            operation=self.operation_in_progress(),
        )

    def _stashes(self) -> list[str]:
        # The stash list is the reflog of refs/stash: without that file there is nothing to
        # list, and the common case costs no git process.
        if not (Path(self._repo.common_dir) / "logs" / "refs" / "stash").exists():
            return []
        return self._lines("stash", "list")

    def branch(self) -> str | None:
        """The current branch (the unborn one in an empty repo); None when HEAD is detached."""
        status, out, _ = self._exec("symbolic-ref", "--quiet", "--short", "HEAD")
        return (out.strip() or None) if status == 0 else None

    def head(self) -> str | None:
        """The sha of HEAD; None in an empty repository."""
        return self._resolve_commit("HEAD")

    def origin_url(self) -> str | None:
        """The URL of ``origin`` with credentials stripped; None without one."""
        return gitread.origin_url(self.root)

    def operation_in_progress(self) -> str | None:
        """merge, rebase, am, cherry-pick, revert or bisect when one is under way, else None."""
        git_dir = Path(self._repo.git_dir)
        for marker, operation in _OPERATION_MARKERS:
            if (git_dir / marker).exists():
                return operation
        return None

    def commits_since(self, sha: str | None, limit: int | None = None) -> list[tuple[str, str]]:
        """(sha, subject) of the commits in sha..HEAD, newest first; [] for None or unknown sha."""
        start = self._resolve_commit(sha) if sha else None
        if start is None or self.head() is None:
            return []
        args = ["--no-show-signature", "--format=%H%x1f%s"]
        if limit is not None:
            args.append(f"--max-count={limit}")
        lines = self._lines("log", *args, f"{start}..HEAD", "--")
        return [(line.partition("\x1f")[0], line.partition("\x1f")[2]) for line in lines]

    def files_changed_since(self, sha: str | None) -> list[str]:
        """Paths changed by the commits between ``sha`` and HEAD; [] for None or unknown sha."""
        start = self._resolve_commit(sha) if sha else None
        if start is None or self.head() is None:
            return []
        # --no-renames lists both sides of a rename and skips rename detection (speed).
        return self._zero_separated(
            "diff", "--name-only", "-z", "--no-renames", start, "HEAD", "--"
        )

    def ahead_behind(self) -> tuple[int, int] | None:
        """(ahead, behind) of the upstream; None without one (or when it is gone)."""
        status, out, _ = self._exec("rev-list", "--left-right", "--count", "HEAD...@{upstream}")
        if status != 0:
            return None
        ahead, behind = out.split()
        return int(ahead), int(behind)

    # ---------------------------------------------------------------- writing

    def wip_commit(self, message: str) -> str | None:
        """Commit everything git would add as 'WIP: ...' with the wip trailer; None if clean."""
        self._refuse_during_operation("make a WIP commit")
        subject, body = _split_message(message)
        if subject.lower().startswith("wip:"):
            subject = subject[len("wip:") :].strip()
        parts = [WIP_PREFIX + (subject or "work in progress"), body, WIP_TRAILER]
        return self._commit_all("\n\n".join(part for part in parts if part) + "\n")

    def commit(self, message: str, *, changed: bool = False) -> str | None:
        """Commit all changes (git add -A) with ``message``; None when there is nothing to.
        ``changed``: the caller's status of this tree showed changes just now, so the check
        for something staged (a git process) is skipped; git still says when nothing was."""
        self._refuse_during_operation("commit")
        subject, body = _split_message(message)
        if not subject:
            raise GitError("A commit needs a message: say what the work did.")
        text = "\n\n".join(part for part in (subject, body) if part) + "\n"
        return self._commit_all(text, changed=changed)

    def _refuse_during_operation(self, what: str) -> None:
        operation = self.operation_in_progress()
        if operation is not None:
            raise GitRefused(
                f"Cannot {what}: a {operation} is in progress in {self.root}. Finish it "
                f"(git {operation} --continue) or abort it (git {operation} --abort) first."
            )

    @contextlib.contextmanager
    def _commit_turn(self) -> Iterator[None]:
        """One commit at a time in this working tree among claude-session processes.

        git commit writes the message to .git/COMMIT_EDITMSG and reads it back with no lock
        held, so two commits at once can empty or swap each other's message. The turn is an
        flock on the git folder itself: no file is made, and a process that dies lets go.
        Where flock is not offered (some network file systems), git's own locks remain.
        """
        try:
            fd = os.open(self._repo.git_dir, os.O_RDONLY)
        except OSError:
            fd = None
        try:
            if fd is not None and not _flock(fd, COMMIT_TURN_WAIT):
                raise GitError(
                    f"Another claude-session process has been committing in {self.root} for "
                    f"more than {COMMIT_TURN_WAIT:g} s (a slow commit hook?). Try again when it "
                    "is done; nothing was changed."
                )
            yield
        finally:
            if fd is not None:
                os.close(fd)  # closing lets go of the flock

    def _commit_all(self, message: str, *, changed: bool = False) -> str | None:
        with self._commit_turn():
            return self._commit_all_now(message, changed=changed)

    def _commit_all_now(self, message: str, *, changed: bool = False) -> str | None:
        self._write("add", "-A")  # -A follows .gitignore: ignored files are never staged
        # status listed changes: after add -A they are staged (status shows no ignored file);
        # otherwise ask, so that the user's commit hooks never run for nothing
        if not changed and not self._staged():
            return None
        # No --no-verify: the user's hooks run; their stderr reaches the user via GitError.
        # --cleanup=whitespace keeps lines that start with '#'.
        args = ("--quiet", "--cleanup=whitespace", "-m", message)
        status, out, err = self._exec_write("commit", *args)
        if status != 0:
            if _NOTHING_TO_COMMIT.search(out):
                # Another git in this working tree (a second session pausing or ending at the
                # same moment) committed the shared index, with what we staged, in between.
                return None
            raise _command_error("commit", args, status, err, self.root)
        found = gitread.git_head(self.root)  # the new commit, read from .git (no process)
        return found[2] if found is not None and found[2] else self.head()

    def committed_state(self, before: WorkingState, sha: str) -> WorkingState | None:
        """The working state right after :meth:`commit` made ``sha`` from the tree ``before``
        describes, without asking git again: ``add -A`` staged every change status listed and
        the commit took them all, so the tree is clean at ``sha``. None where that does not
        follow and git must be asked: hooks that run on a commit (they may change files),
        submodules (``add -A`` leaves the changes inside one), a detached HEAD, an operation
        in progress."""
        if (
            before.detached
            or before.operation is not None
            or (self.root / ".gitmodules").exists()
            or self._may_run_hooks()
        ):
            return None
        return replace(before, head=sha, empty=False, dirty_files=[], untracked_files=[])

    def _may_run_hooks(self) -> bool:
        """Whether a commit here may run a hook: ``core.hooksPath`` is set (git says, from
        wherever its configuration comes), or the hooks folder holds anything but git's own
        samples."""
        values = gitread.config_values(self.root)
        if values is None or values.get("core.hookspath"):
            return True
        try:
            hooks = os.scandir(Path(self._repo.common_dir) / "hooks")
        except FileNotFoundError:
            return False
        except OSError:
            return True  # unsure: ask git for the state
        with hooks:
            return any(not entry.name.endswith(".sample") for entry in hooks)

    def _staged(self) -> bool:
        return self._exec("diff", "--cached", "--quiet")[0] != 0

    def push(self, timeout: float = 60) -> PushOutcome:
        """Push the current branch to its upstream; every outcome is reported, none raised."""
        branch = self.branch()
        if branch is None:
            return PushOutcome("detached", False, "HEAD is detached: check out a branch to push.")
        if not self._lines("remote"):
            return PushOutcome("no_remote", False, "No remote is configured: nothing was pushed.")
        remote = self._config(f"branch.{branch}.remote")
        merge = self._config(f"branch.{branch}.merge")
        if remote is None or merge is None or remote == ".":
            return PushOutcome(
                "no_upstream",
                False,
                f"Branch '{branch}' has no upstream: nothing was pushed. "
                f"Run: git push -u origin {branch}",
            )
        if self.head() is None:
            return PushOutcome("up_to_date", False, f"Branch '{branch}' has no commits to push.")
        _refuse_option(remote, "remote")
        _refuse_option(merge, "upstream branch")
        return self._push_to(branch, remote, merge, timeout)

    def _push_to(self, branch: str, remote: str, merge: str, timeout: float) -> PushOutcome:
        # An explicit refspec pushes this branch only, whatever push.default says.
        status, out, err = self._exec_write(
            "push",
            "--porcelain",
            remote,
            f"refs/heads/{branch}:{merge}",
            env=_NETWORK_ENV,
            timeout=timeout,
        )
        upstream = f"{_redact(remote)}/{merge.removeprefix('refs/heads/')}"
        refs = [line.split("\t") for line in out.split("\n") if line.count("\t") >= 2]
        rejected = [ref for ref in refs if ref[0] == "!"]
        if rejected:
            return PushOutcome("rejected", False, _rejection_detail(upstream, rejected[0][2]))
        if status != 0:
            return PushOutcome("failed", False, _push_failure_detail(upstream, err, timeout))
        if all(ref[0] == "=" for ref in refs):
            return PushOutcome("up_to_date", True, f"'{upstream}' already has every commit.")
        return PushOutcome("pushed", True, f"Pushed '{branch}' to '{upstream}'.")

    def checkout(self, branch: str) -> None:
        """Switch to ``branch`` (made from origin/<branch> if only there); never loses work."""
        self._check_branch_name(branch)
        if self.branch() == branch:
            return
        self._refuse_during_operation(f"switch to '{branch}'")
        changed = self._status(untracked="no").dirty
        if changed:
            raise GitRefused(
                f"Cannot switch to '{branch}': uncommitted changes in {_listing(changed)}. "
                "Commit or stash them first; nothing was changed."
            )
        if self._ref_exists(f"refs/heads/{branch}"):
            self._switch("checkout", "--quiet", branch, "--")
        elif self._remote_branch_exists(branch):
            self._switch("checkout", "--quiet", "-b", branch, "--track", f"origin/{branch}", "--")
        else:
            raise GitError(
                f"Branch '{branch}' no longer exists, neither here nor on origin. "
                "Choose 'stay' to keep the current branch, or recreate the branch."
            )

    def branch_here(self, name: str) -> None:
        """Make branch ``name`` at HEAD and switch to it; the working tree stays as it is."""
        self._check_branch_name(name)
        if self._ref_exists(f"refs/heads/{name}"):
            raise GitRefused(f"Branch '{name}' exists already; nothing was changed.")
        self._switch("checkout", "--quiet", "-b", name)

    def checkout_commit(self, sha: str) -> None:
        """Detach HEAD at ``sha`` (a pause made on a detached HEAD); never loses work."""
        commit = self._resolve_commit(sha)
        if commit is None:
            raise GitError(
                f"The paused commit {sha[:10]} is not in this repository any more. "
                "Choose 'stay' to keep the current checkout."
            )
        if self.head() == commit and self.branch() is None:
            return
        self._refuse_during_operation(f"check out {commit[:10]}")
        changed = self._status(untracked="no").dirty
        if changed:
            raise GitRefused(
                f"Cannot check out {commit[:10]}: uncommitted changes in {_listing(changed)}. "
                "Commit or stash them first; nothing was changed."
            )
        self._switch("checkout", "--quiet", "--detach", commit)

    def _check_branch_name(self, branch: str) -> None:
        _refuse_option(branch, "branch name")
        if self._exec("check-ref-format", "--branch", branch)[0] != 0:
            raise GitRefused(f"'{branch}' is not a valid branch name.")

    def _remote_branch_exists(self, branch: str) -> bool:
        """Whether origin has ``branch``, fetching just that branch when it is not known yet."""
        if self._ref_exists(f"refs/remotes/origin/{branch}"):
            return True
        if self._config("remote.origin.url") is None:
            return False
        # The branch may have been pushed from another machine since the last fetch.
        status, _, _ = self._exec_write(
            "fetch",
            "--quiet",
            "--no-tags",
            "origin",
            f"refs/heads/{branch}:refs/remotes/origin/{branch}",
            env=_NETWORK_ENV,
            timeout=30,
        )
        return status == 0

    def _switch(self, *args: str) -> None:
        try:
            self._write(*args)
        except GitError as exc:
            if "would be overwritten" in exc.stderr:
                raise GitRefused(
                    f"Cannot switch branches: {_last_lines(exc.stderr)} "
                    "Move or commit those files first; nothing was changed."
                ) from exc
            raise


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


# --------------------------------------------------------------------------- messages


def _split_message(message: str) -> tuple[str, str]:
    subject, _, body = message.strip().partition("\n")
    return subject.strip(), body.strip()


def _listing(paths: list[str], shown: int = 10) -> str:
    names = ", ".join(paths[:shown])
    more = len(paths) - shown
    return names + (f" and {more} more" if more > 0 else "")


def _last_lines(text: str, count: int = 10) -> str:
    """The end of a command's stderr (where git and hooks put the reason), credentials removed."""
    # git's "hint:" lines are advice for a terminal user; our caller gives its own.
    lines = [
        line.strip()
        for line in _redact(text).splitlines()
        if line.strip() and not line.startswith("hint:")
    ]
    joined = " ".join(lines[-count:])
    return joined[-_MAX_DETAIL:]


def _command_error(
    command: str, args: tuple[str, ...], status: int, stderr: str, root: Path
) -> GitError:
    reason = _last_lines(stderr) or f"exit status {status}"
    if "dubious ownership" in stderr:
        advice = f"Trust the folder with: git config --global --add safe.directory {root}"
    elif "Please tell me who you are" in stderr:
        advice = "Set your identity: git config --global user.name/user.email."
    elif "index.lock" in stderr:
        advice = (
            f"The lock was still there after waiting {LOCK_WAIT:g} s. Another git command is "
            "running here; wait for it (or remove .git/index.lock)."
        )
    elif _LOCK_HELD.search(stderr):
        advice = (
            f"The lock was still there after waiting {LOCK_WAIT:g} s. Another git command is "
            "running here; wait for it (or, if none is, remove the .lock file named above)."
        )
    elif command == "commit":
        advice = "A commit hook may have stopped it: fix what it reports; the changes are staged."
    else:
        advice = "Fix the cause above and try again."
    shown = _redact(" ".join(["git", command, *args]))[:200]
    return GitError(
        f"git {command} failed: {reason} {advice}",
        command=shown,
        status=status,
        stderr=_redact(stderr),
    )


def _rejection_detail(upstream: str, summary: str) -> str:
    if "fetch first" in summary or "non-fast-forward" in summary:
        return (
            f"Push rejected: '{upstream}' has commits this branch does not have; nothing was "
            "forced. Run git pull --rebase, then push again."
        )
    return f"Push rejected by the remote ({_redact(summary)}); nothing was forced."


def _push_failure_detail(upstream: str, stderr: str, timeout: float) -> str:
    if "did not complete in" in stderr or "timed out" in stderr:
        return (
            f"Push to '{upstream}' did not finish within {timeout:g} s. Check the network and "
            "your credentials, then run git push."
        )
    reason = _last_lines(stderr, count=5) or "no reason given"
    return (
        f"Push to '{upstream}' failed: {reason} Check the remote URL, the network and your "
        "credentials, then run git push."
    )
