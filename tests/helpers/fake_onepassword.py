"""A fake 1Password service below onepassword-sdk: it replaces only the SDK's native core
(``op_uniffi_core``'s ``init_client``/``invoke``/``release_client``, which ``UniffiCore``
awaits) and, for the desktop app, the IPC library's C functions that ``DesktopCore`` calls
through ``ctypes``. ``FakeOnePassword.authenticate`` is the SDK's own ``Client.authenticate``
with this fake as the core, so everything above it is the SDK's code: the client configuration,
``InnerClient``, request serialization (``model_dump(by_alias=True)``), the message limit, the
core's JSON errors turned into exceptions (``raise_typed_exception``), ``DesktopCore``'s
payloads and return codes, and the validation of every answer (``TypeAdapter``). A value the
backend gets wrong fails here as it would against 1Password.

How: ``onepassword.client`` makes its core by the names ``UniffiCore`` and ``DesktopCore``;
this module points them at subclasses that take the fake as their native side while a fake
signs in (a context variable), and are the SDK's own classes otherwise (the live tests).

It is as strict as the real service where we know how the real one behaves
(findings/onepassword.md):
- errors are the core's: ``{"name", "message"}`` JSON with the core's text (``strings
  libop_uniffi_core.so`` of onepassword-sdk 0.4.2), which the SDK raises as a bare
  ``Exception`` or ``RateLimitExceededException``; the desktop app's broken channel is the IPC
  library's return code (``RuntimeError`` with ``desktop_core.py``'s text), a missing app the
  SDK's ``FileNotFoundError``; a request over the message limit (``message_limit``, lower
  than the SDK's 50 MiB in tests) the SDK's ``ValueError``;
- ``items.list`` returns active items only unless given ``ItemListFilterByState``; archived
  items cannot be changed ("item is not in an active state") and are not used by
  ``secrets.resolve``;
- custom fields without a section are moved into an empty section (SDK >= 0.2.1); field ids and
  section links are validated with the core's messages; the integration name and version too;
- the 1Password app flattens a pasted multi-line answer into one line (``user_edits``), since
  fields made through the API are single-line there (with ``resave``, every such field of the
  item); a user may add a field of our name (``add_field``) or paste into the notes
  (``edit_notes``);
- a failure can carry the core's error name (``Named("Internal", ...)``); the desktop app can
  be gone when the SDK releases its client at exit (``release_fails``: the SDK prints);
- 1Password's published rate limits, counted per token, hour and account (``limits()``);
- failures a test switches on: ``fail(name, exc, times=)``, ``network_down()``,
  ``rate_limited()`` (every call limited at once), ``revoke(token)``, ``expire_sessions()``,
  ``conflict()``, ``stall()`` (a call that never answers, politely or blocking the loop like
  the desktop app's ctypes calls), ``answer_lost()``, ``desktop_fails()``, ``heal()``;
  ``before(name, fn)`` runs ``fn`` just before a call, to play another writer racing ours;
- with a ``FakeClock`` (``FakeOnePassword(clock=FakeClock())``, the same clock given to the
  vault), a stall or a lost answer moves that clock instead of sleeping: the caller's deadline
  is missed at once, and no test waits;
- every call is counted (``calls``, ``count``), and every item read in full (``read_ids``).

``items.list`` filters by state only, like the SDK (0.4.2's ``ItemListFilter`` is
``ItemListFilterByState`` and nothing else): picking a project's items by tag or title is the
caller's work on the overviews, which carry the stored title and tags as the service's do.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import ctypes
import json
import re
import secrets as _secrets
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, TypeVar

import onepassword
from onepassword import (
    Item,
    ItemCategory,
    ItemCreateParams,
    ItemField,
    ItemFieldType,
    ItemListFilterByState,
    ItemOverview,
    ItemSection,
    ItemState,
    VaultOverview,
)
from onepassword import client as sdk_client
from onepassword import core as sdk_core
from onepassword import desktop_core as sdk_desktop
from onepassword.core import MESSAGE_LIMIT
from onepassword.desktop_core import ERR_CHANNEL_CLOSED, ERR_CONNECTION_DROPPED
from onepassword.errors import DesktopSessionExpiredException, RateLimitExceededException
from pydantic import TypeAdapter

from claude_session.vault.op_sdk import Clock

T = TypeVar("T")

VALID_TOKEN = "ops_" + base64.b64encode(b'{"signInAddress":"fake.1password.com"}').decode()
OTHER_TOKEN = "ops_" + base64.b64encode(b'{"signInAddress":"other.1password.com"}').decode()

# Observed from the SDK offline (libs.md, findings/onepassword.md section 7).
NO_TOKEN = (
    "invalid user input: encountered the following errors: service account token was not specified"
)
MALFORMED = (
    "invalid user input: encountered the following errors: service account token had "
    "invalid format, please create another token"
)
MALFORMED_OPS = (
    "invalid service account token, please make sure you provide a valid service "
    "account token as parameter: service account deserialization failed, please "
    "create another token"
)
AUTH_UNREACHABLE = (
    "authentication error: request library compatibility issue, check that the "
    "your environment uses compatible versions: reqwest library: error sending "
    "request for url (<redacted URL>)"
)
# The core's texts (prefix + reason, as the core joins them).
REJECTED = "authentication error: bad service account token, please rotate it: "
CALL_UNAUTHENTICATED = "bad credentials, please retry: you are not authenticated"
SESSION_EXPIRED = "session expired"
CALL_UNREACHABLE = (
    "request library compatibility issue, check that the your environment uses "
    "compatible versions: reqwest library: error sending request for url "
    "(<redacted URL>)"
)
FORBIDDEN = (
    "you do not have the right permissions to perform this action: you don't have the "
    "right permissions to access this resource"
)
STALE = "The submitted item is not up to date. Refetch the item and retry the request."
CONFLICT = (
    "data conflict occurred on the server: a conflict occurred on the server. this "
    "usually happens due to a race condition in requests"
)
NOT_ACTIVE = "item update failed: item is not in an active state"
TOO_BIG = "item update failed: item is too big"
INTERNAL = (
    "an internal error occurred, please contact 1Password at support@1password.com or "
    "https://developer.1password.com/joinslack"
)
#: observed from the real core (findings/onepassword-2.md L3), with the core's error name
INTERNAL_CLIENT = (
    "an internal error occurred, please contact 1Password at support@1password.com or "
    "https://developer.1password.com/joinslack: internal error: Could not drop SDK client. "
    "Invalid client ID"
)
#: an HTTP 429 as the core reports it in text (reqwest's status text)
TOO_MANY_REQUESTS = (
    "authentication error: HTTP status client error (429 Too Many Requests) for url "
    "(<redacted URL>)"
)
DESKTOP_SESSION_EXPIRED = "desktop session expired"
INVALID_INPUT = "invalid user input: encountered the following errors: "
NOT_FOUND = "resource not found"
PUT_NOT_FOUND = "item update failed: item couldn't be found"
RATE_LIMITED = "rate limit exceeded"
NO_DESKTOP_APP = "1Password desktop application not found"
REF_PREFIX = "error resolving secret reference: "
SIZE_LIMIT = (
    f"message size exceeds the limit of {MESSAGE_LIMIT} bytes, please contact "
    f"1Password at support@1password.com or https://developer.1password.com/joinslack "
    f"if you need help."
)
DESKTOP_ERRORS = (ERR_CHANNEL_CLOSED, ERR_CONNECTION_DROPPED)

_FIELD_ID = re.compile(r"^[A-Za-z0-9_.\- \t]*$")
_INTEGRATION = re.compile(r"^[A-Za-z0-9._ -]+$")
READS = ("vaults.list", "items.list", "items.get", "items.get_all", "secrets.resolve")
WRITES = ("items.create", "items.put", "items.archive", "items.delete")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_id() -> str:
    return base64.b32encode(_secrets.token_bytes(16)).decode().rstrip("=").lower()


class FakeClock(Clock):
    """Time that moves only when the fake 1Password says a call took long (``stall``,
    ``answer_lost``): a call whose answer came after the caller's deadline is a timeout,
    decided at once."""

    #: real seconds a wait may take at most: the fake answers at once, unless a test is broken
    REAL_LIMIT = 30.0

    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def wait(self, future: concurrent.futures.Future[T], deadline: float) -> T:
        concurrent.futures.wait([future], timeout=self.REAL_LIMIT)
        if self.now > deadline or not future.done():
            raise TimeoutError(f"no answer by {deadline:g}")
        return future.result()


class FakeOnePassword:
    """One 1Password account: vaults, items, valid tokens, and the failures a test switches on."""

    def __init__(
        self,
        *,
        tokens: tuple[str, ...] = (VALID_TOKEN,),
        vaults: tuple[str, ...] = ("ClaudeSync",),
        clock: FakeClock | None = None,
    ) -> None:
        self.clock = clock
        self.tokens = set(tokens)
        self.revoked: set[str] = set()
        self.vaults: dict[str, str] = {}
        self.read_only: set[str] = set()
        self.items: dict[str, dict[str, Any]] = {}
        self.archived: set[str] = set()
        self.calls: list[str] = []
        self.read_ids: list[str] = []  # the items read in full (items.get, items.get_all)
        self.authentications = 0
        self.session = 0  # bumped by expire_sessions: older clients get "session expired"
        self.desktop_app = False
        self.desktop_accounts: set[str] = set()
        self.release_fails = False  # the desktop app is gone when the SDK releases its client
        self.item_limit: int | None = None  # bytes of an item the server takes ("too big")
        self.message_limit = MESSAGE_LIMIT  # the SDK's own limit on one request
        #: what the service does to a put item before storing it (F10: not known to be
        #: anything; items are end-to-end encrypted, so only the native core's conversion could
        #: change them): a test sets it to see that a write is checked, not trusted
        self.put_changes: Callable[[dict[str, Any]], None] | None = None
        self._failures: list[tuple[str, BaseException, int | None]] = []
        self._stalls: list[tuple[str, float, bool, int | None]] = []
        self._before: list[tuple[str, Callable[[], None], int]] = []
        self._lost: dict[str, int] = {}
        self._limits: tuple[int, int, int] | None = None
        #: the requests the limits count: (time, token or None for a sign-in, kind)
        self.requests: list[tuple[float, str | None, str]] = []
        self._clients: list[tuple[str, int]] = []  # by client id: (token, session)
        for title in vaults:
            self.add_vault(title)

    # --- what tests arrange ---

    def add_vault(self, title: str, *, read_only: bool = False) -> str:
        vault_id = _new_id()
        self.vaults[vault_id] = title
        if read_only:
            self.read_only.add(vault_id)
        return vault_id

    def vault_id(self, title: str = "ClaudeSync") -> str:
        return next(i for i, t in self.vaults.items() if t == title)

    def fail(self, name: str, exc: BaseException, *, times: int | None = None) -> None:
        """Raise ``exc`` from calls named ``name`` (``*`` for all but sign-in), ``times`` times
        or until ``heal``."""
        self._failures.append((name, exc, times))

    def network_down(self) -> None:
        self.fail("authenticate", Exception(AUTH_UNREACHABLE))
        self.fail("*", Exception(CALL_UNREACHABLE))

    def rate_limited(self) -> None:
        self.fail("authenticate", RateLimitExceededException(RATE_LIMITED))
        self.fail("*", RateLimitExceededException(RATE_LIMITED))

    def limits(
        self, *, hourly_reads: int = 1000, hourly_writes: int = 100, daily: int = 1000
    ) -> None:
        """Count requests as 1Password publishes its service-account limits (F8; defaults:
        an Individual or Families account): per token and per hour, reads and writes apart;
        per account and per day, every request of every service account, sign-ins included.
        A request over a limit gets the core's "rate limit exceeded" (the SDK's
        ``RateLimitExceededException``) and still counts, as failing requests seem to
        (findings/onepassword-2.md L4). Not known, so not played: whether ``items.get_all``
        counts once or per item (here: once), and the exact windows (here: rolling, on the
        fake's clock). The desktop app has no such limits."""
        self._limits = (hourly_reads, hourly_writes, daily)

    def _count_request(self, name: str, client: tuple[str, int] | None) -> None:
        if self._limits is None or (client is not None and client[0].startswith("desktop:")):
            return
        now = self.clock.now if self.clock is not None else time.monotonic()
        token = None if client is None else client[0]
        kind = "read" if name in READS else "write" if name in WRITES else "sign-in"
        self.requests = [r for r in self.requests if r[0] > now - 86400] + [(now, token, kind)]
        reads, writes, daily = self._limits
        hourly = sum(1 for t, k, n in self.requests if t > now - 3600 and k == token and n == kind)
        over_hour = token is not None and hourly > (reads if kind == "read" else writes)
        if over_hour or len(self.requests) > daily:
            raise RateLimitExceededException(RATE_LIMITED)

    def conflict(self, name: str = "items.put", *, times: int | None = 1) -> None:
        """The server's 409: another request raced this one."""
        self.fail(name, Exception(CONFLICT), times=times)

    def desktop_fails(self, text: str = ERR_CHANNEL_CLOSED, *, times: int | None = None) -> None:
        """The desktop app's IPC fails (integration off, app quit) on sign-in and every call."""
        self.fail("authenticate", RuntimeError(text), times=times)
        self.fail("*", RuntimeError(text), times=times)

    def stall(
        self,
        name: str = "*",
        *,
        seconds: float = 3600.0,
        blocking: bool = False,
        times: int | None = None,
    ) -> None:
        """Calls named ``name`` (``*``: every call, sign-in included) answer only after
        ``seconds``: a network that drops packets, or (``blocking``) the desktop app waiting for
        approval, whose ctypes call holds the whole event loop."""
        self._stalls.append((name, seconds, blocking, times))

    def answer_lost(self, name: str = "items.create", *, times: int = 1) -> None:
        """The call does its work on the server, then its answer never arrives (the caller
        times out not knowing that the item was stored)."""
        self._lost[name] = times

    async def _take(self, seconds: float, *, blocking: bool) -> None:
        """A call that takes ``seconds``: on the fake clock if there is one, else for real
        (``blocking``: holding the loop's thread, as the desktop app's ctypes call does)."""
        if self.clock is not None or blocking:
            self._take_blocking(seconds)
        else:
            await asyncio.sleep(seconds)

    def _take_blocking(self, seconds: float) -> None:
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            time.sleep(seconds)

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def expire_sessions(self) -> None:
        """Every signed-in client gets "session expired" until it signs in again."""
        self.session += 1

    def heal(self) -> None:
        self._failures.clear()
        self._stalls.clear()
        self.revoked.clear()
        self.read_only.clear()

    def before(self, name: str, fn: Callable[[], None], *, times: int = 1) -> None:
        self._before.append((name, fn, times))

    def count(self, *names: str) -> int:
        """How many calls of these names (all calls when none) were made."""
        return sum(1 for c in self.calls if not names or c in names)

    def item(self, ref: str) -> Item:
        """The stored item with this id or title (as the 1Password app would show it)."""
        for data in self.items.values():
            if ref in (data["id"], data["title"]):
                return Item.model_validate(data)
        raise KeyError(ref)

    def archive(self, ref: str) -> None:
        """The user archives the item in the app."""
        self.archived.add(self.item(ref).id)

    def user_edits(
        self, ref: str, *, flatten: bool | str = True, resave: bool = False, **values: str
    ) -> Item:
        """The user changes field values in the 1Password app (a new version, like the app).

        Fields made through the API are single-line in the app: a pasted multi-line value
        loses its line breaks (``flatten``: True puts a space for each, "strip" nothing, as an
        HTML single-line input does; False for a field the user made multi-line by hand).
        ``resave``: saving the item from the edit form flattens every API-made field, not only
        the edited one (findings/onepassword-2.md L1-new: likely, not checked against the app).
        Fields the user adds (a name no field has, or ``add_field``) land in the app's default
        section."""
        data = self.items[self.item(ref).id]
        for f in data["fields"]:
            if f["title"] in values:
                f["value"] = _flattened(values.pop(f["title"]), flatten)
            elif resave and f["sectionId"] != "add more":
                f["value"] = _flattened(f["value"], flatten or True)
        for name, value in values.items():
            self._add_field(data, name, value)
        return self._saved(data)

    def add_field(self, ref: str, name: str, value: str) -> Item:
        """The user adds a text field (even one named like ours) and pastes ``value`` there: it
        is multi-line only if the user made it so, so it is flattened like a pasted value."""
        data = self.items[self.item(ref).id]
        self._add_field(data, name, _flattened(value, True))
        return self._saved(data)

    def edit_notes(self, ref: str, notes: str) -> Item:
        """The user changes the notes (multi-line in the app: kept as typed)."""
        data = self.items[self.item(ref).id]
        data["notes"] = notes
        return self._saved(data)

    def _add_field(self, data: dict[str, Any], name: str, value: str) -> None:
        if not any(s["id"] == "add more" for s in data["sections"]):
            data["sections"].append({"id": "add more", "title": ""})
        data["fields"].append(
            ItemField(
                id=_new_id(),
                title=name,
                field_type=ItemFieldType.TEXT,
                value=value,
                section_id="add more",
            ).model_dump(by_alias=True)
        )

    def _saved(self, data: dict[str, Any]) -> Item:
        data["version"] += 1
        data["updatedAt"] = _now()
        return Item.model_validate(data)

    def add_foreign_item(
        self, title: str, *, vault: str = "ClaudeSync", tags: list[str] | None = None
    ) -> Item:
        """An item the user keeps in the same vault that is not ours."""
        params = ItemCreateParams(
            category=ItemCategory.LOGIN, vault_id=self.vault_id(vault), title=title, tags=tags or []
        )
        return self._store(params)

    # --- the SDK's client, on this fake as its native core ---

    async def authenticate(self, auth: Any, integration_name: str, integration_version: str) -> Any:
        """``onepassword.Client.authenticate`` itself, with this fake as its native core (the
        SDK's ``UniffiCore`` or ``DesktopCore`` around ``_Native`` / ``_DesktopApp``)."""
        token = _SERVICE.set(self)
        try:
            return await onepassword.Client.authenticate(
                auth, integration_name, integration_version
            )
        finally:
            _SERVICE.reset(token)

    # --- the native core's calls ---

    def init_client(self, config: dict[str, Any], account: str | None) -> int:
        """Sign in: the configuration ``Client.authenticate`` built (``account``: the desktop
        app's account, else the token in the configuration)."""
        name, version = config.get("integrationName", ""), config.get("integrationVersion", "")
        problems = []
        if not name or len(name) > 40 or not _INTEGRATION.match(name):
            problems.append(f"invalid integration name: '{name}'")
        if not version or len(version) > 20:
            problems.append("integration version was not specified or is too long")
        elif "+" in version:
            problems.append("integration version contained unallowed char: '+'")
        if problems:
            raise Exception(INVALID_INPUT + "; ".join(problems))
        if account is not None:
            if account not in self.desktop_accounts:
                raise Exception("error getting account: account couldn't be found")
            token = f"desktop:{account}"
        else:
            token = config.get("serviceAccountToken", "")
            if not token:
                raise Exception(NO_TOKEN)
            if not token.startswith("ops_"):
                raise Exception(MALFORMED)
            if token not in self.tokens and not _decodes(token):
                raise Exception(MALFORMED_OPS)
            if token not in self.tokens or token in self.revoked:
                raise Exception(REJECTED + "you are not authenticated")
        self.authentications += 1
        self._clients.append((token, self.session))
        return len(self._clients) - 1

    def invoke(self, config: dict[str, Any]) -> tuple[str, Callable[[], Any]]:
        """The call an invocation asks for: its name (``items.get``) and its work."""
        invocation = config["invocation"]
        wanted = invocation["parameters"]
        name, params = _CALLS[wanted["name"]], wanted["parameters"]
        client = self._clients[invocation["clientId"]]
        api = _Api(self, client)
        return name, lambda: getattr(api, wanted["name"])(**params)

    # --- plumbing ---

    def _begin(self, name: str) -> list[tuple[float, bool]]:
        """Count the call and run what a test put before it; the stalls it meets."""
        self.calls.append(name)
        for index, (wanted, fn, times) in enumerate(self._before):
            if wanted == name and times > 0:
                self._before[index] = (wanted, fn, times - 1)
                fn()
        stalls = []
        for index, (wanted, seconds, blocking, times) in enumerate(self._stalls):
            if wanted in (name, "*") and (times is None or times > 0):
                if times is not None:
                    self._stalls[index] = (wanted, seconds, blocking, times - 1)
                stalls.append((seconds, blocking))
        return stalls

    def _check(self, name: str, client: tuple[str, int] | None) -> None:
        """The failures a test switched on, then the client's credentials and session."""
        for index, (wanted, exc, times) in enumerate(self._failures):
            if (
                wanted in (name, "*")
                and not (wanted == "*" and name == "authenticate")
                and (times is None or times > 0)
            ):
                if times is not None:
                    self._failures[index] = (wanted, exc, times - 1)
                raise exc
        self._count_request(name, client)
        if client is not None and not client[0].startswith("desktop:"):
            token, session = client
            if token in self.revoked or token not in self.tokens:
                raise Exception(CALL_UNAUTHENTICATED)
            if session != self.session:
                raise Exception(SESSION_EXPIRED)

    async def serve(self, name: str, client_id: int | None, work: Callable[[], Any]) -> Any:
        """One call of the native core: counted, stalled, failed as arranged, then done."""
        for seconds, blocking in self._begin(name):
            await self._take(seconds, blocking=blocking)
        self._check(name, None if client_id is None else self._clients[client_id])
        result = work()
        if self._lost.get(name, 0) > 0:
            self._lost[name] -= 1
            await self._take(3600, blocking=False)
        return result

    def serve_blocking(self, name: str, client_id: int | None, work: Callable[[], Any]) -> Any:
        """``serve`` for the desktop app, whose calls hold their thread (and so the loop)."""
        for seconds, _ in self._begin(name):
            self._take_blocking(seconds)
        self._check(name, None if client_id is None else self._clients[client_id])
        result = work()
        if self._lost.get(name, 0) > 0:
            self._lost[name] -= 1
            self._take_blocking(3600)
        return result

    def _vault_of(self, vault_id: str) -> str:
        if vault_id not in self.vaults:
            raise Exception(NOT_FOUND)
        return vault_id

    def _writable(self, vault_id: str) -> None:
        if self._vault_of(vault_id) in self.read_only:
            raise Exception(FORBIDDEN)

    def _normalized(
        self, fields: list[ItemField], sections: list[ItemSection]
    ) -> tuple[list[ItemField], list[ItemSection]]:
        """The core's validation, then section-less custom fields moved into an empty section
        (SDK >= 0.2.1)."""
        problems: list[str] = []
        ids = [f.id for f in fields]
        if len(ids) != len(set(ids)):
            problems.append("file and field IDs must be unique within an item")
        section_ids = {s.id for s in sections}
        for f in fields:
            if not _FIELD_ID.match(f.id):
                problems.append(
                    f"field id '{f.id}' must contain only alphanumeric characters "
                    f"or -, _, . and the whitespace character"
                )
            if f.section_id is not None and f.section_id not in section_ids:
                problems.append(
                    f"field {f.id} was linked to section id '{f.section_id}', but "
                    f"no section with this id exists"
                )
        if problems:
            raise Exception(INVALID_INPUT + "; ".join(problems))
        if any(f.section_id is None for f in fields):
            empty = next((s for s in sections if not s.title), None)
            if empty is None:
                empty = ItemSection(id=_new_id()[:26], title="")
                sections = [*sections, empty]
            fields = [
                f if f.section_id is not None else f.model_copy(update={"section_id": empty.id})
                for f in fields
            ]
        return fields, sections

    def _too_big(self, data: dict[str, Any]) -> None:
        if self.item_limit is not None and len(json.dumps(data, default=str)) > self.item_limit:
            raise Exception(TOO_BIG)

    def _store(self, params: ItemCreateParams) -> Item:
        stamp = _now()
        fields, sections = self._normalized(params.fields or [], params.sections or [])
        item = Item(
            id=_new_id(),
            title=params.title,
            category=params.category,
            vaultId=params.vault_id,
            fields=fields,
            sections=sections,
            notes=params.notes or "",
            tags=params.tags or [],
            websites=params.websites or [],
            version=1,
            files=[],
            document=None,
            createdAt=stamp,
            updatedAt=stamp,
        )
        data = item.model_dump(by_alias=True)
        self._too_big(data)
        self.items[item.id] = data
        return Item.model_validate(self.items[item.id])

    def _find(self, vault_id: str, item_id: str) -> dict[str, Any]:
        data = self.items.get(item_id)
        if data is None or data["vaultId"] != self._vault_of(vault_id):
            raise Exception(NOT_FOUND)
        return data

    def _state(self, item_id: str) -> ItemState:
        return ItemState.ARCHIVED if item_id in self.archived else ItemState.ACTIVE


def _flattened(value: str, how: bool | str) -> str:
    if how is False:
        return value
    return ("" if how == "strip" else " ").join(value.split("\n"))


def _decodes(token: str) -> bool:
    try:
        json.loads(base64.b64decode(token[len("ops_") :], validate=True))
    except ValueError:
        return False
    return True


class _Api:
    """The core's invocations (named as the SDK names them), on the service, for one client:
    parameters as the SDK serialized them, answers as the JSON the SDK validates."""

    def __init__(self, service: FakeOnePassword, client: tuple[str, int]) -> None:
        self.s = service
        self.client = client

    def VaultsList(self, params: Any = None) -> Any:
        stamp = _now()
        return [
            VaultOverview(
                id=vault_id,
                title=title,
                description="",
                vaultType="userCreated",
                activeItemCount=0,
                contentVersion=1,
                attributeVersion=1,
                createdAt=stamp,
                updatedAt=stamp,
            )
            for vault_id, title in self.s.vaults.items()
        ]

    def ItemsList(self, vault_id: str, filters: list[Any]) -> Any:
        self.s._vault_of(vault_id)
        wanted = {ItemState.ACTIVE}  # the SDK's default: active items only
        for f in (ItemListFilterByState.model_validate(f) for f in filters):
            wanted = ({ItemState.ACTIVE} if f.content.active else set()) | (
                {ItemState.ARCHIVED} if f.content.archived else set()
            )
        return [
            ItemOverview(
                id=d["id"],
                title=d["title"],
                category=d["category"],
                vaultId=d["vaultId"],
                websites=d["websites"],
                tags=d["tags"],
                createdAt=d["createdAt"],
                updatedAt=d["updatedAt"],
                state=self.s._state(d["id"]),
            )
            for d in self.s.items.values()
            if d["vaultId"] == vault_id and self.s._state(d["id"]) in wanted
        ]

    def ItemsGet(self, vault_id: str, item_id: str) -> Any:
        self.s.read_ids.append(item_id)
        return self.s._find(vault_id, item_id)

    def ItemsGetAll(self, vault_id: str, item_ids: list[str]) -> Any:
        self.s._vault_of(vault_id)
        if len(item_ids) > 50:
            raise Exception("you can only retrieve up to 50 items at once")
        self.s.read_ids.extend(item_ids)
        replies: list[dict[str, Any]] = []
        for item_id in item_ids:
            data = self.s.items.get(item_id)
            if data is None or data["vaultId"] != vault_id:
                replies.append({"error": {"type": "itemNotFound"}})
            else:
                replies.append({"content": data})
        return {"individualResponses": replies}

    def ItemsCreate(self, params: dict[str, Any]) -> Any:
        create = ItemCreateParams.model_validate(params)
        self.s._writable(create.vault_id)
        return self.s._store(create)

    def ItemsPut(self, item: dict[str, Any]) -> Any:
        put = Item.model_validate(item)
        self.s._writable(put.vault_id)
        stored = self.s.items.get(put.id)
        if stored is None:
            raise Exception(PUT_NOT_FOUND)
        if put.id in self.s.archived:
            raise Exception(NOT_ACTIVE)
        if stored["version"] != put.version:
            raise Exception(STALE)
        fields, sections = self.s._normalized(put.fields, put.sections)
        data = put.model_copy(update={"fields": fields, "sections": sections}).model_dump(
            by_alias=True
        )
        data.update(version=stored["version"] + 1, createdAt=stored["createdAt"], updatedAt=_now())
        if self.s.put_changes is not None:
            self.s.put_changes(data)
        self.s._too_big(data)
        self.s.items[put.id] = data
        return data

    def ItemsArchive(self, vault_id: str, item_id: str) -> Any:
        self.s._writable(vault_id)
        self.s._find(vault_id, item_id)
        self.s.archived.add(item_id)

    def ItemsDelete(self, vault_id: str, item_id: str) -> Any:
        self.s._writable(vault_id)
        self.s._find(vault_id, item_id)
        del self.s.items[item_id]
        self.s.archived.discard(item_id)

    def SecretsResolve(self, secret_reference: str) -> Any:
        if not secret_reference.startswith("op://"):
            raise Exception(
                REF_PREFIX + "the secret reference could not be parsed: secret "
                'reference is not prefixed with "op://"'
            )
        parts = secret_reference[len("op://") :].split("/")
        if len(parts) not in (3, 4):
            raise Exception(
                REF_PREFIX + "the secret reference could not be parsed: secret "
                "reference has invalid format"
            )
        vault, item, field = parts[0], parts[1], parts[-1]
        vault_ids = [i for i, t in self.s.vaults.items() if vault in (i, t)]
        if not vault_ids:
            raise Exception(REF_PREFIX + "no vault matched the secret reference query")
        found = [
            d
            for d in self.s.items.values()
            if d["vaultId"] in vault_ids
            and item in (d["id"], d["title"])
            and d["id"] not in self.s.archived
        ]
        if not found:
            raise Exception(REF_PREFIX + "no item matched the secret reference query")
        if len(found) > 1:
            raise Exception(REF_PREFIX + "more than one item matched the secret reference query")
        values = [f["value"] for f in found[0]["fields"] if field in (f["id"], f["title"])]
        if not values:
            raise Exception(REF_PREFIX + "the specified field cannot be found within the item")
        if len(values) > 1:
            raise Exception(REF_PREFIX + "more than one field matched the secret reference")
        return str(values[0])


#: the invocations the fake serves, by the names the calls are counted under
_CALLS = {
    "VaultsList": "vaults.list",
    "ItemsList": "items.list",
    "ItemsGet": "items.get",
    "ItemsGetAll": "items.get_all",
    "ItemsCreate": "items.create",
    "ItemsPut": "items.put",
    "ItemsArchive": "items.archive",
    "ItemsDelete": "items.delete",
    "SecretsResolve": "secrets.resolve",
}


def _as_json(value: Any) -> str:
    """An answer as the core sends it: JSON, models by their aliases."""
    return json.dumps(TypeAdapter(Any).dump_python(value, mode="json", by_alias=True))


class CoreError(Exception):
    """What the native core raises: ``msg`` is ``{"name": ..., "message": ...}`` in JSON, which
    the SDK's ``raise_typed_exception`` turns into its own exceptions."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


class Named(Exception):
    """A failure a test arranges with the core's own error name (``Internal``, ``ItemApi``,
    ``Auth``...): the SDK turns the name into its typed exceptions or a bare ``Exception``."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


def _core_error(exc: BaseException) -> BaseException:
    """``exc`` (what a test arranged, or the fake's own refusal) as the core reports it. A
    ``ValueError`` is the SDK's own (its message limit), raised before the core is called."""
    if isinstance(exc, ValueError):
        return exc
    if isinstance(exc, Named):
        name = exc.name
    elif isinstance(exc, RateLimitExceededException):
        name = "RateLimitExceeded"
    elif isinstance(exc, DesktopSessionExpiredException):
        name = "DesktopSessionExpired"
    else:
        name = "Generic"
    return CoreError(json.dumps({"name": name, "message": str(exc)}))


class _Native:
    """``op_uniffi_core`` for the SDK's ``UniffiCore``: ``init_client``, ``invoke``,
    ``release_client``, with JSON in and out."""

    def __init__(self, service: FakeOnePassword) -> None:
        self.s = service

    async def init_client(self, config: str) -> str:
        data = json.loads(config)
        try:
            client_id = await self.s.serve(
                "authenticate", None, lambda: self.s.init_client(data, None)
            )
        except Exception as exc:
            raise _core_error(exc) from None
        return str(client_id)

    async def invoke(self, config: str) -> str:
        if len(config.encode()) > self.s.message_limit:  # as UniffiCore.invoke refuses it
            raise ValueError(SIZE_LIMIT)
        data = json.loads(config)
        name, work = self.s.invoke(data)
        try:
            return _as_json(await self.s.serve(name, data["invocation"]["clientId"], work))
        except Exception as exc:
            raise _core_error(exc) from None

    def release_client(self, client_id: str) -> None:
        pass


# The desktop app's IPC library: op_sdk_ipc_send_message and op_sdk_ipc_free_response, as the
# C functions DesktopCore calls through ctypes.
_SEND = ctypes.CFUNCTYPE(
    ctypes.c_int32,
    ctypes.POINTER(ctypes.c_uint8),
    ctypes.c_size_t,
    ctypes.POINTER(ctypes.POINTER(ctypes.c_uint8)),
    ctypes.POINTER(ctypes.c_size_t),
    ctypes.POINTER(ctypes.c_size_t),
)
_FREE = ctypes.CFUNCTYPE(None, ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t, ctypes.c_size_t)
#: the return codes the IPC library gives for the desktop app's own failures
_RETURN_CODES = (
    {ERR_CHANNEL_CLOSED: -3, ERR_CONNECTION_DROPPED: -7}
    if sys.platform == "darwin"
    else {ERR_CHANNEL_CLOSED: -2, ERR_CONNECTION_DROPPED: -5}
)


class _DesktopApp:
    """The desktop app's side of ``DesktopCore``'s IPC: a message in, a response buffer out
    (freed by the caller), or a return code for a broken channel."""

    def __init__(self, service: FakeOnePassword) -> None:
        self.s = service
        self._buffers: dict[int, Any] = {}
        self.send_message = _SEND(self._send)
        self.free_message = _FREE(self._free)

    def _send(self, message: Any, length: int, out_buf: Any, out_len: Any, out_cap: Any) -> int:
        try:
            data = json.loads(ctypes.string_at(message, length))
            payload = json.loads(base64.b64decode(data["payload"]))
            success, answer = True, self._answer(data["kind"], payload)
        except RuntimeError as exc:
            return _RETURN_CODES.get(str(exc), -1)
        except Exception as exc:
            success, answer = False, _core_error(exc).msg  # type: ignore[attr-defined]
        body = json.dumps({"success": success, "payload": list(answer.encode())}).encode()
        buffer = (ctypes.c_uint8 * len(body)).from_buffer_copy(body)
        self._buffers[ctypes.addressof(buffer)] = buffer
        out_buf[0] = ctypes.cast(buffer, ctypes.POINTER(ctypes.c_uint8))
        out_len[0] = out_cap[0] = len(body)
        return 0

    def _answer(self, kind: str, payload: Any) -> str:
        if kind == "init_client":
            account = self._account
            return str(
                self.s.serve_blocking(
                    "authenticate", None, lambda: self.s.init_client(payload, account)
                )
            )
        if kind == "invoke":
            name, work = self.s.invoke(payload)
            client_id = payload["invocation"]["clientId"]
            return _as_json(self.s.serve_blocking(name, client_id, work))
        if self.s.release_fails:  # the app quit before the command ended
            raise RuntimeError(ERR_CHANNEL_CLOSED)
        return "null"  # release_client

    def _free(self, buf: Any, length: int, capacity: int) -> None:
        self._buffers.pop(ctypes.addressof(buf.contents), None)

    _account: str | None = None


# --- the SDK's cores, with the fake as their native side while a fake signs in -----------------

_SERVICE: ContextVar[FakeOnePassword | None] = ContextVar("fake_onepassword", default=None)


class _UniffiCore(sdk_core.UniffiCore):  # type: ignore[misc]
    """The SDK's ``UniffiCore``; made while a fake signs in, its native module is the fake."""

    def __init__(self) -> None:
        service = _SERVICE.get()
        if service is None:
            super().__init__()
        else:
            self.core = _Native(service)


class _DesktopCore(sdk_desktop.DesktopCore):  # type: ignore[misc]
    """The SDK's ``DesktopCore``; made while a fake signs in, its IPC library is the fake's
    desktop app (or missing, as ``find_1password_lib_path`` says when the app is not there)."""

    def __init__(self, account_name: str) -> None:
        service = _SERVICE.get()
        if service is None:
            super().__init__(account_name)
            return
        if not service.desktop_app:
            raise FileNotFoundError(NO_DESKTOP_APP)
        app = _DesktopApp(service)
        app._account = account_name
        self.lib = app
        self.account_name = account_name
        self.send_message = app.send_message
        self.free_message = app.free_message


# Client.authenticate makes its core by these names: only while a fake signs in (``_SERVICE``)
# do they differ from the SDK's own classes.
sdk_client.UniffiCore = _UniffiCore
sdk_client.DesktopCore = _DesktopCore
