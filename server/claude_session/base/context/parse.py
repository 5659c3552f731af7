"""Reading a context file back: whatever ``render`` wrote comes back equal; a hand-edited or
damaged file gives what can be read."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from claude_session.base.clock import parse_time
from claude_session.base.context.model import KINDS, SECTIONS, WORKING_LISTS, Context, clean_items
from claude_session.base.context.syntax import BULLET, split_entry, split_lines, unescape, utc

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

_SECTION_HEADING = re.compile(r"##(?!#)[ \t]*(.*?)[ \t]*:?[ \t]*$")
_SUBHEADING = re.compile(r"###(?!#)[ \t]*(.*?)[ \t]*:?[ \t]*$")
_GENERATED_WHERE = re.compile(r"On branch `.*`( at `.*`)?\.")
_SECTION_NAMES = {name.lower(): name for name in SECTIONS} | {
    "insights": "Insights from claude.ai",
    "next": "Next steps",
    "working state (git)": "Working state",
}


def _split_front_matter(lines: list[str]) -> tuple[dict[str, Any], list[str]]:
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or lines[start].strip() != "---":
        return {}, lines
    for end in range(start + 1, len(lines)):
        if lines[end].strip() == "---":
            entries = (split_entry(line) for line in lines[start + 1 : end])
            return dict(e for e in entries if e is not None), lines[end + 1 :]
    return {}, lines


def _split_sections(lines: list[str]) -> tuple[str | None, list[tuple[str, list[str]]]]:
    """The title (first ``# `` line before any section) and the ``## `` sections in order."""
    title: str | None = None
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in lines:
        heading = _SECTION_HEADING.fullmatch(line)
        if heading:
            sections.append((heading.group(1), []))
        elif title is None and len(sections) == 1 and re.match(r"#(?!#)", line):
            title = line[1:].strip()
        else:
            sections[-1][1].append(line)
    return title, sections


def _parse_items(lines: list[str]) -> list[str]:
    items: list[list[str]] = []
    for line in lines:
        if line.startswith("- "):
            items.append([line[2:]])
        elif line.startswith("  ") and items:
            items[-1].append(line[2:])
        elif line.strip():
            bullet = BULLET.match(line)
            items.append([line[bullet.end() :] if bullet else line])
    return clean_items(["\n".join(item) for item in items])


def _parse_runs(lines: list[str]) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for line in lines:
        entry = split_entry(line[2:]) if line.startswith(("- ", "  ")) else None
        if entry is None:
            continue
        if line.startswith("- ") or not runs:
            runs.append({})
        runs[-1][entry[0]] = entry[1]
    return runs


def _parse_working_state(lines: list[str], found: dict[str, Any]) -> list[str]:
    """Fill the working-state lists; return lines that belong to none (kept in notes)."""
    titles = {title.lower(): name for name, title in WORKING_LISTS}
    current: str | None = None
    groups: dict[str, list[str]] = {}
    stray: list[str] = []
    for line in lines:
        sub = _SUBHEADING.fullmatch(line)
        if sub:
            current = titles.get(sub.group(1).lower())
            if current is None:
                stray.append(line)
        elif current is not None:
            groups.setdefault(current, []).append(line)
        elif not _GENERATED_WHERE.fullmatch(line):
            stray.append(line)
    for name, group in groups.items():
        found.setdefault(name, []).extend(_parse_items(group))
    return stray


def _append_text(found: dict[str, Any], name: str, text: str) -> None:
    if text:
        found[name] = f"{found[name]}\n\n{text}" if found.get(name) else text


def _parse_body(sections: list[tuple[str, list[str]]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    free = {"Summary": "summary", "Notes": "notes", "Insights from claude.ai": "insights"}
    lists = {
        "Accomplishments": "accomplishments",
        "Next steps": "next_steps",
        "Files changed": "files_changed",
    }
    for heading, lines in sections:
        name = _SECTION_NAMES.get(heading.lower())
        if name in free:
            _append_text(found, free[name], unescape(lines))
        elif name in lists:
            found.setdefault(lists[name], []).extend(_parse_items(lines))
        elif name == "Maintenance runs":
            found.setdefault("maintenance_runs", []).extend(_parse_runs(lines))
        elif name == "Working state":
            stray = unescape(_parse_working_state(lines, found))
            _append_text(found, "notes", f"### Working state\n\n{stray}" if stray else "")
        else:
            # Unknown sections and text before the first section: kept, as part of the notes.
            text = unescape(lines)
            _append_text(found, "notes", f"### {heading}\n\n{text}" if heading and text else text)
    return found


def _parse_created(value: Any) -> datetime:
    when = parse_time(value)  # reads a trailing Z on every Python (fromisoformat: 3.11+)
    try:
        return utc(when) if when is not None else _EPOCH
    except (ValueError, OverflowError):
        return _EPOCH


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def parse(text: str) -> Context:
    """Read a context file. Whatever :func:`render` wrote comes back equal; a hand-edited or
    damaged file gives what can be read (unknown sections go to the notes, a missing front
    matter gives defaults: kind ``pause``, created at the epoch). Never raises."""
    front, body = _split_front_matter(split_lines(text.lstrip("\ufeff")))
    title, sections = _split_sections(body)
    found = _parse_body(sections)
    kind = str(front.get("kind", "pause"))
    if "project" in front:
        project = str(front["project"])
    else:
        project = (title.partition(":")[2].strip() if title else "") or "unknown"
    return Context(
        project=project,
        kind=kind if kind in KINDS else "pause",
        created=_parse_created(front.get("created")),
        branch=_optional_str(front.get("branch")),
        head=_optional_str(front.get("head")),
        session_id=_optional_str(front.get("session_id")),
        repository=_optional_str(front.get("repository")),
        **found,
    )
