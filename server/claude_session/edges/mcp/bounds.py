"""Tool results within a budget: a result too big for the client is cut, and says what it left
out and where the whole of it is kept.

A result reaches the client twice (the text block and ``structuredContent``), and Claude Code
refuses or truncates a large MCP answer, so a session that recorded a 15 MB security scan must
not make every later ``session_status`` 15 MB. What is cut, in the order tried until the JSON
fits: the ``results`` of maintenance runs (replaced by their sizes and counts), then long lists
and long strings, more tightly at each pass. The result stays valid against the tool's output
schema: strings stay strings, lists stay lists, and ``results`` is free-form.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel

#: characters of one result's JSON (sent twice: about 100 kB on the wire at most)
BUDGET = 50_000
#: per pass: (characters a string keeps, items a list keeps, characters a run's results keep)
PASSES = ((10_000, 200, 2_000), (2_000, 20, 500), (300, 5, 100))
SHOWN_CUTS = 5

M = TypeVar("M", bound=BaseModel)


def size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str))


def bound(result: M, where: str, budget: int = BUDGET) -> M:
    """``result`` if its JSON fits ``budget``; else a copy cut to fit, whose ``warnings`` (if it
    has them) end with what was left out and ``where`` the whole is kept."""
    data = result.model_dump(mode="json")
    if size(data) <= budget:
        return result
    cuts: list[str] = []
    trimmed: Any = data
    for limits in PASSES:
        cuts = []
        trimmed = _trim(data, (), limits, cuts)
        if size(trimmed) <= budget - 1_000:  # room for the note
            break
    if isinstance(trimmed.get("warnings"), list):
        trimmed["warnings"].append(_note(size(data), budget, cuts, where))
    return type(result).model_validate(trimmed)


def _note(total: int, budget: int, cuts: list[str], where: str) -> str:
    shown = "; ".join(cuts[:SHOWN_CUTS])
    more = f"; and {len(cuts) - SHOWN_CUTS} more" if len(cuts) > SHOWN_CUTS else ""
    return (
        f"This answer was {total:,} characters, cut to fit {budget:,}: left out {shown}{more}. "
        f"The whole is kept in {where}."
    )


def _trim(value: Any, path: tuple[str, ...], limits: tuple[int, int, int], cuts: list[str]) -> Any:
    text_max, items_max, results_max = limits
    if isinstance(value, str):
        if len(value) <= text_max:
            return value
        cuts.append(f"{len(value) - text_max:,} characters of {_name(path)}")
        return value[:text_max] + f"… [{len(value) - text_max:,} characters left out]"
    if isinstance(value, list):
        kept = value
        if len(value) > items_max:
            cuts.append(f"{len(value) - items_max:,} of the {len(value):,} items of {_name(path)}")
            kept = value[:items_max]
        return [_trim(v, (*path, str(n)), limits, cuts) for n, v in enumerate(kept)]
    if isinstance(value, dict):
        out = {}
        for key, child in value.items():
            where = (*path, str(key))
            if key == "results" and _is_run(value) and size(child) > results_max:
                cuts.append(f"the results of {_name(where)} ({size(child):,} characters)")
                out[key] = _outline(child)
            else:
                out[key] = _trim(child, where, limits, cuts)
        return out
    return value


def _is_run(value: dict[str, Any]) -> bool:
    """A maintenance run (``MaintenanceRun``), wherever it sits in a result."""
    return {"command", "status", "results"} <= value.keys()


def _outline(results: Any) -> dict[str, Any]:
    """What stands in for cut results: their size and, for an object, how many items each of
    its lists holds (``{"findings": 50000}``)."""
    outline: dict[str, Any] = {"left_out": f"{size(results):,} characters of JSON"}
    if isinstance(results, dict):
        outline["counts"] = {
            str(k): len(v) for k, v in list(results.items())[:20] if isinstance(v, list | dict)
        }
    elif isinstance(results, list):
        outline["items"] = len(results)
    return outline


def _name(path: tuple[str, ...]) -> str:
    return ".".join(path) or "the result"
