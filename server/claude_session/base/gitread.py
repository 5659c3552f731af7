"""Reading git, shared by the hooks and the core. Standard library only.

Everything here treats the repository as untrusted input, because claude-session runs in every
folder its user opens, including ones just cloned from strangers:

- a repository owned by another user is not read (as git's ``safe.directory`` rule: git itself
  is asked, and says no unless the user allowed that folder);
- ``HEAD`` and refs are read with bounded reads, resolve only to files inside the git directory
  (real paths, no symlinks), and only a well-formed ref name or object id ever comes back, so no
  other file's content can reach a ledger entry or Claude's context;
- no name from the repository reaches git as an option: object ids are checked to be hex before
  they are passed, and ``--`` goes before paths;
- reads never take ``.git/index.lock`` (``--no-optional-locks``) and never run the repository's
  ``core.fsmonitor`` program.

``session_commits`` and ``session_files`` are the one definition of "what this session
committed": ``/end`` and the hooks' finalization of sessions that ended without it both use them.
"""

from __future__ import annotations

import os
import re
import stat
from collections import namedtuple
from pathlib import Path

from claude_session.base import packedrefs, repoprograms
from claude_session.base.remoteurl import normalize_remote as normalize_remote
from claude_session.base.remoteurl import strip_credentials as strip_credentials
from claude_session.paths import real_path

_MAX_REF_BYTES = 4096
_MAX_WALK_UP = 64
_OID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
# git check-ref-format's rules, for the names we follow (refs/...) and report (branches)
_BAD_REF = re.compile(r"(?:\.\.|//|@\{|[\x00-\x20\x7f~^:?*\[\\]|/\.|\.lock(?:/|$)|/$|\.$)")
_READ_ONLY = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
#: settings for every git command claude-session runs (here and in ``core.repository``): the
#: ones that make git run a program the repository's config names where a read needs none.
#: No fsmonitor program (``git status`` would run it), no signature checker (``log`` with
#: ``log.showSignature`` runs gpg), no pager. The repository's filter programs are kept off by
#: ``repoprograms``, diff programs by ``--no-ext-diff --no-textconv`` on each diff. Hooks and
#: credential helpers are not: commits and pushes are the user's own, with their hooks.
NO_PROGRAMS = ("core.fsmonitor=false", "log.showSignature=false", "core.pager=cat")
# never take index.lock; none of the programs above
_READ_FLAGS = ("--no-optional-locks", *(f for pair in NO_PROGRAMS for f in ("-c", pair)))


# --------------------------------------------------------------------------- names


def is_oid(value: object) -> bool:
    """True for a full hex object id (sha-1 or sha-256)."""
    return isinstance(value, str) and _OID.fullmatch(value) is not None


def is_ref_name(value: object) -> bool:
    """True for a well-formed ``refs/...`` name that cannot be read as an option."""
    return (
        isinstance(value, str)
        and value.startswith("refs/")
        and len(value) < 1024
        and not value.startswith("-")
        and _BAD_REF.search(value) is None
        and not any(part.startswith((".", "-")) for part in value.split("/"))
    )


# --------------------------------------------------------------------------- finding .git


def _owned(path: Path) -> bool:
    try:
        return os.stat(path).st_uid == os.geteuid()
    except (OSError, AttributeError):  # AttributeError: no geteuid (Windows)
        return True


def _git_allows(root: Path) -> bool:
    """Ask git whether a repository owned by someone else may be used (``safe.directory``)."""
    argv = [git_program(), *_READ_FLAGS, "-C", str(root), "rev-parse", "--git-dir"]
    return _run([argv], dict(os.environ), 3.0)[0] is not None  # runs no filter: none kept off


def _read_small(path: Path, limit: int = _MAX_REF_BYTES) -> str | None:
    """A small regular file's text (never a FIFO, device or symlink); None otherwise."""
    try:
        fd = os.open(path, _READ_ONLY)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, limit + 1)[:limit].decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def find_git(start: Path, *, owned_only: bool = True) -> tuple[Path, Path] | None:
    """(work tree root, git dir) for ``start``, following ``.git`` files of worktrees; None
    outside git or when the repository belongs to another user that git would refuse
    (``owned_only`` False: found all the same, for a caller whose git command then says why)."""
    folder = Path(real_path(start))  # the one name hooks, CLI and MCP server key it by
    for _ in range(_MAX_WALK_UP):
        found = _git_dir_at(folder)
        if found is not None:
            if owned_only and not (_owned(folder) and _owned(found)) and not _git_allows(folder):
                return None
            return folder, found
        if folder.parent == folder:
            return None
        folder = folder.parent
    return None


def _git_dir_at(folder: Path) -> Path | None:
    dot = folder / ".git"
    try:
        mode = os.lstat(dot).st_mode
    except OSError:
        return None
    if stat.S_ISDIR(mode):
        return dot
    if stat.S_ISLNK(mode):
        return _linked_git_dir(dot)
    if not stat.S_ISREG(mode):
        return None
    text = (_read_small(dot) or "").strip()
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(text[len("gitdir:") :].strip())
    gitdir = Path(os.path.realpath(gitdir if gitdir.is_absolute() else folder / gitdir))
    return gitdir if gitdir.is_dir() else None


def _linked_git_dir(dot: Path) -> Path | None:
    """The folder a ``.git`` symbolic link names, as git (and so the CLI) follows it, but only
    when it is a git folder (a ``HEAD`` file in it) owned by this same user: a link never leads
    the hooks into someone else's files (N32)."""
    target = Path(os.path.realpath(dot))
    try:
        info = os.stat(target)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or not _owned(target):
        return None
    return target if _read_small(target / "HEAD") is not None else None


def common_dir(gitdir: Path) -> Path:
    """The folder a worktree's git dir shares with the main one (refs, stashes, hooks)."""
    rel = (_read_small(gitdir / "commondir") or "").strip()
    if not rel:
        return gitdir
    common = Path(os.path.realpath(gitdir / rel))
    return common if common.is_dir() and _owned(common) else gitdir


def _inside(path: Path, folder: Path) -> bool:
    real = os.path.realpath(path)
    base = os.path.realpath(folder)
    return real == base or real.startswith(base + os.sep)


def _ref_file(gitdir: Path, ref: str) -> str | None:
    """The content of a loose ref file, only if it really lies inside ``gitdir``."""
    path = gitdir / ref
    if not _inside(path, gitdir):
        return None
    return _read_small(path)


def _packed_ref(common: Path, ref: str) -> str | None:
    oid = packedrefs.lookup(common / "packed-refs", ref)
    return oid if is_oid(oid) else None


def resolve_ref(gitdir: Path, ref: str, depth: int = 0) -> str | None:
    """The object id a ref names, or None (unknown, malformed, or pointing outside git)."""
    if depth > 5 or not is_ref_name(ref):
        return None
    common = common_dir(gitdir)
    for base in (gitdir, common):
        text = (_ref_file(base, ref) or "").strip()
        if is_oid(text):
            return text
        if text.startswith("ref:"):
            return resolve_ref(gitdir, text[4:].strip(), depth + 1)
    return _packed_ref(common, ref)


def git_head(cwd: Path) -> tuple[Path, str | None, str | None] | None:
    """(root, branch or None when detached, head sha or None when unborn) or None outside git."""
    found = find_git(cwd)
    if found is None:
        return None
    root, gitdir = found
    head = (_read_small(gitdir / "HEAD") or "").strip()
    if is_oid(head):
        return root, None, head
    if not head.startswith("ref:"):
        return root, None, None
    ref = head[4:].strip()
    if not is_ref_name(ref):
        return root, None, None
    branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref
    return root, branch, resolve_ref(gitdir, ref)


# --------------------------------------------------------------------------- running git


_GIT_PROGRAM: dict[str, str] = {}  # PATH -> git's full path: one lookup per process and PATH


def git_program() -> str:
    """git's full path from the absolute folders of ``PATH`` (never a relative one, such as the
    project folder a hook runs in); plain ``git`` when none has it."""
    search = os.environ.get("PATH", "")
    found = _GIT_PROGRAM.get(search)
    if found is None:
        found = _GIT_PROGRAM[search] = _find_git(search)
    return found


def _find_git(search: str) -> str:
    for folder in search.split(os.pathsep):
        if os.path.isabs(folder):
            candidate = os.path.join(folder, "git")
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return "git"


def git_lines(root: Path, *args: str, timeout: float = 3.0, zero: bool = False) -> list[str] | None:
    """Run a read-only git command in ``root``; its output lines (NUL-separated records with
    ``zero``), or None on any failure. Callers pass only fixed words and checked object ids."""
    return git_lines_together(root, [(args, zero)], timeout=timeout)[0]


def programs(root: Path, *, timeout: float = 3.0) -> repoprograms.Programs | None:
    """What keeps the filter programs of the repository at ``root`` off the git commands run
    there (``repoprograms``); None when git could not tell."""
    found = find_git(root)
    if found is None:
        return repoprograms.NONE
    head, env = [git_program(), *_READ_FLAGS, "-C", str(root)], dict(os.environ)

    def ask(where: Path | None) -> list[str] | None:
        flags = [f"--git-dir={where}"] if where is not None else []
        out = _run([[*head, *flags, *repoprograms.QUERY]], env, timeout)[0]
        return None if out is None else out.decode("utf-8", "surrogateescape").split("\0")

    return repoprograms.find(found[1], common_dir(found[1]), ask, found[0])


def git_lines_together(
    root: Path, commands: list[tuple[tuple[str, ...], bool]], *, timeout: float = 3.0
) -> list[list[str] | None]:
    """Several read-only git commands (arguments, ``zero``) run side by side in ``root``: a
    caller that needs them all waits for the slowest, not for their sum. Each result as
    :func:`git_lines` gives it."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
    found = programs(root, timeout=timeout)
    if found is None:  # the repository's own filter programs could not be kept off
        return [None for _ in commands]
    env.update(found.settings(env))
    program = git_program()
    argvs = [[program, *_READ_FLAGS, "-C", str(root), *args] for args, _ in commands]
    results: list[list[str] | None] = []
    for index, out in enumerate(_run(argvs, env, timeout)):
        if out is None:
            results.append(None)
            continue
        text = out.decode("utf-8", "surrogateescape")
        zero = commands[index][1]  # (no zip(strict=): the hooks run on Python 3.9)
        results.append([item for item in text.split("\0") if item] if zero else text.splitlines())
    return results


def _run(argvs: list[list[str]], env: dict[str, str], timeout: float) -> list[bytes | None]:
    """Each command's standard output when it exits 0 in time, else None; all started before
    any is waited for. (``subprocess`` spawns with ``posix_spawn`` given git's full path and
    ``close_fds=False``; our own files are close-on-exec. A hand-written ``select`` runner was
    removed: ``bench/bench_statusline.py --compare spawn`` showed no gain past the spread.)"""
    import subprocess
    import time

    deadline = time.monotonic() + timeout
    started: list[subprocess.Popen[bytes] | None] = []
    for argv in argvs:
        try:
            started.append(
                subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=env,
                    close_fds=False,
                )
            )
        except (OSError, ValueError):
            started.append(None)
    results: list[bytes | None] = []
    for proc in started:
        if proc is None:
            results.append(None)
            continue
        try:
            out, _ = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            late = proc.poll() is None  # one that ended in time while another was waited for
            if late:
                proc.kill()
            out, _ = proc.communicate()
            if late:
                results.append(None)
                continue
        results.append(out if proc.returncode == 0 else None)
    return results


#: the start of a session that began before its repository's first commit: every commit of
#: HEAD is the session's
FROM_ROOT = "root"


def _log_args(start: str) -> tuple[str, ...]:
    revisions = "HEAD" if start == FROM_ROOT else f"{start}..HEAD"
    return ("log", "--no-show-signature", "--format=%H%x1f%s", "-z", revisions, "--")


def _diff_args(start: str) -> tuple[str, ...]:
    if start == FROM_ROOT:  # every path a commit of HEAD touched (no tree to diff against)
        return ("log", "--no-show-signature", "--format=", "--name-only", "-z", "HEAD", "--")
    return (
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        "--no-ext-diff",
        "--no-textconv",
        start,
        "HEAD",
        "--",
    )


def _countable(start: str | None) -> bool:
    return start == FROM_ROOT or is_oid(start)


def _commits(records: list[str] | None) -> list[tuple[str, str]]:
    commits = []
    for record in records or []:
        sha, _, subject = record.strip("\n").partition("\x1f")
        commits.append((sha, subject))
    return commits


def session_commits(root: Path, start: str | None) -> list[tuple[str, str]]:
    """(sha, subject) of the commits in ``start``..HEAD (every commit of HEAD from
    ``FROM_ROOT``), newest first; [] when ``start`` is neither."""
    if not _countable(start):
        return []
    return _commits(git_lines(root, *_log_args(str(start)), zero=True))


def session_files(root: Path, start: str | None) -> list[str]:
    """Paths changed between ``start`` and HEAD: both sides of a rename, deletions included,
    paths as they are (never C-quoted)."""
    if not _countable(start):
        return []
    return list(dict.fromkeys(git_lines(root, *_diff_args(str(start)), zero=True) or []))


def session_range(root: Path, start: str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """``session_commits`` and ``session_files`` at once, their two git processes side by side."""
    if not _countable(start):
        return [], []
    log, diff = git_lines_together(
        root, [(_log_args(str(start)), True), (_diff_args(str(start)), True)]
    )
    return _commits(log), list(dict.fromkeys(diff or []))


#: ``git status`` as everything here reads it: porcelain v2 with the branch header, NUL-separated
#: (paths raw, never quoted), an untracked folder once (not every file in it), and no count of the
#: divergence from the upstream (its cost grows with the divergence)
STATUS_ARGS = (
    "status",
    "--porcelain=v2",
    "--branch",
    "--no-ahead-behind",
    "-z",
    "--untracked-files=normal",
)


class Status(namedtuple("Status", "branch head detached dirty_files untracked_files")):
    """``git status`` (``STATUS_ARGS``) parsed: the branch (None when detached or unknown), the
    head (None before the first commit), changed paths (both sides of a rename: the new one)
    and untracked paths."""

    __slots__ = ()


def parse_status(records: list[str]) -> Status:
    """The one reader of ``git status --porcelain=v2 --branch -z`` output (its NUL-separated
    records): the status line, the hooks and the core read the working tree through it."""
    branch = head = None
    dirty: list[str] = []
    untracked: list[str] = []
    found = iter(records)
    for record in found:
        kind = record[:2]
        if record.startswith("# branch.oid "):
            oid = record[len("# branch.oid ") :]
            head = oid if is_oid(oid) else None  # "(initial)": no commit yet
        elif record.startswith("# branch.head "):
            branch = record[len("# branch.head ") :]
        elif kind in _PATH_FIELD:
            path = record.split(" ", _PATH_FIELD[kind])[-1]
            dirty.append(path)
            if kind == "2 ":
                next(found, None)  # the rename's original path follows as its own record
        elif kind == "? ":
            untracked.append(record[2:])
    detached = branch == "(detached)"
    return Status(None if detached else branch, head, detached, dirty, untracked)


# the space-separated field of each changed-path record that the path starts (ordinary,
# renamed or copied, unmerged)
_PATH_FIELD = {"1 ": 8, "2 ": 9, "u ": 10}


def status(root: Path, *, timeout: float = 3.0) -> Status | None:
    """The working tree's ``Status``; None when git cannot tell."""
    out = git_lines(root, *STATUS_ARGS, timeout=timeout, zero=True)
    return None if out is None else parse_status(out)


#: what the flows read of a repository's configuration, in one git process per call: origin's
#: URL, the hooks path, and a key every repository has (so that "none of them" is told apart
#: from a failure)
_CONFIG_KEYS = (
    r"^(remote\.origin\.url|core\.hookspath|core\.repositoryformatversion|user\.name|user\.email)$"
)


def config_values(root: Path) -> dict[str, str] | None:
    """Those keys of the repository at ``root`` as git resolves them (lower-case names, the last
    value of each); None when git could not tell. Asked once per calling flow (``flow.memo``:
    an ``end`` needs them four times)."""
    from claude_session.base import flow

    memo = flow.current().memo
    key = ("config", str(root))
    if key not in memo:
        out = git_lines(root, "config", "-z", "--get-regexp", _CONFIG_KEYS, zero=True)
        memo[key] = None if out is None else dict(_config_item(item) for item in out)
    values = memo[key]
    return values if isinstance(values, dict) else None


def _config_item(item: str) -> tuple[str, str]:
    name, _, value = item.partition("\n")
    return name, value


def origin_url(root: Path) -> str | None:
    """``origin``'s URL without credentials; None without one (or when git cannot tell)."""
    return strip_credentials((config_values(root) or {}).get("remote.origin.url") or None)
