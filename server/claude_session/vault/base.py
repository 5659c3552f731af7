"""ClaudeSync: the hand-off item and the interface every vault backend implements.

One item per hand-off (SPEC section 5). The local vault and the 1Password vault store the same
items with the same fields, so the flows never know which one is in use; ``description`` says
which, for the messages shown to the user.
"""

from __future__ import annotations

import abc
import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pydantic import Field

from claude_session.base import clock
from claude_session.base.backend import Backend
from claude_session.base.clock import as_utc, new_id
from claude_session.errors import ItemNotFound
from claude_session.models import Model, PendingHandoff
from claude_session.paths import safe_name
from claude_session.vocab import ItemKind

TAG = "claudesync"
#: Our tags nest under ``claudesync`` (``claudesync/<project>``, ``claudesync/repo-<hash>``):
#: 1Password's tags are account-wide, and a bare ``api`` would mix with the user's own (L6).
NESTED = f"{TAG}/"
#: The tag that names the project an item belongs to, from its identity (``identity_tag``).
IDENTITY_PREFIX = f"{NESTED}repo-"
#: The same, as items made before the tags were nested carry it.
OLD_IDENTITY_PREFIX = f"{TAG}-repo-"
IDENTITY_PREFIXES = (IDENTITY_PREFIX, OLD_IDENTITY_PREFIX)


def is_ours(tags: Sequence[str]) -> bool:
    """Whether the tags mark a ClaudeSync item (the user may have renamed ``ClaudeSync``)."""
    return any(t.casefold() == TAG for t in tags)


class HandoffItem(Model):
    """One ClaudeSync item: a session's context, on its way to claude.ai or another machine."""

    id: str = Field(default_factory=new_id)
    title: str
    project: str
    branch: str | None = None
    timestamp: datetime
    session_id: str | None = None
    machine: str | None = None
    repository: str | None = None
    kind: ItemKind = "handoff"
    creation_id: str | None = None  # set by the creator: a retried create finds its item
    context: str
    transfer_prompt: str = ""
    claude_ai_response: str = ""
    imported: bool = False
    imported_at: datetime | None = None
    tags: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    @property
    def has_response(self) -> bool:
        return bool(self.claude_ai_response.strip())

    @property
    def is_pending(self) -> bool:
        """Filled in by the user and not merged into a context yet."""
        return self.has_response and not self.imported


# --- tags: which project an item belongs to ---------------------------------------------------


def identity_tag(repository: str) -> str:
    """The tag of the project whose identity (``Project.identity``) is ``repository``: a hash,
    since an identity holds ``/`` (which nests tags in the 1Password app) and may be a local
    folder's path."""
    return IDENTITY_PREFIX + _identity_digest(repository)


def identity_tags(repository: str) -> set[str]:
    """Every form of the project's identity tag (nested, and as older items carry it)."""
    digest = _identity_digest(repository)
    return {prefix + digest for prefix in IDENTITY_PREFIXES}


def _identity_digest(repository: str) -> str:
    return hashlib.sha256(repository.encode("utf-8")).hexdigest()[:16]


def project_tags(project: str, repository: str | None) -> list[str]:
    """The tags of a new item: ``claudesync``, the project's name and its identity, both
    nested under ``claudesync``."""
    tags = [TAG, NESTED + safe_name(project)]
    if repository:
        tags.append(identity_tag(repository))
    return tags


# --- titles and ordering, shared by every backend ----------------------------------------------


def base_title(project: str, moment: datetime) -> str:
    """``session-{project}-{YYYY-MM-DD}``, the date taken in UTC like every timestamp we keep."""
    return f"session-{safe_name(project)}-{as_utc(moment).date().isoformat()}"


def allocate_title(base: str, taken: set[str]) -> str:
    """``base``, else ``base-2``, ``base-3`` ...: the first one free, so nothing is overwritten."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


_SUFFIX = re.compile(r"^(.*\d{4}-\d{2}-\d{2})-(\d+)$")


def _title_rank(title: str) -> tuple[str, int]:
    match = _SUFFIX.match(title)
    return (match.group(1), int(match.group(2))) if match else (title, 1)


def wanted_title(request: PendingHandoff) -> str:
    """The title ``request`` asks for, before a counter is added when it is taken."""
    return request.title or base_title(request.project, request.now)


def new_item(request: PendingHandoff, taken: set[str]) -> HandoffItem:
    """The item ``request`` asks for, with the first of its titles not in ``taken``."""
    moment = as_utc(request.now)
    return HandoffItem(
        title=allocate_title(wanted_title(request), taken),
        project=request.project,
        branch=request.branch,
        timestamp=moment,
        session_id=request.session_id,
        machine=request.machine,
        repository=request.repository,
        kind=request.kind,
        creation_id=request.id,
        context=request.context,
        transfer_prompt=request.transfer_prompt,
        tags=project_tags(request.project, request.repository),
        created_at=moment,
        updated_at=moment,
    )


def with_response(item: HandoffItem, response: str) -> HandoffItem:
    """``item`` with claude.ai's answer ``response`` (``item`` itself when it holds it already).
    A new answer is new material: it must be merged even if an older one was."""
    if response == item.claude_ai_response:
        return item
    return item.model_copy(
        update={
            "claude_ai_response": response,
            "imported": False,
            "imported_at": None,
            "updated_at": clock.now(),
        }
    )


def answer_hash(answer: str) -> str:
    """The hash of an answer's text without its white space: the 1Password app re-saving the
    field on one line (it drops line breaks, with or without a space) does not make an
    imported answer new."""
    return hashlib.sha256("".join(answer.split()).encode("utf-8")).hexdigest()


def with_imported(
    item: HandoffItem, now: datetime | None = None, *, answer: str | None = None
) -> HandoffItem:
    """``item`` marked imported at ``now`` (``item`` itself when it was already, or when its
    answer is no longer ``answer``, the one that was merged: a new answer is not marked
    unmerged)."""
    if item.imported:
        return item
    if answer is not None and answer_hash(answer) != answer_hash(item.claude_ai_response):
        return item
    moment = as_utc(now)
    return item.model_copy(update={"imported": True, "imported_at": moment, "updated_at": moment})


def newest_first(items: list[HandoffItem]) -> list[HandoffItem]:
    """Newest first by timestamp; same-instant items by their title's counter (-3 before -2)."""
    return sorted(
        items, key=lambda i: (i.timestamp, i.created_at, _title_rank(i.title)), reverse=True
    )


class _Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...


def item_not_found(ref: str, where: str, known: Sequence[_Named]) -> ItemNotFound:
    """The error for a missing item, naming the newest items (newest first in ``known``: hand-off
    items or 1Password's overviews) so the user can pick one."""
    if known:
        names = ", ".join(f"{i.title} ({i.id})" for i in known[:5])
        more = f" and {len(known) - 5} more" if len(known) > 5 else ""
        hint = (
            f"Items there, newest first: {names}{more}. Pass one of these titles or ids, or "
            f"leave the item out to take the newest (`claude-session import`)."
        )
    else:
        hint = (
            "It holds no hand-off items yet: create one with `claude-session pause "
            "--handoff` or `claude-session end --mode handoff`."
        )
    return ItemNotFound(f"No hand-off item '{ref}' in the {where}. {hint}")


def matches(item: HandoffItem, *, project: str | None, repository: str | None) -> bool:
    """Whether ``item`` belongs to the project asked for.

    The repository is the identity across machines (folder names differ); an item that recorded
    one matches only on it, so two unrelated repositories both called ``app`` never mix. Items
    without a repository (no ``origin``) fall back to the project name.
    """
    if project is None and repository is None:
        return True
    if repository is not None and item.repository is not None:
        return item.repository == repository
    return project is not None and item.project == project


# --- the interface ------------------------------------------------------------------------------


class Vault(Backend, abc.ABC):
    """Where hand-off items live: ``LocalVault`` (files) or ``OnePasswordVault``.

    A vault reports what the user should hear (an item file moved aside, a damaged 1Password
    item left alone) with ``flow.warn``, where it happens.
    """

    @abc.abstractmethod
    def create_item(self, request: PendingHandoff) -> HandoffItem:
        """Store the item ``request`` asks for, titled ``request.title`` or
        ``session-{project}-{date}`` (``-2``, ``-3`` when taken); the request's id is kept in it
        (``creation_id``), so ``find_created`` finds it after a create that timed out."""

    def find_created(self, request: PendingHandoff) -> HandoffItem | None:
        """The item made from ``request`` (by its id), archived ones included."""
        for item in self.list_items():
            if item.creation_id == request.id:
                return item
        return None

    @abc.abstractmethod
    def list_items(
        self, *, project: str | None = None, repository: str | None = None
    ) -> list[HandoffItem]:
        """The project's items (all items when neither is given), newest first."""

    @abc.abstractmethod
    def get_item(self, ref: str) -> HandoffItem:
        """The item with this id or exact title; ``ItemNotFound`` otherwise."""

    @abc.abstractmethod
    def set_response(self, ref: str, response: str) -> HandoffItem:
        """Store claude.ai's answer; a different answer makes an imported item pending again."""

    @abc.abstractmethod
    def mark_imported(
        self, ref: str, *, now: datetime | None = None, answer: str | None = None
    ) -> HandoffItem:
        """Record that the answer was merged, so it is never merged twice. With ``answer``
        (the answer that was merged), an item whose answer changed meanwhile is left pending
        (returned unmarked)."""

    def pending_response(
        self, *, project: str | None = None, repository: str | None = None
    ) -> HandoffItem | None:
        """The newest item whose answer is filled in and not imported yet, if any."""
        for item in self.list_items(project=project, repository=repository):
            if item.is_pending:
                return item
        return None

    def deadline(self) -> float | None:
        """The seconds a command may spend on this vault, where it is remote (``doctor``
        waits that long)."""
        return None

    def try_now(self) -> None:
        """The calling command asks the vault even where it would wait otherwise (a rate limit
        met by an earlier command): ``claude-session sync``."""

    def count_items(self) -> int:
        """How many ClaudeSync items the vault holds (``doctor``)."""
        return len(self.list_items())

    def check(self) -> str:
        """What ``doctor`` shows: the vault, reached for real where it is remote."""
        return self.description
