"""The local ClaudeSync vault: one JSON file per item under ``claude-session/vault/``.

Used when no 1Password credentials are set, or when they are but ``onepassword-sdk`` cannot be
loaded here (``open_vault`` says so). Never in place of a 1Password that cannot be reached: that
is an error, and the hand-off waits for 1Password (``vault/__init__.py``).
Files are written atomically (0600, folder 0700); creating an item and changing one run under a
lock on the folder, so two sessions handing off the same day get distinct titles and two
writers of one item never lose each other's change. Listing takes no lock: atomic renames mean
a reader sees an old file or a new one, never half of one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from claude_session.base import flow
from claude_session.base.bounded import NotStateFile, read_regular
from claude_session.base.statefile import atomic_write, file_lock, move_aside
from claude_session.errors import StateError, VaultUnavailable
from claude_session.models import PendingHandoff
from claude_session.paths import Paths
from claude_session.vault.base import (
    HandoffItem,
    Vault,
    item_not_found,
    matches,
    new_item,
    newest_first,
    with_imported,
    with_response,
)

# Ids we generate are uuids; anything else is looked up by title, never joined into a path.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


def _reason(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors()[:3]]
        return "not a hand-off item (" + "; ".join(parts) + ")"
    return str(exc)


class LocalVault(Vault):
    """Hand-off items as files on this machine."""

    kind = "local"

    def __init__(self, paths: Paths, *, lock_timeout: float = 10.0) -> None:
        self.folder = paths.vault
        self.description = f"local vault at {self.folder}"
        self.lock_timeout = lock_timeout
        #: why 1Password, though configured, cannot be used here (``open_vault``): ``check``
        #: fails with it, so ``doctor`` says so
        self.unusable_1password: str | None = None

    # --- the interface ---

    def create_item(self, request: PendingHandoff) -> HandoffItem:
        with self._lock():
            item = new_item(request, {item.title for item in self._all()})
            self._write(item)
        return item

    def list_items(
        self, *, project: str | None = None, repository: str | None = None
    ) -> list[HandoffItem]:
        found = [i for i in self._all() if matches(i, project=project, repository=repository)]
        return newest_first(found)

    def get_item(self, ref: str) -> HandoffItem:
        return self._find(ref)

    def set_response(self, ref: str, response: str) -> HandoffItem:
        return self._update(ref, lambda item: with_response(item, response))

    def mark_imported(
        self, ref: str, *, now: datetime | None = None, answer: str | None = None
    ) -> HandoffItem:
        return self._update(ref, lambda item: with_imported(item, now, answer=answer))

    def check(self) -> str:
        if self.unusable_1password:
            raise VaultUnavailable(self.unusable_1password)
        return self.description

    # --- files ---

    def _lock(self) -> AbstractContextManager[None]:
        return file_lock(self.folder / "items", timeout=self.lock_timeout)

    def _path(self, item_id: str) -> Path:
        return self.folder / f"{item_id}.json"

    def _write(self, item: HandoffItem) -> None:
        atomic_write(self._path(item.id), item.model_dump_json(indent=2) + "\n")

    def _load(self, path: Path) -> HandoffItem | None:
        """The item in ``path``; None if it is gone or was corrupt (then moved aside)."""
        try:
            raw = read_regular(path)
        except FileNotFoundError:
            return None
        except NotStateFile as exc:  # a FIFO, a link, /dev/zero, a huge file: never read it
            flow.warn(move_aside(path, str(exc)))
            return None
        except OSError as exc:
            raise StateError(
                f"Cannot read {path} ({exc.strerror}). Check its permissions."
            ) from exc
        try:
            item = HandoffItem.model_validate_json(raw)
            if item.id != path.stem:
                raise ValueError(f"its id {item.id!r} does not match the file name")
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            flow.warn(move_aside(path, _reason(exc)))
            return None
        return item

    def _all(self) -> list[HandoffItem]:
        if not self.folder.is_dir():
            return []
        items = (
            self._load(p) for p in sorted(self.folder.glob("*.json")) if not p.name.startswith(".")
        )
        return [item for item in items if item is not None]

    def _find(self, ref: str) -> HandoffItem:
        if _ID.match(ref):
            item = self._load(self._path(ref))
            if item is not None:
                return item
        everything = self._all()
        for item in everything:
            if item.title == ref:
                return item
        raise item_not_found(ref, self.description, newest_first(everything))

    def _update(self, ref: str, change: Callable[[HandoffItem], HandoffItem]) -> HandoffItem:
        with self._lock():
            item = self._find(ref)
            changed = change(item)
            if changed is not item:
                self._write(changed)
        return changed
