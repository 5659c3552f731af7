"""The text conventions of a context file, shared by its writer and its reader (and the
hand-off's reader of claude.ai answers): lines split on newlines only, front matter values bare
when unambiguous and JSON otherwise, free-text lines that could pose as a section heading
escaped. Standard library only."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

#: a list item's bullet (``-``, ``*``, ``+`` or ``1.``)
BULLET = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")


def split_lines(text: str) -> list[str]:
    """Split on newlines only: ``str.splitlines`` also splits on characters a file keeps."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def clean_text(text: str) -> str:
    """Free text as a file keeps it: no trailing blanks on lines, no blank lines at the ends."""
    return "\n".join(line.rstrip() for line in split_lines(text)).strip("\n")


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]+")


def _parses_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except RecursionError:
        return True  # deeply nested brackets: quote them, which always reads back
    except ValueError:
        return False
    return True


def scalar(value: Any) -> str:
    if (
        isinstance(value, str)
        and value
        and value == value.strip()
        and value.isprintable()
        and not value.startswith('"')
        and not _parses_as_json(value)
    ):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def unscalar(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def quoted_key(name: str) -> str:
    return name if _PLAIN_KEY.fullmatch(name) else json.dumps(name, ensure_ascii=False)


def split_entry(line: str) -> tuple[str, Any] | None:
    """``key: value`` with a bare or JSON-quoted key; None when the line is not one."""
    if line.startswith('"'):
        try:
            key, end = json.JSONDecoder().raw_decode(line)
        except (ValueError, RecursionError):
            return None
        rest = line[end:]
        if not isinstance(key, str) or not rest.startswith(":"):
            return None
    else:
        key, sep, rest = line.partition(":")
        if not sep or not key.strip():
            return None
        key, rest = key.strip(), ":" + rest
    return key, unscalar(rest[1:].strip())


_HEADING_LIKE = re.compile(r"\\*#{1,2}(?!#)")
_ESCAPED = re.compile(r"\\+#{1,2}(?!#)")


def escape(text: str) -> list[str]:
    return ["\\" + line if _HEADING_LIKE.match(line) else line for line in split_lines(text)]


def unescape(lines: list[str]) -> str:
    return clean_text("\n".join(line[1:] if _ESCAPED.match(line) else line for line in lines))
