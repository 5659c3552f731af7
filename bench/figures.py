"""The figures a benchmark measures against a goal, for ``run_all.py``'s table.

A script calls :func:`figure` for each figure that has a goal or a peer measured in the same run;
it goes, as one JSON line, to the file named by ``BENCH_FIGURES`` (``run_all.py`` sets it), and
nowhere when that is unset: the script's own printout stays what a person reads.
"""

from __future__ import annotations

import json
import os

OPS = {"<=": lambda v, g: v <= g, "<": lambda v, g: v < g, ">=": lambda v, g: v >= g}


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    goal: float | None = None,
    op: str = "<=",
    peer: str | None = None,
    peer_value: float | None = None,
    issue: int | None = None,
) -> None:
    """Record ``name`` = ``value`` ``unit``; ``goal`` met when ``value op goal``; ``peer`` is the
    baseline measured in the same run (its value in the same unit) when there is one."""
    target = os.environ.get("BENCH_FIGURES")
    if not target:
        return
    if op not in OPS:
        raise ValueError(f"op must be one of {sorted(OPS)}")
    row = {
        "name": name,
        "value": value,
        "unit": unit,
        "goal": goal,
        "op": op,
        "met": None if goal is None else OPS[op](value, goal),
        "peer": peer,
        "peer_value": peer_value,
        "issue": issue,
    }
    with open(target, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")
