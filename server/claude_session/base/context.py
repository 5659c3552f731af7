"""Session context files: render, parse, size budget, redaction, claude.ai return summaries.

Standard library only: hooks read contexts.

A rendered context looks like this::

    ---
    project: demo
    kind: pause
    created: 2024-05-01T12:00:00.123456+00:00
    branch: main
    ---

    # Session context: demo

    ## Summary
    ...
    ## Next steps
    - first
      continued on a second line

Front matter values are written bare when that is unambiguous and as JSON strings otherwise.
In free text (Summary, Notes, Insights) a line that starts with one or two ``#`` (optionally
after backslashes) gets one more leading backslash, so no text can pose as a section heading;
Markdown shows ``\\#`` as ``#``. ``###`` subsections are left as they are.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from claude_session.base.clock import parse_time
from claude_session.base.redact import redact
from claude_session.paths import safe_name

__all__ = [
    "KINDS",
    "RETURN_SECTIONS",
    "SECTIONS",
    "Context",
    "build",
    "context_file_name",
    "merge_insights",
    "parse",
    "parse_return_summary",
    "render",
    "render_insights",
    "summary_excerpt",
]

KINDS = ("pause", "end", "handoff", "compact", "import", "unended")
SECTIONS = (
    "Summary",
    "Accomplishments",
    "Next steps",
    "Notes",
    "Working state",
    "Files changed",
    "Maintenance runs",
    "Insights from claude.ai",
)
RETURN_SECTIONS = ("Decisions", "Changes to make", "Open questions", "Next steps")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_FRONT_KEYS = ("project", "kind", "created", "branch", "head", "session_id", "repository")
_WORKING_LISTS = (
    ("dirty_files", "Dirty files"),
    ("untracked_files", "Untracked files"),
    ("stashes", "Stashes"),
    ("commits", "Commits"),
)
_LIST_FIELDS = (
    "accomplishments",
    "next_steps",
    "dirty_files",
    "untracked_files",
    "stashes",
    "commits",
    "files_changed",
    "maintenance_runs",
)
_RUN_KEYS = ("command", "status", "run_at", "notes", "results")


# --- normalisation: what a context can hold survives a trip through a file -------------------


def _lines(text: str) -> list[str]:
    """Split on newlines only: ``str.splitlines`` also splits on characters a file keeps."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _clean_text(text: str) -> str:
    """Free text as a file keeps it: no trailing blanks on lines, no blank lines at the ends."""
    return "\n".join(line.rstrip() for line in _lines(text)).strip("\n")


def _clean_item(item: str) -> str:
    """A list item: its non-blank lines, the first one without leading blanks."""
    lines = [line.rstrip() for line in _lines(item) if line.strip()]
    if lines:
        lines[0] = lines[0].lstrip()
    return "\n".join(lines)


def _clean_items(items: list[str]) -> list[str]:
    return [cleaned for cleaned in (_clean_item(str(item)) for item in items) if cleaned]


def _clean_run(run: dict[str, Any]) -> dict[str, Any]:
    """A maintenance run as JSON gives it back (datetimes become strings, tuples lists)."""
    cleaned = json.loads(json.dumps(run, default=str, ensure_ascii=False))
    return cleaned if isinstance(cleaned, dict) else {"results": cleaned}


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass
class Context:
    """One session context. Construction normalises text the way a file would (line endings,
    trailing blanks, empty list items), so ``parse(render(c)) == c``."""

    project: str
    kind: str
    created: datetime
    branch: str | None = None
    head: str | None = None
    session_id: str | None = None
    repository: str | None = None
    summary: str = ""
    accomplishments: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    notes: str = ""
    dirty_files: list[str] = field(default_factory=list)
    untracked_files: list[str] = field(default_factory=list)
    stashes: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    files_changed: list[str] = field(default_factory=list)
    maintenance_runs: list[dict[str, Any]] = field(default_factory=list)
    insights: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"context kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        self.created = _utc(self.created)
        for name in ("summary", "notes", "insights"):
            setattr(self, name, _clean_text(getattr(self, name)))
        for name in _LIST_FIELDS[:-1]:
            setattr(self, name, _clean_items(getattr(self, name)))
        self.maintenance_runs = [_clean_run(run) for run in self.maintenance_runs if run]


if TYPE_CHECKING:

    class WorkingTree(Protocol):
        """What a context says of the working tree: ``gitread.Status``, or the core's
        ``WorkingState`` (which adds the stashes)."""

        @property
        def branch(self) -> str | None: ...
        @property
        def head(self) -> str | None: ...
        @property
        def dirty_files(self) -> Sequence[str]: ...
        @property
        def untracked_files(self) -> Sequence[str]: ...


def build(
    kind: str,
    *,
    project: str,
    session_id: str | None,
    tree: WorkingTree | None,
    created: datetime | None = None,
    repository: str | None = None,
    summary: str = "",
    accomplishments: Iterable[str] = (),
    next_steps: Iterable[str] = (),
    notes: str = "",
    commits: Iterable[str] = (),
    files_changed: Iterable[str] = (),
    maintenance_runs: Iterable[dict[str, Any]] = (),
    max_files: int | None = None,
) -> Context:
    """The one way a flow or a hook makes a session's context: what it says of the working
    tree comes from ``tree`` (None outside git: no branch, no files); ``created`` is now unless
    given; ``max_files`` caps each list of the tree's files (a note written without a model)."""
    dirty = list(tree.dirty_files) if tree is not None else []
    untracked = list(tree.untracked_files) if tree is not None else []
    return Context(
        project=project,
        kind=kind,
        created=created or datetime.now(timezone.utc),
        branch=tree.branch if tree is not None else None,
        head=tree.head if tree is not None else None,
        session_id=session_id,
        repository=repository,
        summary=summary,
        accomplishments=list(accomplishments),
        next_steps=list(next_steps),
        notes=notes,
        dirty_files=dirty[:max_files],
        untracked_files=untracked[:max_files],
        stashes=list(getattr(tree, "stashes", ())),
        commits=list(commits),
        files_changed=list(files_changed),
        maintenance_runs=list(maintenance_runs),
    )


# --- scalar values: bare when unambiguous, JSON otherwise ------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]+")


def _parses_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except RecursionError:
        return True  # deeply nested brackets: quote them, which always reads back
    except ValueError:
        return False
    return True


def _scalar(value: Any) -> str:
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


def _unscalar(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _key(name: str) -> str:
    return name if _PLAIN_KEY.fullmatch(name) else json.dumps(name, ensure_ascii=False)


def _split_entry(line: str) -> tuple[str, Any] | None:
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
    return key, _unscalar(rest[1:].strip())


# --- free text escaping ----------------------------------------------------------------------

_HEADING_LIKE = re.compile(r"\\*#{1,2}(?!#)")
_ESCAPED = re.compile(r"\\+#{1,2}(?!#)")


def _escape(text: str) -> list[str]:
    return ["\\" + line if _HEADING_LIKE.match(line) else line for line in _lines(text)]


def _unescape(lines: list[str]) -> str:
    return _clean_text("\n".join(line[1:] if _ESCAPED.match(line) else line for line in lines))


# --- rendering -------------------------------------------------------------------------------


@dataclass
class _Plan:
    """How much of each part goes in: list lengths, text lengths, whether results are kept."""

    limits: dict[str, int]
    text_limits: dict[str, int | None] = field(
        default_factory=lambda: {"summary": None, "notes": None, "insights": None}
    )
    item_limit: int | None = None
    cut_results: bool = False


def _more(count: int) -> str:
    return f"- ... and {count} more"


def _clip(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    kept = text[:limit].rstrip()
    return f"{kept}\n[cut: {len(text) - len(kept)} characters]".lstrip("\n")


def _item_lines(item: str, item_limit: int | None) -> list[str]:
    first, *rest = _lines(_clip(item, item_limit))
    return ["- " + first, *("  " + line for line in rest)]


def _list_lines(items: list[str], limit: int, item_limit: int | None = None) -> list[str]:
    lines = [line for item in items[:limit] for line in _item_lines(item, item_limit)]
    if len(items) > limit:
        lines.append(_more(len(items) - limit))
    return lines


def _run_lines(run: dict[str, Any], cut_results: bool) -> list[str]:
    keys = [k for k in _RUN_KEYS if k in run] + [k for k in run if k not in _RUN_KEYS]
    lines = []
    for key in keys:
        value = run[key]
        if key == "results" and cut_results:
            value = f"[cut: {len(json.dumps(value, ensure_ascii=False, default=str))} characters]"
        lines.append(f"{_key(key)}: {_scalar(value)}")
    return ["- " + lines[0], *("  " + line for line in lines[1:])]


def _working_state(ctx: Context, plan: _Plan) -> list[str]:
    lines = []
    if ctx.branch or ctx.head:
        # For the reader only: the front matter holds the exact values.
        where = f"On branch `{_one_line(ctx.branch or '?')}`"
        lines.append(where + (f" at `{_one_line(ctx.head)}`." if ctx.head else "."))
    for name, title in _WORKING_LISTS:
        items = getattr(ctx, name)
        if items:
            lines += ["", f"### {title}", "", *_list_lines(items, plan.limits[name])]
    return lines[1:] if lines[:1] == [""] else lines


def _section_lines(ctx: Context, plan: _Plan, title: str) -> list[str]:
    if title == "Summary":
        return _escape(_clip(ctx.summary, plan.text_limits["summary"])) if ctx.summary else []
    if title == "Accomplishments":
        return _list_lines(ctx.accomplishments, plan.limits["accomplishments"])
    if title == "Next steps":
        return _list_lines(ctx.next_steps, plan.limits["next_steps"], plan.item_limit)
    if title == "Notes":
        return _escape(_clip(ctx.notes, plan.text_limits["notes"])) if ctx.notes else []
    if title == "Working state":
        return _working_state(ctx, plan)
    if title == "Files changed":
        return _list_lines(ctx.files_changed, plan.limits["files_changed"])
    if title == "Maintenance runs":
        runs = ctx.maintenance_runs
        limit = plan.limits["maintenance_runs"]
        lines = [line for run in runs[:limit] for line in _run_lines(run, plan.cut_results)]
        return lines + ([_more(len(runs) - limit)] if len(runs) > limit else [])
    return _escape(_clip(ctx.insights, plan.text_limits["insights"])) if ctx.insights else []


def _front_matter(ctx: Context) -> list[str]:
    values = {
        "project": ctx.project,
        "kind": ctx.kind,
        "created": ctx.created.isoformat(),
        "branch": ctx.branch,
        "head": ctx.head,
        "session_id": ctx.session_id,
        "repository": ctx.repository,
    }
    entries = [f"{key}: {_scalar(value)}" for key, value in values.items() if value is not None]
    return ["---", *entries, "---"]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _render_plan(ctx: Context, plan: _Plan) -> str:
    title = _one_line(ctx.project) or "?"
    lines = [*_front_matter(ctx), "", f"# Session context: {title}"]
    for section in SECTIONS:
        body = _section_lines(ctx, plan, section)
        if body:
            lines += ["", f"## {section}", "", *body]
    return "\n".join(lines) + "\n"


# --- the budget: cut the least important parts first -----------------------------------------

_Cut = Callable[[Context, _Plan, int], Iterator[None]]


def _shrink_lists(*names: str, floor: int = 0) -> _Cut:
    def cut(ctx: Context, plan: _Plan, budget: int) -> Iterator[None]:
        for name in names:
            while plan.limits[name] > floor:
                plan.limits[name] = max(floor, plan.limits[name] // 2)
                yield

    return cut


def _shrink_text(name: str, floor: int = 0) -> _Cut:
    def cut(ctx: Context, plan: _Plan, budget: int) -> Iterator[None]:
        current = plan.text_limits[name]
        size = len(getattr(ctx, name)) if current is None else current
        while size > floor:
            overflow = len(_render_plan(ctx, plan)) - budget
            size = max(floor, size - max(overflow, 0) - 40)
            plan.text_limits[name] = size
            yield

    return cut


def _cut_results(ctx: Context, plan: _Plan, budget: int) -> Iterator[None]:
    plan.cut_results = True
    yield


def _cap_items(limit: int) -> _Cut:
    def cut(ctx: Context, plan: _Plan, budget: int) -> Iterator[None]:
        plan.item_limit = limit
        yield

    return cut


# Least important first; the summary and the first next steps go last and never entirely.
_CUTS: tuple[_Cut, ...] = (
    _shrink_lists("dirty_files", "untracked_files", "stashes"),
    _shrink_lists("files_changed"),
    _cut_results,
    _shrink_lists("commits"),
    _shrink_text("insights"),
    _shrink_lists("maintenance_runs"),
    _shrink_text("notes"),
    _shrink_lists("accomplishments"),
    _shrink_lists("next_steps", floor=3),
    _shrink_text("summary", floor=600),
    _cap_items(300),
    _shrink_lists("next_steps", floor=1),
    _cap_items(120),
    _shrink_text("summary", floor=100),
)


def _fit(ctx: Context, list_limit: int, budget: int) -> str:
    plan = _Plan(limits={name: max(0, list_limit) for name in _LIST_FIELDS})
    text = _render_plan(ctx, plan)
    for cut in _CUTS:
        if len(text) <= budget:
            break
        for _ in cut(ctx, plan, budget):
            text = _render_plan(ctx, plan)
            if len(text) <= budget:
                break
    return text


def _hard_cut(text: str, budget: int) -> str:
    note = "\n[cut: {} characters]\n"
    room = max(0, budget - len(note.format(len(text))))
    cut = note.format(len(text) - room)
    return (text[:room] + cut)[:budget] if budget > 0 else ""


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)[0]
    if isinstance(value, list):
        return [_redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_value(item) for key, item in value.items()}
    return value


def _redacted(ctx: Context) -> Context:
    changes = {
        f.name: _redact_value(getattr(ctx, f.name))
        for f in dataclasses.fields(ctx)
        if f.name not in ("kind", "created")
    }
    return dataclasses.replace(ctx, **changes)


def render(ctx: Context, *, budget: int = 8000, list_limit: int = 20) -> str:
    """The context as Markdown, redacted, at most ``budget`` characters."""
    clean = _redacted(ctx)
    target = budget
    text = ""
    for _ in range(4):
        text = redact(_fit(clean, list_limit, target))[0]
        if len(text) <= budget:
            return text
        # The whole-text pass found something the field-by-field one could not see.
        target -= len(text) - budget
    return redact(_hard_cut(text, budget))[0][:budget]


# --- parsing ---------------------------------------------------------------------------------

_SECTION_HEADING = re.compile(r"##(?!#)[ \t]*(.*?)[ \t]*:?[ \t]*$")
_SUBHEADING = re.compile(r"###(?!#)[ \t]*(.*?)[ \t]*:?[ \t]*$")
_BULLET = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
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
            entries = (_split_entry(line) for line in lines[start + 1 : end])
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
            bullet = _BULLET.match(line)
            items.append([line[bullet.end() :] if bullet else line])
    return _clean_items(["\n".join(item) for item in items])


def _parse_runs(lines: list[str]) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for line in lines:
        entry = _split_entry(line[2:]) if line.startswith(("- ", "  ")) else None
        if entry is None:
            continue
        if line.startswith("- ") or not runs:
            runs.append({})
        runs[-1][entry[0]] = entry[1]
    return runs


def _parse_working_state(lines: list[str], found: dict[str, Any]) -> list[str]:
    """Fill the working-state lists; return lines that belong to none (kept in notes)."""
    titles = {title.lower(): name for name, title in _WORKING_LISTS}
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
            _append_text(found, free[name], _unescape(lines))
        elif name in lists:
            found.setdefault(lists[name], []).extend(_parse_items(lines))
        elif name == "Maintenance runs":
            found.setdefault("maintenance_runs", []).extend(_parse_runs(lines))
        elif name == "Working state":
            stray = _unescape(_parse_working_state(lines, found))
            _append_text(found, "notes", f"### Working state\n\n{stray}" if stray else "")
        else:
            # Unknown sections and text before the first section: kept, as part of the notes.
            text = _unescape(lines)
            _append_text(found, "notes", f"### {heading}\n\n{text}" if heading and text else text)
    return found


def _parse_created(value: Any) -> datetime:
    when = parse_time(value)  # reads a trailing Z on every Python (fromisoformat: 3.11+)
    try:
        return _utc(when) if when is not None else _EPOCH
    except (ValueError, OverflowError):
        return _EPOCH


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def parse(text: str) -> Context:
    """Read a context file. Whatever :func:`render` wrote comes back equal; a hand-edited or
    damaged file gives what can be read (unknown sections go to the notes, a missing front
    matter gives defaults: kind ``pause``, created at the epoch). Never raises."""
    front, body = _split_front_matter(_lines(text.lstrip("\ufeff")))
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


# --- helpers for the edges -------------------------------------------------------------------


def context_file_name(project: str, kind: str, created: datetime) -> str:
    """``<project>-<YYYYmmdd-HHMMSS>-<kind>-<random>.md``; the suffix keeps two sessions that
    save in the same second apart."""
    stamp = _utc(created).strftime("%Y%m%d-%H%M%S")
    kind = safe_name(kind, fallback="context")
    return f"{safe_name(project)}-{stamp}-{kind}-{secrets.token_hex(3)}.md"


def summary_excerpt(text: str, limit: int = 400) -> str:
    """The start of a rendered file's Summary section, cheaply (no full parse)."""
    start = text.find("\n## Summary\n")
    if start < 0:
        return ""
    start += len("\n## Summary\n")
    stop = text.find("\n## ", start)
    chunk = text[start : stop if stop >= 0 else start + 4 * limit + 100]
    summary = _unescape(_lines(chunk))
    if len(summary) <= limit:
        return summary
    return summary[: max(0, limit - 1)].rstrip() + "…"


def merge_insights(
    ctx: Context, insights: str, *, source: str, at: datetime | None = None
) -> Context:
    """A copy of ``ctx`` with a dated block of insights (a claude.ai answer) appended."""
    body = render_insights(insights)
    if not body:
        return ctx
    when = _utc(at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    block = f"**{when}, from {' '.join(source.split()) or 'claude.ai'}**\n\n{body}"
    merged = f"{ctx.insights}\n\n{block}" if ctx.insights else block
    return dataclasses.replace(ctx, insights=merged)


# --- the claude.ai return summary ------------------------------------------------------------

_RETURN_NAMES = "|".join(re.escape(name) for name in RETURN_SECTIONS)
_RETURN_HEADING = re.compile(
    rf"[ \t]{{0,3}}(?:#{{1,6}}[ \t]*)?(?:\*\*|__)?[ \t]*({_RETURN_NAMES})[ \t]*:?[ \t]*"
    rf"(?:\*\*|__)?[ \t]*:?[ \t]*",
    re.IGNORECASE,
)
_OTHER_HEADING = re.compile(r"[ \t]{0,3}(?:#{1,6}[ \t]|\*\*[^*]+\*\*[ \t]*:?[ \t]*$)")
_NOTHING = frozenset({"none", "n/a", "na", "nothing", "-", "—", "none."})
_FENCE = re.compile(r"[ \t]{0,3}(```|~~~)")


def _return_lines(text: str) -> Iterator[str]:
    """Lines outside code fences."""
    fenced = False
    for line in _lines(text):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            yield line


def parse_return_summary(text: str) -> dict[str, list[str]] | None:
    """The four lists of a claude.ai return summary, or None when the answer lacks the shape
    (fewer than two of the headings)."""
    if "\n" not in text.strip() and len(_INLINE_HEADING.findall(text)) >= 2:
        text = _unflatten(text)
    canonical = {name.lower(): name for name in RETURN_SECTIONS}
    result: dict[str, list[str]] = {}
    current: str | None = None
    for line in _return_lines(text):
        heading = _RETURN_HEADING.fullmatch(line)
        if heading:
            current = canonical[heading.group(1).lower()]
            result.setdefault(current, [])
        elif _OTHER_HEADING.match(line):
            current = None
        elif current is not None and line.strip():
            _add_return_item(result[current], line)
    if len(result) < 2:
        return None
    return {name: [i for i in result.get(name, []) if _is_item(i)] for name in RETURN_SECTIONS}


# The 1Password app keeps fields made through the API on one line: a pasted answer arrives as
# "... ## Decisions - keep sqlite ## Next steps - x". Headings and " - " bullets are split again.
_INLINE_HEADING = re.compile(rf"(#{{1,6}}[ \t]*(?:{_RETURN_NAMES})[ \t]*:?)[ \t]*", re.IGNORECASE)
_INLINE_BULLET = re.compile(r"[ \t]+([-*])[ \t]+")


def _unflatten(text: str) -> str:
    parts = _INLINE_HEADING.split(text)  # [before, heading, body, heading, body, ...]
    out = [parts[0].strip()]
    for heading, body in zip(parts[1::2], parts[2::2]):  # noqa: B905 - hooks run on 3.9
        out += [heading.strip(), _INLINE_BULLET.sub(r"\n\1 ", f" {body.strip()}").strip()]
    return "\n".join(line for line in out if line)


def _add_return_item(items: list[str], line: str) -> None:
    bullet = _BULLET.match(line)
    if bullet:
        items.append(line[bullet.end() :].strip())
    elif line[:1] in " \t" and items:
        items[-1] = f"{items[-1]} {line.strip()}"
    else:
        items.append(line.strip())


def _is_item(item: str) -> bool:
    return bool(item) and item.strip("*_ ").lower() not in _NOTHING


def render_insights(answer: str) -> str:
    """Markdown for the Insights section: the return summary as ``###`` subsections, or the
    whole answer (redacted) when it has no such shape."""
    shaped = parse_return_summary(answer)
    if shaped is None:
        return redact(_clean_text(answer))[0]
    blocks = [
        "\n".join([f"### {name}", "", *(f"- {' '.join(item.split())}" for item in items)])
        for name, items in shaped.items()
        if items
    ]
    if not blocks:
        return "No decisions, changes, open questions or next steps."
    return redact("\n\n".join(blocks))[0]
