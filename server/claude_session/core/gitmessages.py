"""What git said, in words for the person: error messages with advice, the reasons a push did
not happen, and credentials kept out of all of them; and the check, before anything is staged,
that git knows who commits."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from claude_session.base import gitread
from claude_session.base.quoting import visible
from claude_session.core import gitlocks
from claude_session.errors import GitError, GitRefused

NO_GIT = (
    "git was not found. Install git (https://git-scm.com) or set GIT_PYTHON_GIT_EXECUTABLE "
    "to the full path of the git program."
)
#: when the repository's filter drivers cannot be told (``gitread.programs``)
UNREADABLE_CONFIG = (
    "git could not read this repository's configuration (git config failed), so claude-session "
    "cannot tell which of its programs to keep off; nothing was run."
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
_MAX_DETAIL = 800


def redact_urls(text: str) -> str:
    """Remove user:password@ from every URL in a message."""
    return _URL_USERINFO.sub(r"\1", text)


def split_message(message: str) -> tuple[str, str]:
    subject, _, body = message.strip().partition("\n")
    return subject.strip(), body.strip()


def last_lines(text: str, count: int = 10) -> str:
    """The end of a command's stderr (where git and hooks put the reason), credentials removed."""
    # git's "hint:" lines are advice for a terminal user; our caller gives its own.
    lines = [
        line.strip()
        for line in redact_urls(text).splitlines()
        if line.strip() and not line.startswith("hint:")
    ]
    joined = " ".join(lines[-count:])
    return joined[-_MAX_DETAIL:]


def command_error(
    command: str, args: tuple[str, ...], status: int, stderr: str, root: Path
) -> GitError:
    reason = last_lines(stderr) or f"exit status {status}"
    if "dubious ownership" in stderr:
        advice = f"Trust the folder with: git config --global --add safe.directory {root}"
    elif "Please tell me who you are" in stderr:
        advice = "Set your identity: git config --global user.name/user.email."
    elif "index.lock" in stderr:
        advice = (
            f"The lock was still there after waiting {gitlocks.LOCK_WAIT:g} s. Another git "
            "command is running here; wait for it (or remove .git/index.lock)."
        )
    elif gitlocks.LOCK_HELD.search(stderr):
        advice = (
            f"The lock was still there after waiting {gitlocks.LOCK_WAIT:g} s. Another git "
            "command is running here; wait for it (or, if none is, remove the .lock file named "
            "above)."
        )
    elif command == "commit":
        advice = "A commit hook may have stopped it: fix what it reports; the changes are staged."
    else:
        advice = "Fix the cause above and try again."
    shown = redact_urls(" ".join(["git", command, *args]))[:200]
    return GitError(
        f"git {command} failed: {reason} {advice}",
        command=shown,
        status=status,
        stderr=redact_urls(stderr),
    )


def check_identity(root: Path, run: Callable[..., tuple[int, str, str]]) -> None:
    """Refuse, before anything is staged, a commit git would refuse for want of a name or an
    email (a fresh machine): git's own words say what to set. Asks git (``git var``, through
    ``run``) only when neither the configuration nor the environment names both."""
    values = gitread.config_values(root) or {}
    if all(
        values.get(f"user.{part}") or os.environ.get(f"GIT_{who}_{part.upper()}")
        for who in ("AUTHOR", "COMMITTER")
        for part in ("name", "email")
    ):
        return
    for who in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        status, _, err = run("var", who)
        if status != 0:
            raise identity_unknown(err)


def identity_unknown(stderr: str) -> GitError:
    """git does not know who commits: its own message (which names the commands to run), said
    whole and on its lines, after what we did (nothing)."""
    said = "\n".join(f"  {line}".rstrip() for line in redact_urls(stderr).strip().splitlines())
    return GitError(
        "Nothing was committed (nothing was staged either): git does not know your name and "
        f"email yet. Git says:\n\n{said}\n\nSet both as it shows, then run this again.",
        command="git var GIT_COMMITTER_IDENT",
        status=128,
        stderr=redact_urls(stderr),
    )


def rejection_detail(upstream: str, summary: str, stderr: str = "") -> str:
    """Why ``upstream`` refused the push, with what the remote itself said (its ``remote:``
    lines: a hook's reason, a protected branch)."""
    if "fetch first" in summary or "non-fast-forward" in summary:
        return (
            f"Push rejected: '{upstream}' has commits this branch does not have; nothing was "
            "forced. Run git pull --rebase, then push again."
        )
    said = [
        line.strip()[len("remote:") :].strip()
        for line in redact_urls(stderr).splitlines()
        if line.strip().startswith("remote:") and line.strip()[len("remote:") :].strip()
    ]
    remote = f" The remote said: {' '.join(said)[-_MAX_DETAIL:]}" if said else ""
    return f"Push rejected by '{upstream}' ({redact_urls(summary)}); nothing was forced.{remote}"


def push_failure_detail(upstream: str, stderr: str, timeout: float) -> str:
    if "did not complete in" in stderr or "timed out" in stderr:
        return (
            f"Push to '{upstream}' did not finish within {timeout:g} s. Check the network and "
            "your credentials, then run git push."
        )
    reason = last_lines(stderr, count=5) or "no reason given"
    return (
        f"Push to '{upstream}' failed: {reason} Check the remote URL, the network and your "
        "credentials, then run git push."
    )


def unfiltered(what: str, names: tuple[str, ...]) -> GitRefused:
    """The refusal of a write (staging, a checkout) that would go without the filter programs
    the repository's own config names, which claude-session keeps off (``repoprograms``)."""
    shown = ", ".join(repr(visible(name)[:40]) for name in names[:5])
    return GitRefused(
        f"Cannot {what}: this repository's own config (.git/config, or a file it includes) "
        f"names the filter program(s) {shown}, and claude-session runs no program from the "
        "project folder; without them git would store or check out the files unfiltered. "
        "Nothing was changed. Do it yourself with git, or set the filter up in your global "
        "config (git config --global filter.NAME.clean ...) if you trust it."
    )
