"""Making a session record one the tracker can store, before it is queued.

A record holds text and JSON from repositories, scans and transcripts: anything. The tracker
(PostgreSQL or SQLite behind the service, or the local SQLite file) cannot store some of it, and
a record it cannot store used to sit at the head of the outbox for good. ``sanitize_record``
returns a copy the tracker takes, and a list of what it changed, in words, for the flow's
warnings:

- NUL characters are removed from every string, dictionary keys included (PostgreSQL ``text``
  and ``jsonb`` refuse them);
- unpaired surrogates (text that is not Unicode) become U+FFFD; a surrogate pair becomes the
  character it encodes;
- the counts (duration, commits, tokens) are kept within the tracker's 64-bit columns
  (0 .. 2^63-1); integers in free-form JSON past 64 bits become text;
- NaN and infinities (not JSON) become null; bytes, sets and other objects in free-form JSON
  become text or lists;
- timestamps are kept between 1970-01-01 and 9999-12-31 in UTC, so that no time zone offset
  takes them out of the years a database or ``datetime`` can hold;
- long texts and lists are cut, saying how much was cut, and the whole record is kept well under
  the tracker's body limit (1 MiB); free-form JSON nested deeper than the tracker holds is cut;
  names, URLs and ids are cut by their bytes of UTF-8, never their characters: what the
  tracker's indexes hold is bytes (``limits.KEY_TEXT_BYTES``).

What the tracker can hold is ``store/limits.py``'s: the same definition the service checks.

The function is idempotent: a sanitized record passes through unchanged, with no changes listed.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timezone
from typing import Any

from claude_session.models import SessionRecord
from claude_session.tracker.store.limits import (
    API_BODY,
    EARLIEST,
    KEY_FIELDS,
    KEY_TEXT_BYTES,
    LATEST,
    MAX_DEPTH,
    MAX_INT,
    MIN_INT,
    RECORD_DEPTH,
)

COUNT_FIELDS = (
    "duration_minutes",
    "commits_count",
    "tokens_input",
    "tokens_output",
    "tokens_cache_creation",
    "tokens_cache_read",
)
BODY_TARGET = 3 * API_BODY // 4
SHORT_BYTES = 1_000  # bytes of UTF-8 of names, branches, ids, machine, a run's command
FREE_DEPTH = MAX_DEPTH - RECORD_DEPTH  # levels of free-form JSON (results, findings) kept
SHOWN_PATHS = 5

# Size limits at scale 1; each later pass halves them until the record fits BODY_TARGET.
LIMITS = {
    "summary": 20_000,
    "item": 2_000,
    "items": 500,
    "files": 2_000,
    "runs": 100,
    "findings": 500,
    "text": 10_000,
    "entries": 1_000,
}
FLOORS = {
    "summary": 200,
    "item": 100,
    "items": 2,
    "files": 2,
    "runs": 1,
    "findings": 1,
    "text": 100,
    "entries": 2,
}

_SURROGATE = re.compile("[\ud800-\udfff]")
_SHORT_FIELDS = (
    "id",
    "application_name",
    "repository_url",
    "claude_session_id",
    "starting_branch",
    "ending_branch",
    "context_id",
    "session_source",
    "machine",
    "end_mode",
)
_TEXT_LISTS = (("accomplishments", "items"), ("next_steps", "items"), ("files_changed", "files"))


def sanitize_record(record: SessionRecord) -> tuple[SessionRecord, list[str]]:
    """A copy of ``record`` the tracker can store, and what was changed (empty: nothing)."""
    dumped = record.model_dump(mode="python")
    scale = 1.0
    while True:
        cleaner = _Cleaner(scale)
        try:
            data = cleaner.record(dict(dumped))
        except _TooBig:
            scale /= 2
            continue
        size = len(
            json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode()
        )
        if size <= BODY_TARGET or cleaner.at_floor:
            break
        scale /= 2
    if not cleaner.changed:
        return record, []
    return SessionRecord.model_validate(data), cleaner.messages(record.id)


class _TooBig(Exception):
    """This pass's text already exceeds the target: try smaller limits."""


class _Cleaner:
    """One pass over a record at one size scale; collects what it changed."""

    def __init__(self, scale: float) -> None:
        self.limit = {name: max(FLOORS[name], int(value * scale)) for name, value in LIMITS.items()}
        self.at_floor = self.limit == FLOORS
        self.paths: dict[str, list[str]] = {}
        self.notes: list[str] = []
        self.cut = {"long_text": 0, "long_list": 0}
        self.size = 0  # characters of text kept so far (stops a hopeless pass early)

    @property
    def changed(self) -> bool:
        return bool(self.paths or self.notes)

    def _mark(self, kind: str, path: str) -> None:
        self.paths.setdefault(kind, []).append(path)

    # --- the record's own fields ------------------------------------------------------------

    def record(self, data: dict[str, Any]) -> dict[str, Any]:
        for name in _SHORT_FIELDS:
            if data.get(name) is not None:
                data[name] = self.short(data[name], name, None if name == "id" else _bytes(name))
        data["summary"] = self.text(data["summary"], "summary", self.limit["summary"])
        for name, size in _TEXT_LISTS:
            data[name] = self.text_list(data[name], name, self.limit[size])
        for name in COUNT_FIELDS:
            data[name] = self.bounded(data[name], name)
        for name in ("started_at", "ended_at"):
            data[name] = self.moment(data[name], name)
        data["maintenance_runs"] = self.runs(data["maintenance_runs"])
        findings = self.cut_list(
            data["security_findings"], "security_findings", self.limit["findings"], marker=False
        )
        data["security_findings"] = [
            self.finding(item, f"security_findings[{n}]") for n, item in enumerate(findings)
        ]
        return data

    def runs(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = self.cut_list(runs, "maintenance_runs", self.limit["runs"], marker=False)
        cleaned = []
        for n, run in enumerate(kept):
            where = f"maintenance_runs[{n}]"
            run = dict(run)
            run["id"] = self.text(run["id"], f"{where}.id", None)
            for name in ("command", "status"):
                run[name] = self.short(run[name], f"{where}.{name}", SHORT_BYTES)
            if run.get("notes") is not None:
                run["notes"] = self.text(run["notes"], f"{where}.notes", self.limit["text"])
            run["results"] = self.json(run.get("results"), f"{where}.results", 1)
            run["run_at"] = self.moment(run["run_at"], f"{where}.run_at")
            cleaned.append(run)
        return cleaned

    def finding(self, item: Any, path: str) -> Any:
        cleaned = self.json(item, path, 1)
        if isinstance(cleaned, dict):
            return cleaned
        self._mark("not_object", path)
        return {"value": cleaned}

    # --- values -----------------------------------------------------------------------------

    def text(self, value: str, path: str, limit: int | None) -> str:
        if "\x00" in value:
            value = value.replace("\x00", "")
            self._mark("nul", path)
        if _SURROGATE.search(value):
            value = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
            self._mark("surrogate", path)
        if limit is not None and len(value) > limit:
            longest = f" … [{len(value)} characters cut]"
            keep = max(0, limit - len(longest))
            self._mark("long_text", path)
            self.cut["long_text"] += len(value) - keep
            value = f"{value[:keep]} … [{len(value) - keep} characters cut]"
        self.size += len(value)
        if self.size > BODY_TARGET and not self.at_floor:
            raise _TooBig
        return value

    def short(self, value: str, path: str, limit: int | None) -> str:
        """A name, URL or id: cut to ``limit`` bytes of UTF-8 (what the tracker bounds, as
        its indexes do: 1,000 CJK characters are 3,000 bytes), on a character boundary."""
        value = self.text(value, path, None)
        size = len(value.encode("utf-8"))
        if limit is None or size <= limit:
            return value
        self._mark("long_text", path)
        marker = f" … [{size:,} bytes, cut]"
        kept = value.encode("utf-8")[: max(0, limit - len(marker.encode("utf-8")))]
        value = kept.decode("utf-8", "ignore") + marker
        self.cut["long_text"] += size - len(value.encode("utf-8"))
        return value

    def text_list(self, values: list[str], path: str, limit: int) -> list[str]:
        kept = self.cut_list(values, path, limit, marker=True)
        return [
            self.text(v, f"{path}[{n}]", self.limit["item"]) if isinstance(v, str) else v
            for n, v in enumerate(kept)
        ]

    def cut_list(self, values: list[Any], path: str, limit: int, *, marker: bool) -> list[Any]:
        if len(values) <= limit:
            return list(values)
        keep = limit if not marker else limit - 1
        self._mark("long_list", path)
        self.cut["long_list"] += len(values) - keep
        if not marker:
            return list(values[:limit])
        return [*values[:keep], f"[{len(values) - keep} more entries cut]"]

    def bounded(self, value: int, path: str) -> int:
        if 0 <= value <= MAX_INT:
            return value
        fixed = min(max(value, 0), MAX_INT)
        self.notes.append(f"{path} {value} is outside the tracker's 64-bit column; sent as {fixed}")
        return fixed

    def moment(self, value: datetime, path: str) -> datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        try:
            utc = value.astimezone(timezone.utc)
        except OverflowError:
            utc = LATEST if value.year > 5000 else EARLIEST
        else:
            if EARLIEST <= utc <= LATEST:
                return value
            utc = min(max(utc, EARLIEST), LATEST)
        self.notes.append(
            f"{path} {value.isoformat()} is outside 1970-9999; sent as {utc.isoformat()}"
        )
        return utc

    def json(self, value: Any, path: str, depth: int) -> Any:
        """Free-form JSON (maintenance results, findings): made storable and bounded."""
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            return self.text(value, path, self.limit["text"])
        if isinstance(value, int):
            return self.integer(value, path)
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            self._mark("nan", path)
            return None
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        if isinstance(value, (dict, list, tuple, set, frozenset)) and depth > FREE_DEPTH:
            self._mark("deep", path)
            return f"[nested deeper than {FREE_DEPTH} levels: cut]"
        if isinstance(value, dict):
            return self.mapping(value, path, depth)
        if isinstance(value, (list, tuple, set, frozenset)):
            items = self.cut_list(list(value), path, self.limit["entries"], marker=True)
            return [self.json(item, f"{path}[{n}]", depth + 1) for n, item in enumerate(items)]
        self._mark("not_json", path)
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        return self.text(text, path, self.limit["text"])

    def integer(self, value: int, path: str) -> int | str:
        if MIN_INT <= value <= MAX_INT:
            return value
        self._mark("big", path)
        if value.bit_length() > 1000:
            return f"[integer of {value.bit_length()} bits cut]"
        return str(value)

    def mapping(self, value: dict[Any, Any], path: str, depth: int) -> dict[str, Any]:
        items = list(value.items())
        limit = self.limit["entries"]
        if len(items) > limit:
            self._mark("long_list", path)
            self.cut["long_list"] += len(items) - limit + 1
            items = [*items[: limit - 1], ("[cut]", f"{len(items) - limit + 1} more keys")]
        cleaned: dict[str, Any] = {}
        for key, item in items:
            name = key if isinstance(key, str) else str(key)
            name = self.short(name, f"{path} (a key)", SHORT_BYTES)
            while name in cleaned:  # two keys that differed only by what was removed
                name = f"{name}~"
            cleaned[name] = self.json(item, f"{path}.{_short(name)}", depth + 1)
        return cleaned

    # --- what to tell the user --------------------------------------------------------------

    def messages(self, record_id: str) -> list[str]:
        said = {
            "nul": "NUL characters removed from",
            "surrogate": "text that is not Unicode (unpaired surrogates) replaced in",
            "nan": "NaN or infinite numbers replaced by null in",
            "big": "integers past 64 bits sent as text in",
            "not_json": "values that are not JSON converted to text in",
            "not_object": 'findings that are not objects wrapped as {"value": ...} in',
            "deep": f"JSON nested deeper than {FREE_DEPTH} levels cut in",
            "long_text": f"long texts cut ({self.cut['long_text']:,} characters in all) in",
            "long_list": f"long lists cut ({self.cut['long_list']:,} entries in all) in",
        }
        parts = [f"{said[kind]} {_listed(paths)}" for kind, paths in self.paths.items()]
        parts.extend(self.notes)
        return [
            f"Session record {record_id} changed so the tracker can store it: {part}."
            for part in parts
        ]


def _bytes(name: str) -> int:
    """The bytes a short field keeps: what an index of the tracker holds for the application's
    name and repository URL (``limits.KEY_TEXT_BYTES``), ``SHORT_BYTES`` for the others."""
    return KEY_TEXT_BYTES if name in KEY_FIELDS else SHORT_BYTES


def _short(name: str) -> str:
    return name if len(name) <= 40 else f"{name[:37]}..."


def _listed(paths: list[str]) -> str:
    unique = [p if len(p) <= 120 else f"{p[:117]}..." for p in dict.fromkeys(paths)]
    shown = ", ".join(unique[:SHOWN_PATHS])
    more = len(unique) - SHOWN_PATHS
    return f"{shown} and {more} more" if more > 0 else shown
