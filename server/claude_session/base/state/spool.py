"""``claude-session/spool/``: session records the hooks made, one file per record, waiting for
the core to move them into the tracker outbox (``tracker.delivery``).

A hook cannot reach the tracker (no network, no SQLite writer on its path): it finalizes a
session that ended without /end and spools the record here; the next command of the core takes
every spooled record into the outbox. A record is spooled under its id, so a finalization redone
after a kill replaces the same file. Standard library only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from claude_session.paths import Paths, file_stem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
else:
    Any = object  # annotations and aliases only: the hooks never import typing

Record = dict[str, Any]


def put(paths: Paths, record: Record) -> Path:
    """Spool ``record`` (SessionRecord's shape, plain JSON), redacted, under its id."""
    from claude_session.base.redact import redact_data
    from claude_session.base.statefile import atomic_write

    record = redact_data(record)
    target = paths.spool / f"{file_stem(str(record['id']))}.json"
    atomic_write(target, json.dumps(record, indent=1))
    return target


def records(paths: Paths) -> list[tuple[Path, int, Record]]:
    """The spooled records by file name, each with its file and inode (for ``remove``); a file
    that is not a JSON object is moved aside and told to the calling flow."""
    from claude_session.base.statefile import json_files

    return json_files(paths.spool, "a session record")


def remove(path: Path, inode: int) -> None:
    """Delete a spooled record once it is in the outbox, unless a hook spooled it again since
    it was read (then the newer copy is taken next time)."""
    from claude_session.base.statefile import remove_if_same

    remove_if_same(path, inode)


def count(paths: Paths) -> int:
    """How many records are spooled, without reading them (the status line asks)."""
    try:
        with os.scandir(paths.spool) as found:
            return sum(1 for e in found if e.name.endswith(".json") and not e.name.startswith("."))
    except OSError:
        return 0
