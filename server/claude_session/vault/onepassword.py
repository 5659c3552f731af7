"""The ClaudeSync vault in 1Password, through ``onepassword-sdk`` (SPEC section 5).

The items' shape is ``op_items``'s; the calls, within one time budget per command and read
once per command, are ``op_calls``'s.

Concurrency. 1Password has no locks. Titles: taken under a process lock, then checked after
creation; when another machine took the same title at the same time, the later item (by
creation time, then id) renames itself to the next free title. Changes: get, modify, put; a
stale version is re-read and the change applied again.

When 1Password is configured, a failure is an error, never a silent switch to the local vault:
the flows have already written the context locally and keep a pending hand-off that the next
``start`` or ``sync`` turns into the 1Password item, where the other side of the round trip
looks for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from claude_session.base import flow
from claude_session.base.clock import as_utc
from claude_session.base.redact import redact
from claude_session.base.routines import DEFAULT_OP_DEADLINE
from claude_session.config import Settings
from claude_session.errors import ItemNotFound, ItemRefused, StaleItem, VaultUnavailable
from claude_session.models import PendingHandoff
from claude_session.vault.base import (
    TAG,
    HandoffItem,
    Vault,
    allocate_title,
    answer_hash,
    is_ours,
    item_not_found,
    matches,
    new_item,
    newest_first,
    wanted_title,
    with_imported,
    with_response,
)
from claude_session.vault.op_calls import VaultCalls
from claude_session.vault.op_items import (
    apply_handoff,
    belongs,
    create_params,
    is_item_id,
    to_handoff,
)
from claude_session.vault.op_sdk import (
    CLOCK,
    DESKTOP_APPROVAL,
    Authenticate,
    Clock,
    uses_desktop,
)

UPDATE_ATTEMPTS = 5

_TITLE_LOCKS: dict[str, threading.Lock] = {}
_TITLE_LOCKS_LOCK = threading.Lock()


def _title_lock(vault_id: str) -> threading.Lock:
    with _TITLE_LOCKS_LOCK:
        return _TITLE_LOCKS.setdefault(vault_id, threading.Lock())


def _checked(sent: HandoffItem, saved: HandoffItem) -> HandoffItem:
    """``saved`` (what 1Password says it stored) when it holds what was ``sent``: the answer
    and the context word for word (white space aside), and the imported mark. Otherwise
    ``ItemRefused``: a write is checked, not trusted (findings/onepassword-2.md F10), so an
    answer that was not stored whole is kept by the caller, never reported stored."""
    differs = [
        name
        for name, a, b in (
            ("claude_ai_response", sent.claude_ai_response, saved.claude_ai_response),
            ("context", sent.context, saved.context),
        )
        if answer_hash(a) != answer_hash(b)
    ]
    if sent.imported != saved.imported:
        differs.append("imported mark")
    if not differs:
        return saved
    raise ItemRefused(
        f"1Password stored '{saved.title}' with a different {' and '.join(differs)} than was "
        f"sent, so this write is not counted as done. Check the item in the 1Password app."
    )


# --- the vault ------------------------------------------------------------------------------


class OnePasswordVault(Vault):
    """Hand-off items in a 1Password vault (``ClaudeSync`` unless ``CLAUDE_SESSION_VAULT``)."""

    kind = "1password"

    def __init__(
        self,
        settings: Settings,
        *,
        authenticate: Authenticate | None = None,
        deadline: float | None = None,
        clock: Clock = CLOCK,
    ) -> None:
        """``deadline``: the seconds each command may spend on 1Password (default: the
        ``op_deadline`` setting; unset, from the times measured here, 5 s at least:
        ``op_latency``); ``authenticate`` and ``clock`` replace the
        SDK's sign-in and the real time (tests)."""
        self.settings = settings
        self.vault_name = settings.vault_name
        how = (
            f"desktop app, account '{settings.op_account}'"
            if uses_desktop(settings)
            else "service account"
        )
        self.description = f"1Password vault '{self.vault_name}' ({how})"
        seconds = settings.op_deadline if deadline is None else deadline
        # A person approving the desktop app's prompt needs longer than 5 s (L2), unless a
        # deadline was chosen.
        chosen = deadline is not None or settings.op_deadline != DEFAULT_OP_DEADLINE
        approval = DESKTOP_APPROVAL if uses_desktop(settings) and not chosen else 0.0
        self.calls = VaultCalls(
            settings,
            authenticate=authenticate,
            deadline=seconds,
            clock=clock,
            approval=approval,
            learned=not chosen,  # from the times measured here (L7)
        )
        for problem in settings.problems:
            flow.warn(problem)

    # --- the interface ---

    def create_item(self, request: PendingHandoff) -> HandoffItem:
        # What leaves the machine is redacted like the context (the flows do it too).
        request = request.model_copy(
            update={
                "project": redact(request.project)[0],
                "branch": redact(request.branch)[0] if request.branch else request.branch,
            }
        )
        vault_id = self.calls.vault_id()
        with _title_lock(vault_id):  # threads of this process never race for a title
            taken = {o.title for o in self.calls.overviews(archived=True, fresh=True)}
            created = self.calls.create(create_params(new_item(request, taken), vault_id))
        return to_handoff(self._settle_title(created, wanted_title(request)))

    def find_created(self, request: PendingHandoff) -> HandoffItem | None:
        """Only the project's items titled for that day are read (archived ones included): a
        title always holds the date (``{date}`` is required in ``item_title``)."""
        day = as_utc(request.now).date().isoformat()
        ids = [
            o.id
            for o in self.calls.overviews(archived=True)
            if day in o.title and belongs(o, project=request.project, repository=request.repository)
        ]
        for raw in self.calls.fetch(ids):
            item = self._convert(raw)
            if item is not None and item.creation_id == request.id:
                return item
        return None

    def list_items(
        self, *, project: str | None = None, repository: str | None = None
    ) -> list[HandoffItem]:
        found = [
            i
            for i in self._handoffs(project=project, repository=repository)
            if matches(i, project=project, repository=repository)
        ]
        return newest_first(found)

    def count_items(self) -> int:
        """From the listing alone: no item is read."""
        return sum(1 for o in self.calls.overviews() if is_ours(o.tags))

    def get_item(self, ref: str) -> HandoffItem:
        return self._convert_or_missing(self._raw(ref), ref)

    def set_response(self, ref: str, response: str) -> HandoffItem:
        return self._update(ref, lambda item: with_response(item, response))

    def mark_imported(
        self, ref: str, *, now: datetime | None = None, answer: str | None = None
    ) -> HandoffItem:
        return self._update(ref, lambda item: with_imported(item, now, answer=answer))

    def try_now(self) -> None:
        self.calls.try_now()

    def deadline(self) -> float | None:
        return self.calls.session.seconds()

    def check(self) -> str:
        """Sign in and find the vault, within the command's budget (``doctor``)."""
        self.calls.vault_id()
        return f"{self.description}: signed in, vault found"

    # --- conversions ---

    def _convert(self, raw: Any) -> HandoffItem | None:
        try:
            return to_handoff(raw)
        except (ValueError, ValidationError) as exc:
            if is_ours(raw.tags):
                self.calls.warn_once(
                    raw.id,
                    f"1Password item '{raw.title}' ({raw.id}) is tagged "
                    f"'{TAG}' but is not a readable hand-off item ({exc}); "
                    f"it is left alone.",
                )
            return None

    def _convert_or_missing(self, raw: Any, ref: str) -> HandoffItem:
        item = self._convert(raw)
        if item is None:
            raise ItemNotFound(
                f"1Password item '{ref}' in the {self.description} is not a "
                f"readable hand-off item. Pick another one (`claude-session "
                f"import --item TITLE`)."
            )
        return item

    def _handoffs(
        self, *, project: str | None = None, repository: str | None = None
    ) -> list[HandoffItem]:
        """The active hand-off items that may be ``project``'s, read after picking them from
        the listing (``belongs``)."""
        ids = [
            o.id
            for o in self.calls.overviews()
            if belongs(o, project=project, repository=repository)
        ]
        converted = (self._convert(raw) for raw in self.calls.fetch(ids))
        return [item for item in converted if item is not None]

    def _raw(self, ref: str) -> Any:
        """The 1Password item with this id, or this exact title among active ClaudeSync items."""
        if is_item_id(ref):
            try:
                raw = self.calls.read(ref)
            except ItemNotFound:
                raw = None
            if raw is not None and is_ours(raw.tags):
                return raw
        named = sorted(
            (o for o in self.calls.overviews() if o.title == ref and is_ours(o.tags)),
            key=lambda o: (o.created_at, o.id),
        )
        if named:
            return self.calls.get(named[0].id)
        known = sorted(
            (o for o in self.calls.overviews() if is_ours(o.tags)),
            key=lambda o: (o.created_at, o.id),
            reverse=True,
        )
        raise item_not_found(ref, self.description, known)  # named from the listing: no reads

    # --- writes ---

    def _settle_title(self, created: Any, base: str) -> Any:
        """Rename ``created`` when another writer took its title meanwhile (the older keeps it)."""
        for _ in range(UPDATE_ATTEMPTS):
            overviews = self.calls.overviews(archived=True, fresh=True)
            same = [
                (o.created_at, o.id)
                for o in overviews
                if o.title == created.title and o.id != created.id
            ]
            if not same or min(same) > (created.created_at, created.id):
                return created
            title = allocate_title(base, {o.title for o in overviews})
            created = self._rename(created, title)
        return created

    def _rename(self, raw: Any, title: str) -> Any:
        for _ in range(UPDATE_ATTEMPTS):
            try:
                return self.calls.put(raw.model_copy(update={"title": title}))
            except StaleItem:
                raw = self.calls.get(raw.id)
        raise VaultUnavailable(
            f"Could not rename '{raw.title}' in 1Password: it kept changing. "
            f"Rename it by hand to '{title}'."
        )

    def _update(self, ref: str, change: Callable[[HandoffItem], HandoffItem]) -> HandoffItem:
        """Get, modify, put; a stale version is re-read and ``change`` applied again."""
        raw = self._raw(ref)
        for _ in range(UPDATE_ATTEMPTS):
            current = self._convert_or_missing(raw, ref)
            changed = change(current)
            if changed is current:
                return current
            try:
                saved = self._convert_or_missing(self.calls.put(apply_handoff(raw, changed)), ref)
            except StaleItem:
                raw = self.calls.get(raw.id)
                continue
            return _checked(changed, saved)
        raise VaultUnavailable(
            f"'{raw.title}' kept changing in 1Password while saving it. Try again in a moment."
        )
