"""The outside sample sets redaction is measured against (see bench/suites/README.md): loading
them and scoring a redactor on them, for the tests (thresholds) and bench/bench_redact_suites.py
(full tables)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NamedTuple

HERE = Path(__file__).resolve().parent
GITLEAKS = HERE / "redact_gitleaks.json"

Sample = dict[str, Any]


class Score(NamedTuple):
    """Per family: (removed, total); and the samples not removed."""

    families: dict[str, tuple[int, int]]
    misses: list[tuple[Sample, str]]

    @property
    def removed(self) -> int:
        return sum(done for done, _ in self.families.values())

    @property
    def total(self) -> int:
        return sum(total for _, total in self.families.values())

    @property
    def recall(self) -> float:
        return self.removed / self.total if self.total else 1.0


def load(path: Path) -> dict[str, list[Sample]]:
    data: dict[str, list[Sample]] = json.loads(path.read_text())
    return data


def survives(secret: str, out: str) -> bool:
    """True when ``secret`` or a piece of half its length (8 characters at least) is in ``out``."""
    if secret in out:
        return True
    size = max(8, len(secret) // 2)
    return any(secret[i : i + size] in out for i in range(len(secret) - size + 1))


def removed(sample: Sample, out: str) -> bool:
    return not any(survives(secret, out) for secret in sample["secrets"])


def score(samples: Iterable[Sample], redact: Callable[[str], str]) -> Score:
    """Each sample with a known secret redacted on its own; removed or not, per family."""
    families: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[tuple[Sample, str]] = []
    for sample in samples:
        if not sample.get("secrets"):
            continue
        out = redact(sample["text"])
        row = families[sample["family"]]
        row[1] += 1
        if removed(sample, out):
            row[0] += 1
        else:
            misses.append((sample, out))
    return Score({k: (v[0], v[1]) for k, v in sorted(families.items())}, misses)
