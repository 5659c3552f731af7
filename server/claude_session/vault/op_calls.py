"""The SDK calls on one 1Password vault, and what a command keeps of their answers.

Every call goes through ``op_session.Session``: one time budget per command, errors translated
there. The vault is found by name once per process (``op_sdk.VAULT_IDS``). The listing and the
items read are kept for the rest of the command (``Budget.memo``): a create drops them, a put
replaces the item it saved, so a command lists the vault and reads each item once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from onepassword import ItemState  # type: ignore[import-untyped]

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.errors import ItemRefused, VaultUnavailable
from claude_session.paths import Paths
from claude_session.vault.op_items import BOTH_STATES
from claude_session.vault.op_latency import FILE_NAME as LATENCY_FILE
from claude_session.vault.op_latency import LatencyMemory
from claude_session.vault.op_limits import FILE_NAME as LIMITS_FILE
from claude_session.vault.op_limits import RateLimitMemory
from claude_session.vault.op_sdk import (
    CLOCK,
    VAULT_IDS,
    Authenticate,
    Clock,
    authenticator,
    fingerprint,
    uses_desktop,
)
from claude_session.vault.op_session import Session

T = TypeVar("T")

BATCH = 50  # items.get_all takes at most 50 ids


async def _get_all(client: Any, *, vault_id: str, ids: list[str]) -> Any:
    return await client.items.get_all(vault_id, ids)


class VaultCalls:
    """The calls on the 1Password vault named in ``settings``, within each command's time."""

    def __init__(
        self,
        settings: Settings,
        *,
        authenticate: Authenticate | None,
        deadline: float,
        clock: Clock = CLOCK,
        approval: float = 0.0,
        learned: bool = False,
    ) -> None:
        """``learned``: no deadline was chosen, so each command's comes from the times
        measured here (``op_latency``)."""
        self.settings = settings
        self.vault_name = settings.vault_name
        self.authenticate = authenticate
        data, key = Paths(settings.home).data, fingerprint(settings)[:16]
        self.session = Session(
            settings,
            authenticate=authenticate,
            deadline=deadline,
            clock=clock,
            approval=approval,
            limits=RateLimitMemory(data / LIMITS_FILE, key),
            latency=LatencyMemory(data / LATENCY_FILE, key),
            learned=learned,
        )
        self._vault_id: str | None = None
        self._warned: set[str] = set()

    def try_now(self) -> None:
        """This command calls 1Password even while a rate limit is remembered (``sync``)."""
        self.session.budget().forced = True

    def warn_once(self, key: str, message: str) -> None:
        """Tell ``message`` the first time only (an item that stays damaged is told once)."""
        if key not in self._warned:
            self._warned.add(key)
            flow.warn(message)

    def _read(self, action: str, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
        return self.session.call(action, work)

    def _write(self, action: str, work: Callable[[Any], Coroutine[Any, Any, T]], title: str) -> T:
        self.session.budget().memo.clear()  # whatever was read may change now
        return self.session.call(action, work, writing=True, names=(title,))

    def vault_id(self) -> str:
        """The vault's id, found by name once per process."""
        if self._vault_id is not None:
            return self._vault_id
        key = (authenticator(self.authenticate), fingerprint(self.settings), self.vault_name)
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

    def overviews(self, *, archived: bool = False, fresh: bool = False) -> list[Any]:
        """The vault's items, active and archived (one listing per command unless ``fresh``);
        only the active ones unless ``archived``."""
        vault_id = self.vault_id()
        memo = self.session.budget().memo
        found: list[Any] | None = None if fresh else memo.get("overviews")
        if found is None:
            found = self._read(
                f"listing the items of the vault '{self.vault_name}'",
                lambda c: c.items.list(vault_id, BOTH_STATES),
            )
            memo["overviews"] = found
        return [o for o in found if archived or o.state == ItemState.ACTIVE]

    def _state_of(self, item_id: str) -> Any:
        for o in self.overviews(archived=True):
            if o.id == item_id:
                return o.state
        return None

    def fetch(self, ids: list[str]) -> list[Any]:
        """Full items, 50 to a call, each read once per command; ids deleted meanwhile are
        left out."""
        vault_id = self.vault_id()
        memo: dict[str, Any] = self.session.budget().memo.setdefault("items", {})
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
                    self.warn_once(
                        item_id,
                        f"1Password could not read the item {item_id} "
                        f"({response.error}); it is left out.",
                    )
        return [memo[i] for i in ids if i in memo]

    def read(self, item_id: str) -> Any:
        """The item as this command last read it, else read now."""
        memo = self.session.budget().memo.get("items", {})
        return memo.get(item_id) or self.get(item_id)

    def get(self, item_id: str) -> Any:
        """The item as 1Password holds it now."""
        vault_id = self.vault_id()
        return self._read(
            f"reading an item of the vault '{self.vault_name}'",
            lambda c: c.items.get(vault_id, item_id),
        )

    def create(self, params: Any) -> Any:
        return self._write(
            f"creating '{params.title}' in the vault '{self.vault_name}'",
            lambda c: c.items.create(params),
            params.title,
        )

    def put(self, raw: Any) -> Any:
        """Save ``raw``; an archived item is never written (``ItemRefused``)."""
        if self._state_of(raw.id) == ItemState.ARCHIVED:
            raise ItemRefused(
                f"'{raw.title}' is archived in 1Password, so it is not changed. "
                f"Restore it in the 1Password app (Archive > Restore) or pick "
                f"another item."
            )
        saved = self.session.call(
            f"saving '{raw.title}' in the vault '{self.vault_name}'",
            lambda c: c.items.put(raw),
            writing=True,
            names=(raw.title,),
        )
        self._remember(saved)
        return saved

    def _remember(self, saved: Any) -> None:
        """What this command read, with the item it just saved: the memo stays true without
        listing and reading again (other writers are seen by the next command, as before)."""
        memo = self.session.budget().memo
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
