"""The ClaudeSync vault in 1Password, through ``onepassword-sdk`` (SPEC section 5).

Items. One Secure Note per hand-off, titled ``session-{project}-{date}`` (``-2``, ``-3`` for
later ones that day), tagged ``claudesync`` and the project. Fields ``context`` and
``claude_ai_response`` (empty until the user pastes claude.ai's answer) sit at the top; the
metadata (project, branch, timestamp, session_id, machine, repository, kind, creation_id,
created_at, updated_at, imported_at, imported_sha256) in a section below them; the transfer
prompt is the note's text, so it is one click to copy. "Imported" is stored as the hash of the
answer that was merged: an answer the user replaces in the 1Password app is pending again, as
with the local vault. ``creation_id`` is the creator's id for the hand-off: a create that timed
out after 1Password stored the item is found by it, not made twice.

Few calls. ``items.list`` is the SDK's only listing and filters by state alone
(``ItemListFilter`` is ``ItemListFilterByState`` in 0.4.2), so the project's items are picked
from its overviews (title and tags, no field values) before any item is read: an item carries
the tag ``claudesync-repo-<hash>`` of its project's identity (the repository across machines, or
the folder without an ``origin``; ``identity_tag``). Items made before that tag existed carry
only ``claudesync`` and the project's name as tags, and are picked by that name (or their
default title) and then checked by the repository they recorded; one that is written again gets
the identity tag. So a command reads one listing and this project's items, however many other
projects share the vault.

Archived items. ``items.list`` returns only active items unless asked for both
(``BOTH_STATES``): titles are allocated against both, hand-offs are read from active ones only,
and an item that turns out to be archived is never written (``ItemRefused``).

Calls. Everything goes through ``op_sdk.Session``: one time budget per command, errors
translated there. The listing and the items read are kept for the rest of the command
(``Budget.memo``): a create drops them, a put replaces the item it saved, so a command lists the
vault and reads each item once.

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

import functools
import hashlib
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

from onepassword import (  # type: ignore[import-untyped]
    ItemCategory,
    ItemCreateParams,
    ItemField,
    ItemFieldType,
    ItemListFilterByState,
    ItemListFilterByStateInner,
    ItemSection,
    ItemState,
)
from pydantic import ValidationError

from claude_session.base import flow
from claude_session.base.clock import as_utc
from claude_session.base.redact import redact
from claude_session.config import Settings
from claude_session.errors import ItemNotFound, ItemRefused, StaleItem, VaultUnavailable
from claude_session.models import PendingHandoff
from claude_session.paths import safe_name
from claude_session.vault.base import (
    IDENTITY_PREFIX,
    TAG,
    HandoffItem,
    Vault,
    allocate_title,
    identity_tag,
    item_not_found,
    matches,
    new_item,
    newest_first,
    wanted_title,
    with_imported,
    with_response,
)
from claude_session.vault.op_sdk import (  # noqa: F401 - re-exported for callers and tests
    DEADLINE,
    INTEGRATION_NAME,
    VAULT_IDS,
    Authenticate,
    Session,
    authenticator,
    connect,
    fingerprint,
    forget,
    run_sync,
    translate,
    uses_desktop,
)

__all__ = [
    "DEADLINE",
    "Authenticate",
    "OnePasswordVault",
    "connect",
    "forget",
    "run_sync",
    "to_handoff",
    "translate",
]

T = TypeVar("T")

BATCH = 50  # items.get_all takes at most 50 ids
UPDATE_ATTEMPTS = 5

TOP_FIELDS = ("context", "claude_ai_response")
META_FIELDS = (
    "project",
    "branch",
    "timestamp",
    "session_id",
    "machine",
    "repository",
    "kind",
    "creation_id",
    "created_at",
    "updated_at",
    "imported_at",
    "imported_sha256",
)
SECTION = "claudesync"
BOTH_STATES = ItemListFilterByState(content=ItemListFilterByStateInner(active=True, archived=True))

_TITLE_LOCKS: dict[str, threading.Lock] = {}

# --- items: 1Password's shape and ours -------------------------------------------------------


def _names(project: str | None) -> set[str]:
    """The name tags an item of ``project`` may carry (the name as given, and redacted as the
    item stores it), case-folded."""
    if project is None:
        return set()
    return {safe_name(project).casefold(), safe_name(redact(project)[0]).casefold()}


def belongs(overview: Any, *, project: str | None, repository: str | None) -> bool:
    """Whether the item behind ``overview`` (title and tags only) may be ``project``'s: the
    test made before reading it. ``matches`` on the item read decides."""
    tags = {t.casefold() for t in overview.tags}
    if TAG not in tags:
        return False
    if project is None and repository is None:
        return True
    identities = {t for t in tags if t.startswith(IDENTITY_PREFIX)}
    if identities and repository is not None:
        return identity_tag(repository) in identities
    names = _names(project)
    if not names:  # asked by repository alone: an item without the tag must be read to tell
        return not identities
    title = overview.title.casefold()
    return bool(names & tags) or any(title.startswith(f"session-{n}-") for n in names)


def answer_hash(answer: str) -> str:
    """The hash of the answer's words: the 1Password app re-saving the field on one line (it
    drops line breaks) does not make an imported answer new."""
    return hashlib.sha256(" ".join(answer.split()).encode("utf-8")).hexdigest()


def _is_imported(stored: str | None, answer: str) -> bool:
    exact = hashlib.sha256(answer.encode("utf-8")).hexdigest()  # items written before 0.1.1
    return bool(stored) and stored in (answer_hash(answer), exact)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return str(value)


def field_values(item: HandoffItem) -> dict[str, str]:
    """Every field we store, as the strings 1Password holds."""
    values = {name: _text(getattr(item, name)) for name in TOP_FIELDS + META_FIELDS[:-1]}
    values["imported_sha256"] = answer_hash(item.claude_ai_response) if item.imported else ""
    if not item.imported:
        values["imported_at"] = ""
    return values


def _field(name: str, value: str) -> Any:
    return ItemField(
        id=name,
        title=name,
        field_type=ItemFieldType.TEXT,
        value=value,
        section_id=None if name in TOP_FIELDS else SECTION,
    )


def build_fields(item: HandoffItem) -> list[Any]:
    return [_field(name, value) for name, value in field_values(item).items()]


def _read_fields(raw: Any) -> dict[str, str]:
    """Our fields by id, else by title (a field re-created by hand gets a random id)."""
    values: dict[str, str] = {}
    for f in raw.fields:
        if f.title in TOP_FIELDS + META_FIELDS:
            values.setdefault(f.title, f.value)
    for f in raw.fields:
        if f.id in TOP_FIELDS + META_FIELDS:
            values[f.id] = f.value
    return values


def to_handoff(raw: Any) -> HandoffItem:
    """The hand-off item in a 1Password item; ValueError when it is not one of ours."""
    if TAG not in raw.tags:
        raise ValueError(f"it is not tagged '{TAG}'")
    values = _read_fields(raw)
    if "context" not in values:
        raise ValueError("it has no 'context' field")
    answer = values.get("claude_ai_response", "")
    imported = _is_imported(values.get("imported_sha256"), answer)
    created = values.get("created_at") or as_utc(raw.created_at)

    def opt(name: str) -> str | None:
        return values.get(name) or None

    return HandoffItem.model_validate(
        {
            "id": raw.id,
            "title": raw.title,
            "project": values.get("project") or raw.title,
            "branch": opt("branch"),
            "timestamp": values.get("timestamp") or created,
            "session_id": opt("session_id"),
            "machine": opt("machine"),
            "repository": opt("repository"),
            "kind": values.get("kind") or "handoff",
            "creation_id": opt("creation_id"),
            "context": values["context"],
            "transfer_prompt": raw.notes or "",
            "claude_ai_response": answer,
            "imported": imported,
            "imported_at": opt("imported_at") if imported else None,
            "tags": list(raw.tags),
            "created_at": created,
            "updated_at": values.get("updated_at") or as_utc(raw.updated_at),
        }
    )


def apply_handoff(raw: Any, item: HandoffItem) -> Any:
    """``raw`` carrying ``item``'s values; fields, sections and tags the user added are kept."""
    values = field_values(item)
    fields = []
    for f in raw.fields:
        name = f.id if f.id in values else f.title if f.title in values else None
        if name is None:
            fields.append(f)
        else:
            fields.append(f.model_copy(update={"value": values.pop(name)}))
    fields.extend(_field(name, value) for name, value in values.items())
    sections = list(raw.sections or [])
    if not any(s.id == SECTION for s in sections):
        sections.append(ItemSection(id=SECTION, title="ClaudeSync"))
    tags = list(raw.tags) if TAG in raw.tags else [TAG, *raw.tags]
    if item.repository and not any(t.startswith(IDENTITY_PREFIX) for t in tags):
        tags.append(identity_tag(item.repository))  # an item made before the tag existed
    return raw.model_copy(
        update={
            "title": item.title,
            "fields": fields,
            "sections": sections,
            "notes": item.transfer_prompt,
            "tags": tags,
        }
    )


async def _get_all(client: Any, *, vault_id: str, ids: list[str]) -> Any:
    return await client.items.get_all(vault_id, ids)


_TITLE_LOCKS_LOCK = threading.Lock()


def _title_lock(vault_id: str) -> threading.Lock:
    with _TITLE_LOCKS_LOCK:
        return _TITLE_LOCKS.setdefault(vault_id, threading.Lock())


def _is_item_id(ref: str) -> bool:
    # 1Password ids are 26 characters of lowercase base32; anything else is a title.
    return len(ref) == 26 and ref.isalnum() and ref == ref.lower()


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
    ) -> None:
        """``deadline``: the seconds each command may spend on 1Password (default: the
        ``op_deadline`` setting, 5 s unless set)."""
        self.settings = settings
        self.vault_name = settings.vault_name
        how = (
            f"desktop app, account '{settings.op_account}'"
            if uses_desktop(settings)
            else "service account"
        )
        self.description = f"1Password vault '{self.vault_name}' ({how})"
        self._authenticate = authenticate
        seconds = settings.op_deadline if deadline is None else deadline
        self._session = Session(settings, authenticate=authenticate, deadline=seconds)
        self._vault_id: str | None = None
        self._warned: set[str] = set()
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
        vault_id = self._vault()
        with _title_lock(vault_id):  # threads of this process never race for a title
            taken = {o.title for o in self._overviews(archived=True, fresh=True)}
            item = new_item(request, taken)
            params = ItemCreateParams(
                category=ItemCategory.SECURENOTE,
                vault_id=vault_id,
                title=item.title,
                fields=build_fields(item),
                sections=[ItemSection(id=SECTION, title="ClaudeSync")],
                notes=item.transfer_prompt,
                tags=item.tags,
            )
            created = self._write(
                f"creating '{item.title}' in the vault '{self.vault_name}'",
                lambda c: c.items.create(params),
            )
        return to_handoff(self._settle_title(created, wanted_title(request)))

    def find_created(self, request: PendingHandoff) -> HandoffItem | None:
        """Only the project's items titled for that day are read (archived ones included): a
        title always holds the date (``{date}`` is required in ``item_title``)."""
        day = as_utc(request.now).date().isoformat()
        ids = [
            o.id
            for o in self._overviews(archived=True)
            if day in o.title and belongs(o, project=request.project, repository=request.repository)
        ]
        for raw in self._fetch(ids):
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
        return sum(1 for o in self._overviews() if TAG in o.tags)

    def get_item(self, ref: str) -> HandoffItem:
        return self._convert_or_missing(self._raw(ref), ref)

    def set_response(self, ref: str, response: str) -> HandoffItem:
        return self._update(ref, lambda item: with_response(item, response))

    def mark_imported(self, ref: str, *, now: datetime | None = None) -> HandoffItem:
        return self._update(ref, lambda item: with_imported(item, now))

    def check(self) -> str:
        """Sign in and find the vault, within the command's budget (``doctor``)."""
        self._vault()
        return f"{self.description}: signed in, vault found"

    # --- calls: every SDK call goes through the session ---

    def _read(self, action: str, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
        return self._session.call(action, work)

    def _write(self, action: str, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
        self._session.budget().memo.clear()  # whatever was read may change now
        return self._session.call(action, work, writing=True)

    def _vault(self) -> str:
        """The vault's id, found by name once per process."""
        if self._vault_id is not None:
            return self._vault_id
        key = (authenticator(self._authenticate), fingerprint(self.settings), self.vault_name)
        cached = VAULT_IDS.get(key)
        if cached is None:
            vaults = self._read(
                f"looking for the vault '{self.vault_name}'", lambda c: c.vaults.list()
            )
            cached = self._pick_vault(vaults)
            VAULT_IDS[key] = cached
        self._vault_id = cached
        return cached

    def _pick_vault(self, vaults: list[Any]) -> str:
        exact = [v for v in vaults if v.title == self.vault_name]
        loose = [v for v in vaults if v.title.casefold() == self.vault_name.casefold()]
        if exact or loose:
            return str((exact or loose)[0].id)
        seen = ", ".join(sorted(f"'{v.title}'" for v in vaults)[:10]) or "none"
        who = "account" if uses_desktop(self.settings) else "service account"
        raise VaultUnavailable(
            f"There is no 1Password vault named '{self.vault_name}' that the {who} can see "
            f"(it sees: {seen}). Create a vault named '{self.vault_name}' and give the {who} "
            f"read and write access to it, or set CLAUDE_SESSION_VAULT to a vault it can write."
        )

    def _overviews(self, *, archived: bool = False, fresh: bool = False) -> list[Any]:
        """The vault's items, active and archived (one listing per command unless ``fresh``);
        only the active ones unless ``archived``."""
        vault_id = self._vault()
        memo = self._session.budget().memo
        found: list[Any] | None = None if fresh else memo.get("overviews")
        if found is None:
            found = self._read(
                f"listing the items of the vault '{self.vault_name}'",
                lambda c: c.items.list(vault_id, BOTH_STATES),
            )
            memo["overviews"] = found
        return [o for o in found if archived or o.state == ItemState.ACTIVE]

    def _state_of(self, item_id: str) -> Any:
        for o in self._overviews(archived=True):
            if o.id == item_id:
                return o.state
        return None

    def _fetch(self, ids: list[str]) -> list[Any]:
        """Full items, 50 to a call, each read once per command; ids deleted meanwhile are
        left out."""
        vault_id = self._vault()
        memo: dict[str, Any] = self._session.budget().memo.setdefault("items", {})
        wanted = [i for i in ids if i not in memo]
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            reply = self._read(
                f"reading items of the vault '{self.vault_name}'",
                functools.partial(_get_all, vault_id=vault_id, ids=chunk),
            )
            for item_id, response in zip(chunk, reply.individual_responses, strict=False):
                if response.content is not None:
                    memo[item_id] = response.content
                elif response.error is not None and "internal" in str(response.error).lower():
                    self._warn_once(
                        item_id,
                        f"1Password could not read the item {item_id} "
                        f"({response.error}); it is left out.",
                    )
        return [memo[i] for i in ids if i in memo]

    def _get(self, item_id: str) -> Any:
        vault_id = self._vault()
        return self._read(
            f"reading an item of the vault '{self.vault_name}'",
            lambda c: c.items.get(vault_id, item_id),
        )

    def _put(self, raw: Any) -> Any:
        if self._state_of(raw.id) == ItemState.ARCHIVED:
            raise ItemRefused(
                f"'{raw.title}' is archived in 1Password, so it is not changed. "
                f"Restore it in the 1Password app (Archive > Restore) or pick "
                f"another item."
            )
        saved = self._session.call(
            f"saving '{raw.title}' in the vault '{self.vault_name}'",
            lambda c: c.items.put(raw),
            writing=True,
        )
        self._remember(saved)
        return saved

    def _remember(self, saved: Any) -> None:
        """What this command read, with the item it just saved: the memo stays true without
        listing and reading again (other writers are seen by the next command, as before)."""
        memo = self._session.budget().memo
        items = memo.get("items")
        if items is not None:
            items[saved.id] = saved
        overviews = memo.get("overviews")
        if overviews is not None:
            memo["overviews"] = [
                o.model_copy(update={"title": saved.title, "tags": list(saved.tags)})
                if o.id == saved.id
                else o
                for o in overviews
            ]

    # --- conversions ---

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            flow.warn(message)

    def _convert(self, raw: Any) -> HandoffItem | None:
        try:
            return to_handoff(raw)
        except (ValueError, ValidationError) as exc:
            if TAG in raw.tags:
                self._warn_once(
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
            o.id for o in self._overviews() if belongs(o, project=project, repository=repository)
        ]
        converted = (self._convert(raw) for raw in self._fetch(ids))
        return [item for item in converted if item is not None]

    def _raw(self, ref: str) -> Any:
        """The 1Password item with this id, or this exact title among active ClaudeSync items."""
        if _is_item_id(ref):
            memo = self._session.budget().memo.get("items", {})
            raw = memo.get(ref)
            if raw is None:
                try:
                    raw = self._get(ref)
                except ItemNotFound:
                    raw = None
            if raw is not None and TAG in raw.tags:
                return raw
        named = sorted(
            (o for o in self._overviews() if o.title == ref and TAG in o.tags),
            key=lambda o: (o.created_at, o.id),
        )
        if named:
            return self._get(named[0].id)
        known = sorted(
            (o for o in self._overviews() if TAG in o.tags),
            key=lambda o: (o.created_at, o.id),
            reverse=True,
        )
        raise item_not_found(ref, self.description, known)  # named from the listing: no reads

    # --- writes ---

    def _settle_title(self, created: Any, base: str) -> Any:
        """Rename ``created`` when another writer took its title meanwhile (the older keeps it)."""
        for _ in range(UPDATE_ATTEMPTS):
            overviews = self._overviews(archived=True, fresh=True)
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
                return self._put(raw.model_copy(update={"title": title}))
            except StaleItem:
                raw = self._get(raw.id)
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
                return self._convert_or_missing(self._put(apply_handoff(raw, changed)), ref)
            except StaleItem:
                raw = self._get(raw.id)
        raise VaultUnavailable(
            f"'{raw.title}' kept changing in 1Password while saving it. Try again in a moment."
        )
