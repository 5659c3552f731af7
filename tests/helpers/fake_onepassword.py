"""A fake 1Password service, seen through the surface of onepassword-sdk's ``Client`` that
claude-session calls: ``Client.authenticate``, ``vaults.list``, ``items.list/get/get_all/create/
put``, ``secrets.resolve``. Every method is ``async`` like the SDK's; values are the SDK's own
pydantic types (``Item``, ``ItemOverview``, ``VaultOverview``, ``ItemsGetAllResponse``), so a
field the backend gets wrong fails here as it would against 1Password.

Errors are raised as the SDK raises them: bare ``Exception`` with the SDK's message text,
``RateLimitExceededException``, ``FileNotFoundError`` for a missing desktop app. The messages
for an empty token, a malformed token and an unreachable network were observed from the real SDK
(research/libs.md section 2); the others are composed from the message fragments compiled into
the SDK's core library (``strings libop_uniffi_core.so``), since they need a live account.

Failures are switched on and off by tests: ``fail("items.create", exc, times=1)``,
``network_down()``, ``rate_limited()``, ``revoke(token)``, ``heal()``. ``before(name, fn)`` runs
``fn`` just before a call, to play another writer racing ours.
"""

from __future__ import annotations

import base64
import secrets as _secrets
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from onepassword import (
    DesktopAuth,
    Item,
    ItemCategory,
    ItemCreateParams,
    ItemField,
    ItemFieldType,
    ItemOverview,
    ItemsGetAllResponse,
    ItemState,
    VaultOverview,
)
from onepassword.errors import RateLimitExceededException

VALID_TOKEN = "ops_" + base64.b64encode(b'{"signInAddress":"fake.1password.com"}').decode()
OTHER_TOKEN = "ops_" + base64.b64encode(b'{"signInAddress":"other.1password.com"}').decode()

# Observed from the SDK offline (libs.md).
NO_TOKEN = ("invalid user input: encountered the following errors: service account token was "
            "not specified")
MALFORMED = ("invalid service account token, please make sure you provide a valid service "
             "account token as parameter: service account token had invalid format, please "
             "create another token")
AUTH_UNREACHABLE = ("authentication error: request library compatibility issue, check that the "
                    "your environment uses compatible versions: reqwest library: error sending "
                    "request for url (<redacted URL>)")
# Composed from the SDK core's message fragments.
REJECTED = ("authentication error: bad service account token, please rotate it: you are not "
            "authenticated")
CALL_UNAUTHENTICATED = "bad credentials, please retry: you are not authenticated"
CALL_UNREACHABLE = "http error: error sending request for url (<redacted URL>)"
FORBIDDEN = ("you do not have the right permissions to perform this action: you don't have the "
             "right permissions to access this resource")
STALE = "The submitted item is not up to date. Refetch the item and retry the request."
NOT_FOUND = "resource not found"
PUT_NOT_FOUND = "item update failed: item couldn't be found"
RATE_LIMITED = "rate limit exceeded"
NO_DESKTOP_APP = "1Password desktop application not found"
REF_PREFIX = "error resolving secret reference: "


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_id() -> str:
    return base64.b32encode(_secrets.token_bytes(16)).decode().rstrip("=").lower()


class FakeOnePassword:
    """One 1Password account: vaults, items, valid tokens, and the failures a test switches on."""

    def __init__(self, *, tokens: tuple[str, ...] = (VALID_TOKEN,),
                 vaults: tuple[str, ...] = ("ClaudeSync",)) -> None:
        self.tokens = set(tokens)
        self.revoked: set[str] = set()
        self.vaults: dict[str, str] = {}
        self.read_only: set[str] = set()
        self.items: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.authentications = 0
        self.desktop_app = False
        self.desktop_accounts: set[str] = set()
        self._failures: list[tuple[str, BaseException, int | None]] = []
        self._before: list[tuple[str, Callable[[], None], int]] = []
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
        """Raise ``exc`` from calls named ``name`` (``*`` for all), ``times`` times or until
        ``heal``."""
        self._failures.append((name, exc, times))

    def network_down(self) -> None:
        self.fail("authenticate", Exception(AUTH_UNREACHABLE))
        self.fail("*", Exception(CALL_UNREACHABLE))

    def rate_limited(self) -> None:
        self.fail("authenticate", RateLimitExceededException(RATE_LIMITED))
        self.fail("*", RateLimitExceededException(RATE_LIMITED))

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def heal(self) -> None:
        self._failures.clear()
        self.revoked.clear()
        self.read_only.clear()

    def before(self, name: str, fn: Callable[[], None], *, times: int = 1) -> None:
        self._before.append((name, fn, times))

    def item(self, ref: str) -> Item:
        """The stored item with this id or title (as the 1Password app would show it)."""
        for data in self.items.values():
            if ref in (data["id"], data["title"]):
                return Item.model_validate(data)
        raise KeyError(ref)

    def user_edits(self, ref: str, **values: str) -> Item:
        """The user changes field values in the 1Password app (a new version, like the app)."""
        data = self.items[self.item(ref).id]
        for f in data["fields"]:
            if f["title"] in values:
                f["value"] = values.pop(f["title"])
        for name, value in values.items():
            data["fields"].append(ItemField(id=_new_id(), title=name, field_type=ItemFieldType.TEXT,
                                            value=value).model_dump(by_alias=True))
        data["version"] += 1
        data["updatedAt"] = _now()
        return Item.model_validate(data)

    def add_foreign_item(self, title: str, *, vault: str = "ClaudeSync",
                         tags: list[str] | None = None) -> Item:
        """An item the user keeps in the same vault that is not ours."""
        params = ItemCreateParams(category=ItemCategory.LOGIN, vault_id=self.vault_id(vault),
                                  title=title, tags=tags or [])
        return self._store(params)

    # --- the SDK's surface ---

    async def authenticate(self, auth: Any, integration_name: str,
                           integration_version: str) -> FakeClient:
        self._enter("authenticate")
        if isinstance(auth, DesktopAuth):
            if not self.desktop_app:
                raise FileNotFoundError(NO_DESKTOP_APP)
            if auth.account_name not in self.desktop_accounts:
                raise Exception("account couldn't be found")
        elif not auth:
            raise Exception(NO_TOKEN)
        elif not auth.startswith("ops_"):
            raise Exception(MALFORMED)
        elif auth not in self.tokens or auth in self.revoked:
            raise Exception(REJECTED)
        self.authentications += 1
        return FakeClient(self, auth)

    # --- plumbing ---

    def _enter(self, name: str, token: str | None = None) -> None:
        self.calls.append(name)
        for index, (wanted, fn, times) in enumerate(self._before):
            if wanted == name and times > 0:
                self._before[index] = (wanted, fn, times - 1)
                fn()
        for index, (wanted, exc, times) in enumerate(self._failures):
            if wanted in (name, "*") and not (wanted == "*" and name == "authenticate") and \
                    (times is None or times > 0):
                if times is not None:
                    self._failures[index] = (wanted, exc, times - 1)
                raise exc
        if token is not None and (token in self.revoked or token not in self.tokens) \
                and not token.startswith("desktop:"):
            raise Exception(CALL_UNAUTHENTICATED)

    def _vault_of(self, vault_id: str) -> str:
        if vault_id not in self.vaults:
            raise Exception(NOT_FOUND)
        return vault_id

    def _writable(self, vault_id: str) -> None:
        if self._vault_of(vault_id) in self.read_only:
            raise Exception(FORBIDDEN)

    def _store(self, params: ItemCreateParams) -> Item:
        stamp = _now()
        item = Item(id=_new_id(), title=params.title, category=params.category,
                    vaultId=params.vault_id, fields=params.fields or [],
                    sections=params.sections or [], notes=params.notes or "",
                    tags=params.tags or [], websites=params.websites or [], version=1, files=[],
                    document=None, createdAt=stamp, updatedAt=stamp)
        self.items[item.id] = item.model_dump(by_alias=True)
        return Item.model_validate(self.items[item.id])

    def _find(self, vault_id: str, item_id: str) -> dict[str, Any]:
        data = self.items.get(item_id)
        if data is None or data["vaultId"] != self._vault_of(vault_id):
            raise Exception(NOT_FOUND)
        return data


class FakeClient:
    """What ``Client.authenticate`` returns: ``.vaults``, ``.items``, ``.secrets``."""

    def __init__(self, service: FakeOnePassword, auth: Any) -> None:
        token = f"desktop:{auth.account_name}" if isinstance(auth, DesktopAuth) else auth
        self.vaults = _Vaults(service, token)
        self.items = _Items(service, token)
        self.secrets = _Secrets(service, token)


class _Api:
    def __init__(self, service: FakeOnePassword, token: str) -> None:
        self.s = service
        self.token = token


class _Vaults(_Api):
    async def list(self, params: Any = None) -> list[VaultOverview]:
        self.s._enter("vaults.list", self.token)
        stamp = _now()
        return [VaultOverview(id=vault_id, title=title, description="", vaultType="userCreated",
                              activeItemCount=0, contentVersion=1, attributeVersion=1,
                              createdAt=stamp, updatedAt=stamp)
                for vault_id, title in self.s.vaults.items()]


class _Items(_Api):
    async def list(self, vault_id: str, *filters: Any) -> list[ItemOverview]:
        self.s._enter("items.list", self.token)
        self.s._vault_of(vault_id)
        return [ItemOverview(id=d["id"], title=d["title"], category=d["category"],
                             vaultId=d["vaultId"], websites=d["websites"], tags=d["tags"],
                             createdAt=d["createdAt"], updatedAt=d["updatedAt"],
                             state=ItemState.ACTIVE)
                for d in self.s.items.values() if d["vaultId"] == vault_id]

    async def get(self, vault_id: str, item_id: str) -> Item:
        self.s._enter("items.get", self.token)
        return Item.model_validate(self.s._find(vault_id, item_id))

    async def get_all(self, vault_id: str, item_ids: list[str]) -> ItemsGetAllResponse:
        self.s._enter("items.get_all", self.token)
        self.s._vault_of(vault_id)
        if len(item_ids) > 50:
            raise Exception("you can only retrieve up to 50 items at once")
        replies: list[dict[str, Any]] = []
        for item_id in item_ids:
            data = self.s.items.get(item_id)
            if data is None or data["vaultId"] != vault_id:
                replies.append({"error": {"type": "itemNotFound"}})
            else:
                replies.append({"content": data})
        return ItemsGetAllResponse.model_validate({"individualResponses": replies})

    async def create(self, params: ItemCreateParams) -> Item:
        self.s._enter("items.create", self.token)
        self.s._writable(params.vault_id)
        return self.s._store(params)

    async def put(self, item: Item) -> Item:
        self.s._enter("items.put", self.token)
        self.s._writable(item.vault_id)
        stored = self.s.items.get(item.id)
        if stored is None:
            raise Exception(PUT_NOT_FOUND)
        if stored["version"] != item.version:
            raise Exception(STALE)
        data = item.model_dump(by_alias=True)
        data.update(version=stored["version"] + 1, createdAt=stored["createdAt"],
                    updatedAt=_now())
        self.s.items[item.id] = data
        return Item.model_validate(data)


class _Secrets(_Api):
    async def resolve(self, secret_reference: str) -> str:
        self.s._enter("secrets.resolve", self.token)
        if not secret_reference.startswith("op://"):
            raise Exception(REF_PREFIX + 'the secret reference could not be parsed: secret '
                            'reference is not prefixed with "op://"')
        parts = secret_reference[len("op://"):].split("/")
        if len(parts) not in (3, 4):
            raise Exception(REF_PREFIX + "the secret reference could not be parsed: secret "
                            "reference has invalid format")
        vault, item, field = parts[0], parts[1], parts[-1]
        vault_ids = [i for i, t in self.s.vaults.items() if vault in (i, t)]
        if not vault_ids:
            raise Exception(REF_PREFIX + "no vault matched the secret reference query")
        found = [d for d in self.s.items.values()
                 if d["vaultId"] in vault_ids and item in (d["id"], d["title"])]
        if not found:
            raise Exception(REF_PREFIX + "no item matched the secret reference query")
        values = [f["value"] for f in found[0]["fields"] if field in (f["id"], f["title"])]
        if not values:
            raise Exception(REF_PREFIX + "the specified field cannot be found within the item")
        return str(values[0])
