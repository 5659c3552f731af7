"""A context as Markdown within a size budget: when it is too long, the least important parts
are cut first (lists halved, texts shortened, results dropped), the summary and the first next
steps last and never entirely; every field, then the whole text, goes through redaction."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from claude_session.base.context.model import (
    LIST_FIELDS,
    RUN_KEYS,
    SECTIONS,
    WORKING_LISTS,
    Context,
)
from claude_session.base.context.syntax import escape, quoted_key, scalar, split_lines
from claude_session.base.quoting import visible
from claude_session.base.redact import redact, redact_data


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
    first, *rest = split_lines(_clip(item, item_limit))
    return ["- " + first, *("  " + line for line in rest)]


def _list_lines(items: list[str], limit: int, item_limit: int | None = None) -> list[str]:
    lines = [line for item in items[:limit] for line in _item_lines(item, item_limit)]
    if len(items) > limit:
        lines.append(_more(len(items) - limit))
    return lines


def _run_lines(run: dict[str, Any], cut_results: bool) -> list[str]:
    keys = [k for k in RUN_KEYS if k in run] + [k for k in run if k not in RUN_KEYS]
    lines = []
    for key in keys:
        value = run[key]
        if key == "results" and cut_results:
            value = f"[cut: {len(json.dumps(value, ensure_ascii=False, default=str))} characters]"
        lines.append(f"{quoted_key(key)}: {scalar(value)}")
    return ["- " + lines[0], *("  " + line for line in lines[1:])]


def _working_state(ctx: Context, plan: _Plan) -> list[str]:
    lines = []
    if ctx.branch or ctx.head:
        # For the reader only: the front matter holds the exact values.
        where = f"On branch `{_one_line(ctx.branch or '?')}`"
        lines.append(where + (f" at `{_one_line(ctx.head)}`." if ctx.head else "."))
    for name, title in WORKING_LISTS:
        items = getattr(ctx, name)
        if items:
            lines += ["", f"### {title}", "", *_list_lines(items, plan.limits[name])]
    return lines[1:] if lines[:1] == [""] else lines


def _section_lines(ctx: Context, plan: _Plan, title: str) -> list[str]:
    if title == "Summary":
        return escape(_clip(ctx.summary, plan.text_limits["summary"])) if ctx.summary else []
    if title == "Accomplishments":
        return _list_lines(ctx.accomplishments, plan.limits["accomplishments"])
    if title == "Next steps":
        return _list_lines(ctx.next_steps, plan.limits["next_steps"], plan.item_limit)
    if title == "Notes":
        return escape(_clip(ctx.notes, plan.text_limits["notes"])) if ctx.notes else []
    if title == "Working state":
        return _working_state(ctx, plan)
    if title == "Files changed":
        return _list_lines(ctx.files_changed, plan.limits["files_changed"])
    if title == "Maintenance runs":
        runs = ctx.maintenance_runs
        limit = plan.limits["maintenance_runs"]
        lines = [line for run in runs[:limit] for line in _run_lines(run, plan.cut_results)]
        return lines + ([_more(len(runs) - limit)] if len(runs) > limit else [])
    return escape(_clip(ctx.insights, plan.text_limits["insights"])) if ctx.insights else []


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
    entries = [f"{key}: {scalar(value)}" for key, value in values.items() if value is not None]
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
    plan = _Plan(limits={name: max(0, list_limit) for name in LIST_FIELDS})
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


def _shown(value: Any) -> Any:
    """Every text in ``value`` with control, bidirectional and invisible characters written
    out (``quoting.visible``): a context is read by the model, and the names and texts in it
    come from transcripts, the repository and claude.ai."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, list):
        return [_shown(item) for item in value]
    if isinstance(value, dict):
        return {_shown(key): _shown(item) for key, item in value.items()}
    return value


def as_written(ctx: Context) -> Context:
    """``ctx`` as a rendered file holds it, before redaction: every text made visible."""
    changes = {
        f.name: _shown(getattr(ctx, f.name))
        for f in dataclasses.fields(ctx)
        if f.name not in ("kind", "created")
    }
    return dataclasses.replace(ctx, **changes)


def _redacted(ctx: Context) -> Context:
    # one call for all fields: a secret found in one field is removed from the others too;
    # redacted before the hidden characters are shown (the detector reads through them)
    fields = {
        f.name: getattr(ctx, f.name)
        for f in dataclasses.fields(ctx)
        if f.name not in ("kind", "created")
    }
    changes = redact_data(fields)
    return dataclasses.replace(ctx, **{name: _shown(changes[name]) for name in fields})


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
