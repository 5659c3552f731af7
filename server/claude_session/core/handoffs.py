"""Hand-offs out: the ClaudeSync item that pause and end make (the context and the transfer
prompt, for claude.ai or another machine), the ones kept on disk while the vault cannot be
reached and made later, and the transfer prompt asked for by hand (``handoff prompt``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from claude_session.base import bounded, flow, routines
from claude_session.base import context as ctxmod
from claude_session.base.clock import as_utc
from claude_session.base.redact import redact
from claude_session.base.state import answers as answer_state
from claude_session.base.state import handoffs as handoff_state
from claude_session.base.statefile import move_aside
from claude_session.core import steps
from claude_session.core.gitstate import WorkingState
from claude_session.core.handoff import transfer_prompt
from claude_session.core.project import Project, resolve
from claude_session.core.records import machine_name
from claude_session.core.services import Services
from claude_session.errors import ItemRefused, NoActiveSession, VaultError
from claude_session.models import HandoffPromptResult, PendingHandoff, PendingHandoffInfo
from claude_session.paths import safe_name
from claude_session.vocab import EndMode

if TYPE_CHECKING:
    from claude_session.vault.base import HandoffItem


def wanted(services: Services, end_mode: EndMode) -> bool:
    """Whether ``end --mode end_mode`` stores the context in the vault: handoff and sync (which
    warn when the routine file leaves them out), and standard when the routine file lists it
    (``vault_end_modes``)."""
    if end_mode in ("handoff", "sync"):
        return True
    return routines.load(services.paths.home).writes_vault(end_mode)


def refuse_sync(services: Services, push_detail: str | None) -> None:
    """``end --mode sync`` whose work did not reach the remote: no sync item, since the other
    machine could not check out the branch and commit it names (newcomer-2.md 2.14)."""
    routine = routines.load(services.paths.home)
    if not routine.writes_vault("sync"):
        flow.warn(
            f"{routine.source}: `end --mode sync` does not write the ClaudeSync vault "
            f"(vault_end_modes); nothing was stored there."
        )
        return
    flow.warn(
        f"The sync item was not stored: the other machine could not get this work "
        f"({push_detail or 'nothing was pushed'}). The context is saved here. Push the branch, "
        f"then run `claude-session start` and `claude-session end --mode sync` again."
    )


def create(
    services: Services,
    project: Project,
    session_id: str,
    state: WorkingState,
    context_path: Path,
    *,
    kind: str,
    end_mode: EndMode | None = None,
) -> tuple[str | None, str]:
    """The ClaudeSync item for this context: (its title, or None when it waits or was not
    wanted; the transfer prompt)."""
    text = steps.read_context(str(context_path))
    # The item's metadata leaves the machine with 1Password: redacted like the context.
    branch = redact(state.branch)[0] if state.branch else None
    name = redact(project.name)[0]
    routine = routines.load(services.paths.home)
    for problem in routine.problems:
        flow.warn(problem)
    prompt = transfer_prompt(
        project=name,
        branch=branch,
        repository=project.repository,
        context_markdown=text,
        template=routine,
    )
    if end_mode is not None and not routine.writes_vault(end_mode):
        flow.warn(
            f"{routine.source}: `end --mode {end_mode}` does not write the ClaudeSync vault "
            f"(vault_end_modes); nothing was stored there."
        )
        return None, prompt
    request = PendingHandoff(
        project=name,
        branch=branch,
        session_id=session_id,
        machine=machine_name(),
        repository=project.identity,
        context=text,
        transfer_prompt=prompt,
        kind="sync" if kind == "sync" else "handoff",
    )
    request.title = routine.title(
        project=safe_name(name),
        date=as_utc(request.now).date().isoformat(),
        branch=safe_name(branch or "", fallback=""),
        machine=safe_name(request.machine or "", fallback=""),
    )
    item = _create_or_keep(services, request, context_path)
    if item is not None and services.vault.kind == "local":
        flow.warn(f"ClaudeSync is using the {services.vault.description}.")
    return (item.title if item else None), prompt


def _create_or_keep(
    services: Services, request: PendingHandoff, context_path: Path
) -> HandoffItem | None:
    """Create the item; when the vault cannot, keep the request on disk (retried by the next
    start or sync), or, when it refused the item for good, keep it as failed."""
    try:
        return services.vault.create_item(request)
    except VaultError as exc:
        request.attempts = 1  # the item may exist: the retry looks for it first
        failed = isinstance(exc, ItemRefused)
        if failed:
            request.state, request.reason = "failed", str(exc)
        pending = _save(services, request)
        if failed:
            flow.warn(
                f"The ClaudeSync item {request.title} was refused ({exc}). It is not retried: "
                f"the context is in {context_path} and the request in {pending}; "
                f"`claude-session status` lists it, and `claude-session sync --retry-refused` "
                f"tries it again once the cause is fixed."
            )
        else:
            flow.warn(
                f"The ClaudeSync item could not be created ({exc}). Nothing is lost: the "
                f"context is in {context_path} and the item ({request.title}, with its own "
                f"date) will be created by the next start or `claude-session sync`."
            )
        return None


def _save(services: Services, request: PendingHandoff) -> Path:
    return handoff_state.save(services.paths, request.model_dump(mode="json"))


def pending_requests(services: Services) -> list[tuple[Path, PendingHandoff]]:
    """The delayed hand-offs, oldest first; a file that is not one is moved aside with a
    warning, never skipped forever."""
    found: list[tuple[Path, PendingHandoff]] = []
    for path, data in handoff_state.saved(services.paths):
        try:
            found.append((path, PendingHandoff.model_validate(data)))
        except ValueError as exc:
            flow.warn(move_aside(path, f"not a pending hand-off ({type(exc).__name__})"))
    return sorted(found, key=lambda pair: pair[1].now)


def pending_handoffs(services: Services) -> list[PendingHandoffInfo]:
    """What ``status`` shows: hand-offs waiting for the vault, the ones it refused, and the
    claude.ai answers kept until they can be stored (N3: none waits unseen)."""
    shown = [
        PendingHandoffInfo(
            title=r.title or f"session-{r.project}", state=r.state, reason=r.reason, file=str(path)
        )
        for path, r in pending_requests(services)
    ]
    for path, data in answer_state.kept(services.paths):
        shown.append(
            PendingHandoffInfo(
                title=f"claude.ai answer for {data.get('project') or 'a project'}",
                kind="answer",
                state="pending",
                file=str(path),
            )
        )
    return shown


def retry_pending(services: Services, *, refused: bool = False) -> tuple[int, bool]:
    """Create the ClaudeSync items that an earlier pause or end could not create, once per
    command, each with its own time; one the vault refuses for good is marked failed and the
    others go on; the first other failure stops the round (the vault is not usable now).
    ``refused`` (``sync --retry-refused``): the ones refused earlier are tried again too, after
    the person fixed the cause (D8). Returns how many were created, and whether the round got
    through them all."""
    if not flow.current().first_time("retry pending hand-offs"):
        return 0, False
    with handoff_state.exclusive(services.paths, "handoffs") as mine:
        if not mine:  # another process is creating them now: never make one twice (N2)
            return 0, False
        if refused:
            _unrefuse(services)
        return _retry_round(services)


def _unrefuse(services: Services) -> None:
    """The refused hand-offs waiting again, oldest first as they were made; each may have been
    stored after all (the refusal may have come after the write), so it is looked for first."""
    for _, request in pending_requests(services):
        if request.state == "failed":
            flow.warn(
                f"Trying the refused ClaudeSync item {request.title} again "
                f"(refused before: {request.reason or 'no reason kept'})."
            )
            request.state, request.reason = "pending", None
            request.attempts = max(request.attempts, 1)
            _save(services, request)


def _retry_round(services: Services) -> tuple[int, bool]:
    created = 0
    waiting = [(p, r) for p, r in pending_requests(services) if r.state == "pending"]
    for index, (path, request) in enumerate(waiting):
        try:
            item = _find_or_create(services, request)
        except ItemRefused as exc:
            request.state, request.reason = "failed", str(exc)
            _save(services, request)
            flow.warn(
                f"The delayed ClaudeSync item {request.title} was refused ({exc}). It is not "
                f"retried by itself; the request is kept in {path} (`claude-session sync "
                f"--retry-refused` tries it again once the cause is fixed)."
            )
            continue
        except VaultError as exc:
            _save(services, request)
            flow.warn(
                f"ClaudeSync still unavailable ({exc}); {len(waiting) - index} hand-off(s) wait."
            )
            return created, False
        handoff_state.remove(path)
        created += 1
        flow.warn(f"Created the delayed ClaudeSync item {item.title}.")
    return created, True


def _find_or_create(services: Services, request: PendingHandoff) -> HandoffItem:
    """The item of a delayed hand-off: found, when an earlier attempt may have made it, else
    created now."""
    item = services.vault.find_created(request) if request.attempts else None
    if item is None:
        request.attempts += 1
        item = services.vault.create_item(request)
    return item


# --- the manual transfer --------------------------------------------------------------------


def latest_context(services: Services, project: Project) -> Path | None:
    """The paused context, else the newest context file of this project (by its recorded
    repository or folder, never by name alone: two projects may share a name)."""
    pause = steps.pause_entry(services, project)
    if pause is not None and Path(pause.context_file).exists():
        return Path(pause.context_file)
    prefix = f"{project.name}-"
    try:
        candidates = [
            p
            for p in services.paths.contexts.iterdir()
            if p.name.startswith(prefix) and p.suffix == ".md"
        ]
    except FileNotFoundError:
        return None
    for path in sorted(candidates, key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            if ctxmod.parse(bounded.read_text(path)).repository == project.identity:
                return path
        except (OSError, UnicodeDecodeError, ValueError):
            continue
    return None


def prompt(services: Services, cwd: Path | str) -> HandoffPromptResult:
    """``handoff prompt``: the transfer prompt of the project's latest context."""
    with services.call():
        project = resolve(cwd)
        path = latest_context(services, project)
        if path is None:
            raise NoActiveSession(
                "No saved context for this project yet: run `claude-session pause` or "
                "`end --mode handoff` first."
            )
        text = transfer_prompt(
            project=project.name,
            branch=steps.working_state(project).branch,
            repository=project.repository,
            context_markdown=steps.read_context(str(path)),
            template=routines.load(services.paths.home),  # as the item's prompt (2.25)
        )
        return steps.result(HandoffPromptResult, project, context_file=str(path), prompt=text)
