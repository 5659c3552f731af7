"""The commits and pushes the flows make: pause's WIP commit, end's commit and push.

A commit message is never rewritten: one that holds what looks like a secret is refused before
anything is committed or pushed. Nothing is ever forced.
"""

from __future__ import annotations

from claude_session.base import flow, gitread
from claude_session.base.redact import find_secrets
from claude_session.core import repository
from claude_session.core.gitstate import PushOutcome, WipRun, WorkingState
from claude_session.core.project import Project
from claude_session.core.services import Services
from claude_session.errors import SecretInCommit

END_COMMIT_MESSAGE = "End of Claude Code session"


def first_line(text: str, limit: int = 72) -> str:
    return (text.strip().splitlines() or [""])[0][:limit]


def refuse_secret(text: str, *, allow: bool, what: str) -> list[str]:
    """Refuse a commit message that holds what looks like a secret, naming the kinds found;
    with ``allow`` (the CLI's ``--allow-secret``, never a tool's), return those kinds."""
    kinds = find_secrets(text)
    if kinds and not allow:
        raise SecretInCommit(
            f"The {what} holds what looks like a secret ({', '.join(kinds)}); nothing was "
            f"committed or pushed. Take it out of the message and run again, or, if it is not a "
            f"secret, run again with --allow-secret.",
            what=what,
            kinds=tuple(kinds),
        )
    return list(kinds)


def secret_committed(kinds: list[str], sha: str | None) -> None:
    """Say plainly that ``--allow-secret`` let a secret into a commit (the redaction line of
    the result is only about what was saved, not about the commit)."""
    if kinds and sha:
        flow.warn(
            f"A secret was committed: the message of commit {sha[:10]} holds what looks like "
            f"a secret ({', '.join(kinds)}), committed as written because of --allow-secret. It "
            f"is in the repository's history and goes wherever this commit is pushed; if it is "
            f"a real secret, rotate it."
        )


def wip_commit(
    services: Services, project: Project, summary: str, state: WorkingState
) -> str | None:
    """Pause's WIP commit; on a detached HEAD it goes on a new named branch first, so that no
    later checkout can strand it."""
    with repository.Repository(project.root) as repo:
        if state.detached and state.head and state.changed:
            name = f"claude-session/wip-{services.now():%Y%m%d-%H%M%S}"
            repo.branch_here(name)
            flow.warn(
                f"HEAD was detached at {state.head[:10]}: the WIP commit is on the new branch "
                f"'{name}' so that it cannot be lost (`git checkout {state.head[:10]}` goes "
                f"back to where you were)."
            )
        return repo.wip_commit(f"WIP: {first_line(summary) or 'paused session'}")


def unpushed_wip(project: Project) -> WipRun:
    """The WIP commits (pause's, marked with ``WIP_TRAILER``) on top of HEAD that no
    remote-tracking branch holds, newest first, and the commit under them. The run ends at the
    first other commit, a merge or a pushed commit: those are never rewritten."""
    records = gitread.git_lines(
        project.root,
        "log",
        "-z",
        "-n",
        "50",
        "--no-show-signature",
        "--format=%H%x1f%P%x1f%(trailers:key=claude-session,valueonly,separator=%x2c)",
        "HEAD",
        "--not",
        "--remotes",
        "--",
        zero=True,
    )
    shas: list[str] = []
    expected: str | None = None
    for record in records or []:
        sha, _, rest = record.strip("\n").partition("\x1f")
        parents, _, marks = rest.partition("\x1f")
        if (shas and sha != expected) or "wip" not in marks.split(",") or " " in parents:
            break
        shas.append(sha)
        expected = parents or None
    return WipRun(shas, expected if shas else None)


def in_history(project: Project, sha: str) -> bool:
    """Whether ``sha`` is HEAD or one of its ancestors."""
    return gitread.is_oid(sha) and (
        gitread.git_lines(project.root, "merge-base", "--is-ancestor", sha, "HEAD") is not None
    )


def end_commit(
    project: Project, text: str, *, before: WorkingState, squash: WipRun | None = None
) -> tuple[str | None, WorkingState | None]:
    """End's commit of everything ``before`` listed (and of the work of the WIP commits in
    ``squash``, which it replaces): its sha, and the working state after it where that follows
    without asking git again (``Repository.committed_state``)."""
    with repository.Repository(project.root) as repo:
        operation = repo.operation_in_progress()
        if operation:
            flow.warn(
                f"No commit: a {operation} is in progress. Finish or abort it, then commit by hand."
            )
            return None, None
        sha = repo.commit(text or END_COMMIT_MESSAGE, changed=before.changed, squash=squash)
        if sha is None or not before.known:
            return sha, None
        return sha, repo.committed_state(before, sha)


def push_outcome(project: Project, wanted: bool, *, publish: bool = False) -> PushOutcome:
    """Push to the upstream; what happened (said once, in its ``detail``). ``publish`` (for
    ``end --mode sync``: the other machine needs the branch): a branch with no upstream yet is
    pushed under its own name and tracked (``git push -u``)."""
    if not project.in_git:
        return PushOutcome("no_remote", False, "not a git repository")
    if not wanted:
        return PushOutcome("not_wanted", False, "not pushed (--no-push)")
    with repository.Repository(project.root) as repo:
        return repo.push(publish=publish)
