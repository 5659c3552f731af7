"""What every backend (the ClaudeSync vault, the session tracker) is: a ``Resource`` with a
description for the person. A ``Resource`` holds something to release (connections, clients,
child processes) and is used in a ``with`` block.

Warnings do not live here: a backend reports them where they arise, with ``flow.warn``.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_Self = TypeVar("_Self", bound="Resource")


class Resource:
    """Something to ``close()``, usable in a ``with`` block."""

    def close(self) -> None:
        """Release what it holds (nothing, for one that holds none)."""

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Backend(Resource):
    """A vault or a tracker."""

    #: 'local', '1password', 'http', ...
    kind: str
    #: which one is in use, in words for the messages shown to the person
    description: str
