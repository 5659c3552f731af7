"""The project's git repository, through GitPython: its state, commits, pushes, checkouts.

Each operation is one or a few git commands (``repo.git.<cmd>`` with a ``--format`` or
``--porcelain``), never a walk over ``Commit`` objects, so the cost follows the size of the
answer, not the length of the history. Every ``git.Repo`` is closed after use: the MCP server
runs for hours, and GitPython otherwise leaves ``git cat-file`` children behind.

Every command runs with ``gitread.NO_PROGRAMS`` and ``gitread.programs`` (no program from the
repository's config; a write it would need is refused: ``gitmessages.unfiltered``) and
GIT_OPTIONAL_LOCKS=0: two sessions, or a session and the user, run git at once; a read never
takes .git/index.lock, a write that finds it held waits its turn (``gitlocks``), as our own
commits in one working tree do. What git says goes to the person through ``gitmessages``.

Safety rules: refs that start with ``-`` are refused (no option injection), ``--`` goes before
paths, pushes go to the branch's upstream only and are never forced, and URLs are stripped of
credentials before they are stored or shown.

GitPython is imported lazily: importing it fails when no git binary is found, and that must be a
clear ``GitError`` when git is used, not an ``ImportError`` when this package is imported.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from claude_session.base import gitread
from claude_session.base.backend import Resource
from claude_session.core import gitlocks, gitmessages
from claude_session.core.gitmessages import NO_GIT
from claude_session.core.gitstate import (
    BASE_ENV,
    PushOutcome,
    WipRun,
    WorkingState,
    operation_in_progress,
    read_state,
)
from claude_session.errors import GitError, GitRefused

if TYPE_CHECKING:
    import git as gitpython

WIP_PREFIX = "WIP: "
WIP_TRAILER = "claude-session: wip"

# git commit's words (on stdout) when the index holds nothing new.
_NOTHING_TO_COMMIT = re.compile(r"(?m)^(nothing|no changes) (added )?to commit")
# Network commands must fail instead of waiting for a password on a terminal nobody watches.
_NETWORK_ENV = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
# --------------------------------------------------------------------------- opening


def _open_repo(path: Path) -> gitpython.Repo | None:
    """The repository holding ``path`` (None outside git); GitError when git itself is missing."""
    try:
        import git
    except ImportError as exc:
        raise GitError(NO_GIT) from exc
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if repo.working_tree_dir is None:  # bare repository: no working tree to work in
        repo.close()
        return None
    # every command of this repo, GitPython's own cat-file helpers included (G4)
    repo.git.set_persistent_git_options(c=list(gitread.NO_PROGRAMS))
    return repo


def _find(path: Path) -> tuple[Path, Path] | None:
    """(top-level folder, git dir) of the repository holding ``path``, found as the hooks find
    it (``gitread.find_git``: no process, no GitPython); None outside git, for a folder that
    does not exist, or when git is missing (nothing could be done with the repository)."""
    if not os.path.isdir(path) or (gitread.git_program() == "git" and not shutil.which("git")):
        return None  # ("git": in no absolute folder of PATH)
    return gitread.find_git(path, owned_only=False)  # another user's: git says why (advice)


def find_root(path: Path) -> Path | None:
    """The git top-level folder of ``path``; None outside git or when git is missing."""
    found = _find(path)
    return None if found is None else found[0]


def working_state(path: Path) -> WorkingState | None:
    """The working state of the repository holding ``path``; None outside git. Read without
    GitPython: a first MCP tool call (a status) does not wait for it to load (issue 23)."""
    found = _find(path)
    return None if found is None else read_state(*found)


def _refuse_option(value: str, what: str) -> None:
    if not value or value.startswith("-"):
        raise GitRefused(f"Refused {what} '{value}': a name must not be empty or start with '-'.")


# --------------------------------------------------------------------------- Repository


class Repository(Resource):
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
        # no filter program the repository's own config names runs (issue 25, repoprograms)
        programs = gitread.programs(self.root)
        if programs is None:
            repo.close()
            raise GitError(gitmessages.UNREADABLE_CONFIG)
        repo.git.update_environment(**programs.settings(os.environ))
        self._unfiltered = programs.refused  # drivers kept off: no write may go on without

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
                env={**BASE_ENV, **(env or {})},
                kill_after_timeout=timeout,
            )
        except GitCommandNotFound as exc:
            raise GitError(NO_GIT) from exc
        return result

    def _run(self, command: str, *args: str, env: dict[str, str] | None = None) -> str:
        """Run one git command and return its stdout; GitError on a non-zero status."""
        status, out, err = self._exec(command, *args, env=env)
        if status != 0:
            raise gitmessages.command_error(command, args, status, err, self.root)
        return out

    def _exec_write(
        self,
        command: str,
        *args: str,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> tuple[int, str, str]:
        """Run a git command that takes a lock, waiting while another git holds it."""
        return gitlocks.retrying(lambda: self._exec(command, *args, env=env, timeout=timeout))

    def _write(self, command: str, *args: str) -> str:
        """``_run`` for a command that takes a lock: waits up to LOCK_WAIT for one held."""
        status, out, err = self._exec_write(command, *args)
        if status != 0:
            raise gitmessages.command_error(command, args, status, err, self.root)
        return out

    def _lines(self, command: str, *args: str) -> list[str]:
        return [line for line in self._run(command, *args).split("\n") if line]

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

    # ---------------------------------------------------------------- reading

    def state(self) -> WorkingState:
        """Branch, head, changes, stashes, origin and operation in progress."""
        return read_state(self.root, Path(self._repo.git_dir))

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
        return operation_in_progress(Path(self._repo.git_dir))

    # ---------------------------------------------------------------- writing

    def wip_commit(self, message: str) -> str | None:
        """Commit everything git would add as 'WIP: ...' with the wip trailer; None if clean."""
        self._refuse_during_operation("make a WIP commit")
        gitmessages.check_identity(self.root, self._exec)
        subject, body = gitmessages.split_message(message)
        if subject.lower().startswith("wip:"):
            subject = subject[len("wip:") :].strip()
        parts = [WIP_PREFIX + (subject or "work in progress"), body, WIP_TRAILER]
        return self._commit_all("\n\n".join(part for part in parts if part) + "\n")

    def commit(
        self, message: str, *, changed: bool = False, squash: WipRun | None = None
    ) -> str | None:
        """Commit all changes (git add -A) with ``message``; None when there is nothing to.
        ``changed``: the caller's status of this tree showed changes just now, so the check
        for something staged (a git process) is skipped; git still says when nothing was;
        ``squash``: WIP commits (``commits.unpushed_wip``) it replaces, with their work."""
        self._refuse_during_operation("commit")
        gitmessages.check_identity(self.root, self._exec)
        subject, body = gitmessages.split_message(message)
        if not subject:
            raise GitError("A commit needs a message: say what the work did.")
        text = "\n\n".join(part for part in (subject, body) if part) + "\n"
        return self._commit_all(text, changed=changed, squash=squash)

    def _refuse_during_operation(self, what: str) -> None:
        operation = self.operation_in_progress()
        if operation is not None:
            raise GitRefused(
                f"Cannot {what}: a {operation} is in progress in {self.root}. Finish it "
                f"(git {operation} --continue) or abort it (git {operation} --abort) first."
            )

    def _commit_all(
        self, message: str, *, changed: bool = False, squash: WipRun | None = None
    ) -> str | None:
        if self._unfiltered:
            raise gitmessages.unfiltered("commit", self._unfiltered)
        with gitlocks.commit_turn(str(self._repo.git_dir), self.root):
            if squash is None or not squash.shas:
                return self._commit_all_now(message, changed=changed)
            # the branch goes under the WIP commits (their work stays in the index); a refused
            # commit, or one with nothing left to commit, puts them back
            top, base = squash.shas[0], squash.base
            under = ("reset", "--soft", base, "--") if base else ("update-ref", "-d", "HEAD", top)
            self._write(*under)
            sha = None
            try:
                sha = self._commit_all_now(message, changed=True)
            finally:
                if sha is None:
                    self._write("reset", "--soft", top, "--")
            return sha

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
            raise gitmessages.command_error("commit", args, status, err, self.root)
        found = gitread.git_head(self.root)  # the new commit, read from .git (no process)
        return found[2] if found is not None and found[2] else self.head()

    def committed_state(self, before: WorkingState, sha: str) -> WorkingState | None:
        """The working state right after :meth:`commit` made ``sha`` from the tree ``before``
        describes, without asking git again: ``add -A`` staged every change status listed and
        the commit took them all, so the tree is clean at ``sha``. None where that does not
        follow and git must be asked: hooks that run on a commit (they may change files),
        submodules (``add -A`` leaves the changes inside one), a detached HEAD, an operation
        in progress.

        It pays (issue 22): ``bench/bench_history.py``, both ways alternating, 2 CPUs, 1k / 20k /
        100k commits: end 48 / 45 / 49 ms with it, 55 / 53 / 56 ms asking git; goal 50 ms."""
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

    def _staged(self) -> bool:  # no diff program of the repository's config, ever (issue 25)
        return self._exec("diff", "--cached", "--quiet", "--no-ext-diff", "--no-textconv")[0] != 0

    def push(self, timeout: float = 60, *, publish: bool = False) -> PushOutcome:
        """Push the current branch to its upstream (``publish``: a branch without one goes to
        ``origin`` under its own name, ``git push -u``); every outcome is reported, none raised."""
        branch = self.branch()
        if branch is None:
            return PushOutcome("detached", False, "HEAD is detached: check out a branch to push.")
        remotes = self._lines("remote")
        if not remotes:
            return PushOutcome("no_remote", False, "No remote is configured: nothing was pushed.")
        remote = self._config(f"branch.{branch}.remote")
        merge = self._config(f"branch.{branch}.merge")
        options: tuple[str, ...] = ()
        if publish and (remote is None or merge is None or remote == ".") and "origin" in remotes:
            remote, merge, options = "origin", f"refs/heads/{branch}", ("--set-upstream",)
        if remote is None or merge is None or remote == ".":
            return PushOutcome(
                "no_upstream",
                False,
                f"Branch '{branch}' has no upstream: nothing was pushed. "
                f"Run: git push -u origin {branch}",
            )
        if self.head() is None:
            return PushOutcome("up_to_date", False, f"Branch '{branch}' has no commits to push.")
        for value, what in ((remote, "remote"), (merge, "upstream branch")):
            if not value or value.startswith("-"):
                # git would read it as an option (``--receive-pack=...`` runs a program):
                # refused, and said as a push that failed, after the commit (redteam G2)
                return PushOutcome(
                    "failed",
                    False,
                    f"Nothing was pushed: the {what} of branch '{branch}' in .git/config is "
                    f"{value!r}, which git would read as an option. Fix it with "
                    f"`git branch --set-upstream-to=origin/{branch}`.",
                )
        return self._push_to(branch, remote, merge, timeout, *options)

    def _push_to(
        self, branch: str, remote: str, merge: str, timeout: float, *options: str
    ) -> PushOutcome:
        # An explicit refspec pushes this branch only, whatever push.default says.
        status, out, err = self._exec_write(
            "push",
            "--porcelain",
            *options,
            remote,
            f"refs/heads/{branch}:{merge}",
            env=_NETWORK_ENV,
            timeout=timeout,
        )
        upstream = f"{gitmessages.redact_urls(remote)}/{merge.removeprefix('refs/heads/')}"
        refs = [line.split("\t") for line in out.split("\n") if line.count("\t") >= 2]
        rejected = [ref for ref in refs if ref[0] == "!"]
        if rejected:
            return PushOutcome(
                "rejected", False, gitmessages.rejection_detail(upstream, rejected[0][2], err)
            )
        if status != 0:
            return PushOutcome(
                "failed", False, gitmessages.push_failure_detail(upstream, err, timeout)
            )
        if all(ref[0] == "=" for ref in refs):
            return PushOutcome("up_to_date", True, f"'{upstream}' already has every commit.")
        return PushOutcome("pushed", True, f"Pushed '{branch}' to '{upstream}'.")

    def checkout(self, branch: str) -> None:
        """Switch to ``branch`` (made from origin/<branch> if only there); uncommitted changes
        come along where git carries them, and git refuses where it would overwrite them."""
        self._check_branch_name(branch)
        if self.branch() == branch:
            return
        self._refuse_during_operation(f"switch to '{branch}'")
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
        if self._unfiltered:
            raise gitmessages.unfiltered("switch", self._unfiltered)
        try:
            self._write(*args)
        except GitError as exc:
            if "would be overwritten" in exc.stderr:
                raise GitRefused(
                    f"Cannot switch: {gitmessages.last_lines(exc.stderr)} Nothing was changed; "
                    "commit or stash those changes (git stash -u), then switch again."
                ) from exc
            raise
