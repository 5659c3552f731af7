"""What the tracker's columns can hold, checked before anything reaches the database: the one
definition the service, the local tracker and the client's ``sanitize`` (which makes a record
storable before it is queued) all use.

A record the database cannot store must be refused with a 4xx that names the field, never a
5xx: the client takes a 5xx for "tracker down" and retries it for ever. Both databases hold the
same things: text without NUL and without lone surrogates (PostgreSQL refuses the first, UTF-8
the second), JSON documents at most ``MAX_DEPTH`` deep with finite numbers, integers within a
signed 64-bit column, and moments between ``EARLIEST`` and ``LATEST`` in UTC (Python's
``datetime`` ends at year 9999, so a later moment could be stored but never read back).

``check_document`` walks a record (a model, or its parsed JSON) and raises ``InvalidRecord``
naming the first value no column can hold; ``check_keys`` bounds the texts an index holds
(``KEY_TEXT_BYTES``); ``check_moment`` bounds one timestamp.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel

from claude_session.errors import InvalidRecord

MAX_DEPTH = 64  # levels a record's JSON may nest, the record's own included
RECORD_DEPTH = 4  # what the record itself takes (record, runs, a run, results): the rest is
#                   for free-form results and findings
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 12, 31, tzinfo=timezone.utc)  # a day short: any zone still reads it
API_BODY = 1024 * 1024  # bytes of one API request: a record is a few kB; this bounds memory
#: bytes (UTF-8) of the texts a unique index holds with the user's id: an application is found
#: by its repository URL, or by its name when it has none. PostgreSQL's btree refuses an index
#: row past 2,704 bytes (1,000 CJK characters are ~3,000), and refused it as an error that read
#: as "database unavailable" (redteam N44); both databases take the same, with room to spare.
KEY_TEXT_BYTES = 2_000
KEY_FIELDS = ("application_name", "repository_url")


def _refused(field: str, message: str) -> InvalidRecord:
    """A value no column can hold; ``field`` is its dotted path (``maintenance_runs.0.notes``)."""
    return InvalidRecord(f"{field} {message}", field)


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which the tracker cannot store"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (an unpaired \\ud800-\\udfff), which is not text"
    return None


def check_keys(record: Any) -> None:
    """Raise InvalidRecord naming the first of ``KEY_FIELDS`` past ``KEY_TEXT_BYTES``."""
    for name in KEY_FIELDS:
        value = getattr(record, name, None)
        size = len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else 0
        if size > KEY_TEXT_BYTES:
            raise _refused(
                name,
                f"is longer than the tracker keeps ({size:,} bytes of UTF-8, at most "
                f"{KEY_TEXT_BYTES:,}); shorten it",
            )


def check_document(value: Any, path: Iterable[str] = ()) -> None:
    """Raise InvalidRecord for the first value under ``value`` that a column cannot hold."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, tuple(path))]
    while stack:
        item, where = stack.pop()
        if len(where) > MAX_DEPTH:
            raise _refused(_name(where[:MAX_DEPTH]), f"nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item, where)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not MIN_INT <= item <= MAX_INT:
                raise _refused(_name(where), "is an integer past 64 bits")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _refused(_name(where), "is not a finite number (NaN or Infinity)")
        elif isinstance(item, datetime):
            check_moment(item, _name(where))
        elif isinstance(item, BaseModel):
            stack.extend((child, (*where, key)) for key, child in item.__dict__.items())
        elif isinstance(item, dict):
            for key, child in item.items():
                _check_text(str(key), (*where, str(key)))
                stack.append((child, (*where, str(key))))
        elif isinstance(item, list):
            stack.extend((child, (*where, str(n))) for n, child in enumerate(item))


def check_moment(moment: datetime, field: str) -> datetime:
    """``moment`` in UTC (naive counts as UTC), or InvalidRecord when outside the storable range."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        field = _name((field,))
        raise _refused(
            field,
            f"must fall between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} "
            f"in UTC (got {moment.isoformat()})",
        )
    return utc


def _check_text(text: str, where: tuple[str, ...]) -> None:
    problem = text_problem(text)
    if problem is not None:
        raise _refused(_name(where), problem)


def _name(where: tuple[str, ...]) -> str:
    """The dotted path, with any lone surrogate in a key spelled as an escape (it is not text)."""
    name = ".".join(where) or "body"
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def command_type_name(command: str) -> str:
    """A maintenance run's type: its command without options, paths or values, lower-cased, at
    most three words (``npm audit --json`` -> ``npm audit``; ``./scan.sh`` -> ``scan.sh``)."""
    words: list[str] = []
    for word in command.strip().split():
        if word.startswith("-") or "=" in word or len(words) == 3:
            break
        if "/" in word:
            word = word.rstrip("/").rsplit("/", 1)[-1]
            if words:  # a path argument ends the name; a path as the program is its name
                break
        words.append(word.lower())
    return " ".join(words)[:100] or "(unnamed)"
