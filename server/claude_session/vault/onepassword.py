"""The ClaudeSync vault in 1Password, through ``onepassword-sdk`` (SPEC section 5).

Items. One Secure Note per hand-off, titled ``session-{project}-{date}`` (``-2``, ``-3`` for
later ones that day), tagged ``claudesync`` and the project. Fields ``context`` and
``claude_ai_response`` (empty until the user pastes claude.ai's answer) sit at the top; the
metadata (project, branch, timestamp, session_id, machine, repository, kind, created_at,
updated_at, imported_at, imported_sha256) in a section below them; the transfer prompt is the
note's text, so it is one click to copy. "Imported" is stored as the hash of the answer that was
merged: an answer the user replaces in the 1Password app is pending again, as with the local
vault.

The SDK is async and signs in over the network on every ``authenticate``. So one client per
process and credentials, made and used on a private event loop in a daemon thread: the vault's
methods are synchronous and safe to call from inside a running loop (the MCP server's), where
``asyncio.run`` would fail.

Concurrency. 1Password has no locks. Titles: taken under a process lock, then checked after
creation; when another machine took the same title at the same time, the later item (by
creation time, then id) renames itself to the next free title. Changes: get, modify, put; a
stale version is re-read and the change applied again.

Failures. ``translate`` is the one place where the SDK's exceptions (bare ``Exception`` with a
message, ``RateLimitExceededException``, ``FileNotFoundError`` from the desktop integration)
become ours, with messages that say what to do and never the token. When 1Password is
configured, a failure is an error, never a silent switch to the local vault: ``lifecycle.Core``
has already written the context locally and keeps a pending request that the next ``start`` or
``sync`` turns into the 1Password item, where the other side of the round trip looks for it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import os
import threading
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime, timezone
from typing import Any, TypeVar

import onepassword  # type: ignore[import-untyped]
from onepassword import (
    ItemCategory,
    ItemCreateParams,
    ItemField,
    ItemFieldType,
    ItemSection,
    ItemState,
)
from onepassword.errors import RateLimitExceededException  # type: ignore[import-untyped]
from pydantic import ValidationError

from claude_session import __version__
from claude_session.config import Settings
from claude_session.errors import ItemNotFound, VaultAuthError, VaultError, VaultUnavailable
from claude_session.models import utcnow
from claude_session.paths import safe_name
from claude_session.redact import redact
from claude_session.vault.base import (
    TAG,
    HandoffItem,
    ItemKind,
    Vault,
    allocate_title,
    as_utc,
    base_title,
    item_not_found,
    matches,
    newest_first,
)

T = TypeVar("T")

#: ``Client.authenticate``'s shape: (auth, integration_name, integration_version) -> client.
Authenticate = Callable[[Any, str, str], Coroutine[Any, Any, Any]]

INTEGRATION_NAME = "claude-session"
DEFAULT_TIMEOUT = 30.0
BATCH = 50  # items.get_all takes at most 50 ids
UPDATE_ATTEMPTS = 5

TOP_FIELDS = ("context", "claude_ai_response")
META_FIELDS = ("project", "branch", "timestamp", "session_id", "machine", "repository", "kind",
               "created_at", "updated_at", "imported_at", "imported_sha256")
SECTION = "claudesync"


# --- the private event loop ------------------------------------------------------------------


class _Loop:
    """An event loop running forever in a daemon thread: where every SDK coroutine runs."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                       name="claude-session-1password")
        self.thread.start()


_LOCK = threading.RLock()
_LOOP: _Loop | None = None
_CLIENTS: dict[tuple[object, str], Any] = {}
_VAULT_IDS: dict[tuple[object, str, str], str] = {}
_TITLE_LOCKS: dict[str, threading.Lock] = {}


def _loop() -> _Loop:
    global _LOOP
    with _LOCK:
        if _LOOP is None or _LOOP.pid != os.getpid():
            # A forked child has the parent's loop object but not its thread: start afresh.
            _LOOP = _Loop()
            _CLIENTS.clear()
            _VAULT_IDS.clear()
        return _LOOP


def run_sync(coro: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT) -> T:
    """Run ``coro`` on the private loop and wait for it, from any thread or running loop."""
    runner = _loop()
    if threading.current_thread() is runner.thread:
        coro.close()
        raise RuntimeError("run_sync called from the 1Password loop itself (would deadlock)")
    future = asyncio.run_coroutine_threadsafe(coro, runner.loop)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:  # an alias of TimeoutError from 3.11 only
        future.cancel()
        raise TimeoutError(f"no answer within {timeout:g} s") from None


# --- clients: one per process and credentials ------------------------------------------------


def uses_desktop(settings: Settings) -> bool:
    return not settings.op_token and bool(settings.op_account)


def auth_for(settings: Settings) -> Any:
    """What ``Client.authenticate`` takes: the service account token, else the desktop app."""
    if settings.op_token:
        return settings.op_token
    if settings.op_account:
        return onepassword.DesktopAuth(account_name=settings.op_account)
    raise VaultAuthError("No 1Password credentials: set OP_SERVICE_ACCOUNT_TOKEN to a service "
                         "account token, or CLAUDE_SESSION_OP_ACCOUNT to the account name the "
                         "1Password desktop app signs in to.")


def _fingerprint(settings: Settings) -> str:
    """A cache key for the credentials that does not hold them."""
    raw = settings.op_token or f"desktop:{settings.op_account}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _authenticator(authenticate: Authenticate | None) -> Authenticate:
    return authenticate or onepassword.Client.authenticate


def connect(settings: Settings, *, authenticate: Authenticate | None = None,
            timeout: float = DEFAULT_TIMEOUT) -> Any:
    """The process's client for these credentials, signing in the first time only.

    Raises the SDK's own exceptions: callers translate them (see ``translate``)."""
    fn = _authenticator(authenticate)
    key = (fn, _fingerprint(settings))
    with _LOCK:  # threads racing here must not sign in twice
        _loop()
        client = _CLIENTS.get(key)
        if client is None:
            client = run_sync(fn(auth_for(settings), INTEGRATION_NAME, __version__), timeout)
            _CLIENTS[key] = client
        return client


def forget(settings: Settings, authenticate: Authenticate | None = None) -> None:
    """Drop the cached client (after the service rejected it): the next call signs in again."""
    fn = _authenticator(authenticate)
    with _LOCK:
        _CLIENTS.pop((fn, _fingerprint(settings)), None)
        for key in [k for k in _VAULT_IDS if k[:2] == (fn, _fingerprint(settings))]:
            del _VAULT_IDS[key]


# --- the one boundary where the SDK's exceptions become ours ----------------------------------


class StaleItem(VaultError):
    """Internal: a put lost a race with another writer; re-read and try again."""


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given secrets or anything else that looks like one."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    return redact(text)[0]


_NETWORK = ("error sending request", "request timeout", "timed out", "connection", "dns",
            "network", "request library compatibility", "unreachable", "tls", "certificate")
_MALFORMED = ("invalid format", "base64 decoding failed", "deserialization failed",
              "invalid service account token")
_REJECTED = ("please rotate", "not authenticated", "session expired", "bad credentials",
             "401", "unauthorized", "invalid user auth parameters")
_FORBIDDEN = ("permission", "403", "forbidden")
_NOT_FOUND = ("resource not found", "couldn't be found", "not found")


def _has(text: str, needles: Iterable[str]) -> bool:
    return any(needle in text for needle in needles)


def translate(exc: BaseException, *, action: str, settings: Settings,
              writing: bool = False) -> VaultError:
    """Our error for what the SDK raised while doing ``action`` (a phrase: 'creating X')."""
    detail = scrub(str(exc) or type(exc).__name__, [settings.op_token])
    low = detail.lower()
    desktop = uses_desktop(settings)
    vault = settings.vault_name
    if isinstance(exc, RateLimitExceededException) or "rate limit" in low:
        return VaultUnavailable(
            f"1Password's rate limit was reached while {action}. Service accounts have hourly "
            f"and daily limits: wait a while, then run `claude-session sync`.")
    if isinstance(exc, FileNotFoundError):
        return VaultUnavailable(
            "The 1Password desktop app was not found on this machine, so "
            "CLAUDE_SESSION_OP_ACCOUNT cannot be used. Install the app and turn on Settings > "
            "Developer > Integrate with other apps, or set OP_SERVICE_ACCOUNT_TOKEN instead.")
    if isinstance(exc, ImportError):
        return VaultUnavailable(
            f"onepassword-sdk cannot run on this machine ({detail}). Unset "
            f"OP_SERVICE_ACCOUNT_TOKEN and CLAUDE_SESSION_OP_ACCOUNT to use the local vault.")
    if isinstance(exc, (TimeoutError, concurrent.futures.TimeoutError)):
        return VaultUnavailable(f"1Password did not answer while {action} ({detail}). Check the "
                                f"network connection, then try again or run "
                                f"`claude-session sync`.")
    if "not up to date" in low:
        return StaleItem(f"The item changed in 1Password while {action}.")
    if "token was not specified" in low:
        return VaultAuthError("OP_SERVICE_ACCOUNT_TOKEN is empty. Set it to a 1Password service "
                              "account token (it starts with ops_), or unset it to use the "
                              "local vault.")
    if _has(low, _MALFORMED):
        return VaultAuthError(
            "OP_SERVICE_ACCOUNT_TOKEN does not hold a valid 1Password service account token "
            "(malformed or cut short). Copy the whole token (it starts with ops_) or create a "
            "new one in 1Password (Developer > Service Accounts).")
    if "account couldn't be found" in low and desktop:
        return VaultAuthError(
            f"The 1Password desktop app has no account named '{settings.op_account}'. Set "
            f"CLAUDE_SESSION_OP_ACCOUNT to the account name shown at the top of the app's "
            f"sidebar.")
    if _has(low, _REJECTED):
        if desktop:
            return VaultAuthError("The 1Password desktop app refused the request: unlock the "
                                  "app, approve the access prompt, and try again.")
        return VaultAuthError(
            "1Password rejected the service account token in OP_SERVICE_ACCOUNT_TOKEN: it has "
            "expired or was revoked. Create a new token for the service account (1Password > "
            "Developer > Service Accounts) and set OP_SERVICE_ACCOUNT_TOKEN to it.")
    if _has(low, _FORBIDDEN):
        verb = "write to" if writing else "read"
        return VaultUnavailable(
            f"The 1Password {'account' if desktop else 'service account'} may not {verb} the "
            f"vault '{vault}'. Give it read and write access to '{vault}' (a service account "
            f"gets its vaults when it is created: make a new one if needed), or set "
            f"CLAUDE_SESSION_VAULT to a vault it can write.")
    if _has(low, _NETWORK):
        return VaultUnavailable(
            f"1Password cannot be reached while {action} (network down or 1Password "
            f"unavailable). Check the connection, then try again or run `claude-session sync`.")
    if isinstance(exc, RuntimeError) and desktop:
        return VaultUnavailable(f"The 1Password desktop app did not answer ({detail}). Open and "
                                f"unlock it, then try again.")
    if _has(low, _NOT_FOUND):
        return ItemNotFound(f"1Password found nothing while {action} ({detail}).")
    return VaultUnavailable(f"1Password failed while {action}: {detail}. Try again; if it keeps "
                            f"failing, run `claude-session doctor`.")


# --- items: 1Password's shape and ours -------------------------------------------------------


def answer_hash(answer: str) -> str:
    return hashlib.sha256(answer.encode("utf-8")).hexdigest()


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
    return ItemField(id=name, title=name, field_type=ItemFieldType.TEXT, value=value,
                     section_id=None if name in TOP_FIELDS else SECTION)


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


def _naive_utc(moment: datetime) -> datetime:
    """The SDK's datetimes are naive UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def to_handoff(raw: Any) -> HandoffItem:
    """The hand-off item in a 1Password item; ValueError when it is not one of ours."""
    if TAG not in raw.tags:
        raise ValueError(f"it is not tagged '{TAG}'")
    values = _read_fields(raw)
    if "context" not in values:
        raise ValueError("it has no 'context' field")
    answer = values.get("claude_ai_response", "")
    imported = bool(values.get("imported_sha256")) and values["imported_sha256"] == \
        answer_hash(answer)
    created = values.get("created_at") or _naive_utc(raw.created_at)

    def opt(name: str) -> str | None:
        return values.get(name) or None

    return HandoffItem.model_validate({
        "id": raw.id, "title": raw.title, "project": values.get("project") or raw.title,
        "branch": opt("branch"), "timestamp": values.get("timestamp") or created,
        "session_id": opt("session_id"), "machine": opt("machine"),
        "repository": opt("repository"), "kind": values.get("kind") or "handoff",
        "context": values["context"], "transfer_prompt": raw.notes or "",
        "claude_ai_response": answer, "imported": imported,
        "imported_at": opt("imported_at") if imported else None, "tags": list(raw.tags),
        "created_at": created,
        "updated_at": values.get("updated_at") or _naive_utc(raw.updated_at),
    })


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
    return raw.model_copy(update={"title": item.title, "fields": fields, "sections": sections,
                                  "notes": item.transfer_prompt, "tags": tags})


def _with_response(item: HandoffItem, response: str) -> HandoffItem:
    if response == item.claude_ai_response:
        return item
    # A new answer is new material: it must be merged even if an older one was.
    return item.model_copy(update={"claude_ai_response": response, "imported": False,
                                   "imported_at": None, "updated_at": utcnow()})


def _with_imported(item: HandoffItem, now: datetime | None) -> HandoffItem:
    if item.imported:
        return item
    moment = as_utc(now)
    return item.model_copy(update={"imported": True, "imported_at": moment,
                                   "updated_at": moment})


async def _get_all(client: Any, *, vault_id: str, ids: list[str]) -> Any:
    return await client.items.get_all(vault_id, ids)


def _title_lock(vault_id: str) -> threading.Lock:
    with _LOCK:
        return _TITLE_LOCKS.setdefault(vault_id, threading.Lock())


def _is_item_id(ref: str) -> bool:
    # 1Password ids are 26 characters of lowercase base32; anything else is a title.
    return len(ref) == 26 and ref.isalnum() and ref == ref.lower()


# --- the vault ------------------------------------------------------------------------------


class OnePasswordVault(Vault):
    """Hand-off items in a 1Password vault (``ClaudeSync`` unless ``CLAUDE_SESSION_VAULT``)."""

    kind = "1password"

    def __init__(self, settings: Settings, *, authenticate: Authenticate | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.settings = settings
        self.vault_name = settings.vault_name
        how = (f"desktop app, account '{settings.op_account}'" if uses_desktop(settings)
               else "service account")
        self.description = f"1Password vault '{self.vault_name}' ({how})"
        self.warnings: list[str] = []
        self._authenticate = authenticate
        self._timeout = timeout
        self._vault_id: str | None = None
        self._warned: set[str] = set()

    # --- the interface ---

    def create_item(self, *, project: str, branch: str | None, session_id: str | None,
                    machine: str | None, repository: str | None, context: str,
                    transfer_prompt: str = "", kind: ItemKind = "handoff",
                    now: datetime | None = None) -> HandoffItem:
        moment = as_utc(now)
        base = base_title(project, moment)
        vault_id = self._vault()
        with _title_lock(vault_id):  # threads of this process never race for a title
            taken = {o.title for o in self._overviews(active_only=False)}
            item = HandoffItem(
                id="new", title=allocate_title(base, taken), project=project, branch=branch,
                timestamp=moment, session_id=session_id, machine=machine,
                repository=repository, kind=kind, context=context,
                transfer_prompt=transfer_prompt, tags=[TAG, safe_name(project)],
                created_at=moment, updated_at=moment,
            )
            params = ItemCreateParams(
                category=ItemCategory.SECURENOTE, vault_id=vault_id, title=item.title,
                fields=build_fields(item), sections=[ItemSection(id=SECTION, title="ClaudeSync")],
                notes=transfer_prompt, tags=item.tags)
            created = self._call(f"creating '{item.title}' in the vault '{self.vault_name}'",
                                 lambda c: c.items.create(params), writing=True)
        return to_handoff(self._settle_title(created, base))

    def list_items(self, *, project: str | None = None,
                   repository: str | None = None) -> list[HandoffItem]:
        found = [i for i in self._handoffs() if matches(i, project=project, repository=repository)]
        return newest_first(found)

    def get_item(self, ref: str) -> HandoffItem:
        return self._convert_or_missing(self._raw(ref), ref)

    def set_response(self, ref: str, response: str) -> HandoffItem:
        return self._update(ref, lambda item: _with_response(item, response))

    def mark_imported(self, ref: str, *, now: datetime | None = None) -> HandoffItem:
        return self._update(ref, lambda item: _with_imported(item, now))

    # --- calls: every SDK call goes through here ---

    def _call(self, action: str, work: Callable[[Any], Coroutine[Any, Any, T]], *,
              writing: bool = False) -> T:
        try:
            client = connect(self.settings, authenticate=self._authenticate,
                             timeout=self._timeout)
            return run_sync(work(client), self._timeout)
        except VaultError:
            raise
        except Exception as exc:
            error = translate(exc, action=action, settings=self.settings, writing=writing)
            if isinstance(error, VaultAuthError):
                forget(self.settings, self._authenticate)
            # Keep the cause for debugging unless it could show the token.
            cause = exc if not (self.settings.op_token and self.settings.op_token in str(exc)) \
                else None
            raise error from cause

    def _vault(self) -> str:
        """The vault's id, found by name once per process."""
        if self._vault_id is not None:
            return self._vault_id
        key = (_authenticator(self._authenticate), _fingerprint(self.settings), self.vault_name)
        with _LOCK:
            cached = _VAULT_IDS.get(key)
        if cached is None:
            vaults = self._call(f"looking for the vault '{self.vault_name}'",
                                lambda c: c.vaults.list())
            cached = self._pick_vault(vaults)
            with _LOCK:
                _VAULT_IDS[key] = cached
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
            f"read and write access to it, or set CLAUDE_SESSION_VAULT to a vault it can write.")

    def _overviews(self, *, active_only: bool = True) -> list[Any]:
        vault_id = self._vault()
        found: list[Any] = self._call(f"listing the items of the vault '{self.vault_name}'",
                                      lambda c: c.items.list(vault_id))
        return [o for o in found if not active_only or o.state == ItemState.ACTIVE]

    def _fetch(self, ids: list[str]) -> list[Any]:
        """Full items, 50 to a call; ids deleted meanwhile are left out."""
        vault_id = self._vault()
        items: list[Any] = []
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            reply = self._call(f"reading items of the vault '{self.vault_name}'",
                               functools.partial(_get_all, vault_id=vault_id, ids=chunk))
            items.extend(r.content for r in reply.individual_responses if r.content is not None)
        return items

    def _get(self, item_id: str) -> Any:
        vault_id = self._vault()
        return self._call(f"reading an item of the vault '{self.vault_name}'",
                          lambda c: c.items.get(vault_id, item_id))

    def _put(self, raw: Any) -> Any:
        return self._call(f"saving '{raw.title}' in the vault '{self.vault_name}'",
                          lambda c: c.items.put(raw), writing=True)

    # --- conversions ---

    def _convert(self, raw: Any) -> HandoffItem | None:
        try:
            return to_handoff(raw)
        except (ValueError, ValidationError) as exc:
            if TAG in raw.tags and raw.id not in self._warned:
                self._warned.add(raw.id)
                self.warnings.append(f"1Password item '{raw.title}' ({raw.id}) is tagged "
                                     f"'{TAG}' but is not a readable hand-off item ({exc}); "
                                     f"it is left alone.")
            return None

    def _convert_or_missing(self, raw: Any, ref: str) -> HandoffItem:
        item = self._convert(raw)
        if item is None:
            raise ItemNotFound(f"1Password item '{ref}' in the {self.description} is not a "
                               f"readable hand-off item. Pick another one (`claude-session "
                               f"import --item TITLE`).")
        return item

    def _handoffs(self) -> list[HandoffItem]:
        ids = [o.id for o in self._overviews() if TAG in o.tags]
        converted = (self._convert(raw) for raw in self._fetch(ids))
        return [item for item in converted if item is not None]

    def _raw(self, ref: str) -> Any:
        """The 1Password item with this id, or this exact title among ClaudeSync items."""
        if _is_item_id(ref):
            try:
                raw = self._get(ref)
            except ItemNotFound:
                raw = None
            if raw is not None and TAG in raw.tags:
                return raw
        named = sorted((o for o in self._overviews() if o.title == ref and TAG in o.tags),
                       key=lambda o: (o.created_at, o.id))
        if named:
            return self._get(named[0].id)
        raise item_not_found(ref, self.description, newest_first(self._handoffs()))

    # --- writes ---

    def _settle_title(self, created: Any, base: str) -> Any:
        """Rename ``created`` when another writer took its title meanwhile (the older keeps it)."""
        for _ in range(UPDATE_ATTEMPTS):
            overviews = self._overviews(active_only=False)
            same = [(o.created_at, o.id) for o in overviews
                    if o.title == created.title and o.id != created.id]
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
        raise VaultUnavailable(f"Could not rename '{raw.title}' in 1Password: it kept changing. "
                               f"Rename it by hand to '{title}'.")

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
        raise VaultUnavailable(f"'{raw.title}' kept changing in 1Password while saving it. Try "
                               f"again in a moment.")
