#!/usr/bin/env python3
"""Redaction against outside sample sets: recall per family and false positives per MB.

    python3 bench/bench_redact_suites.py [--trufflehog FILE] [--benign DIR ...] [--misses N]

- gitleaks: tests/helpers/redact_gitleaks.json, gitleaks' per-rule samples produced by its own
  generators (bench/suites/gitleaks_samples.py; see bench/suites/README.md).
- trufflehog: a JSON built by bench/suites/trufflehog_samples.py from a trufflehog checkout (AGPL:
  not committed, so only measured when given).
- evasions: tests/helpers/redact_evasions.py.
- benign: tests/helpers/redact_benign/ plus any ``--benign`` folder (every file read as text):
  findings per MB and files changed.
Each sample is redacted on its own; a sample counts as removed when none of its secrets, nor a
piece of half a secret's length (8 characters at least), is left.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "tests"))

from claude_session.base.redact import redact_report  # noqa: E402
from claude_session.base.redact.scan import find  # noqa: E402
from helpers.redact_evasions import CASES  # noqa: E402
from helpers.redact_suites import GITLEAKS, Score, load, score, survives  # noqa: E402


def _redacted(text: str) -> str:
    return redact_report(text).text


def _table(name: str, result: Score, misses: int) -> None:
    print(f"\n## {name}: {result.removed}/{result.total} removed = {100 * result.recall:.1f}%")
    print("family | removed | n | %")
    for family, (done, n) in sorted(result.families.items(), key=lambda kv: kv[1][0] / kv[1][1]):
        print(f"{family} | {done} | {n} | {100 * done / n:.1f}")
    for sample, out in result.misses[:misses]:
        print(f"  missed [{sample['rule']}] {sample['text'][:160]!r} -> {out[:160]!r}")


def _benign(folders: list[Path], pattern: str) -> None:
    size = findings = files = changed = 0
    start = time.perf_counter()
    for folder in folders:
        for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
            try:
                text = path.read_text()
            except (UnicodeDecodeError, OSError):
                continue
            files += 1
            size += len(text.encode())
            spans = find(text)
            findings += len(spans)
            changed += bool(spans)
            for s, e, kind in spans[:3]:
                print(f"  finding {path.name}: {kind} {text[s:e][:60]!r}")
    seconds = time.perf_counter() - start
    mb = size / 1e6
    print(
        f"\n## benign: {files} files, {mb:.2f} MB: {findings} findings = "
        f"{findings / max(mb, 1e-9):.2f} per MB, {changed} files changed ({mb / seconds:.1f} MB/s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trufflehog", type=Path, help="JSON from bench/suites/trufflehog_samples.py"
    )
    parser.add_argument("--benign", type=Path, action="append", default=[])
    parser.add_argument("--glob", default="*", help="which files of the benign folders to read")
    parser.add_argument("--misses", type=int, default=10, help="misses listed per set")
    args = parser.parse_args()
    _table("gitleaks", score(load(GITLEAKS)["positives"], _redacted), args.misses)
    if args.trufflehog:
        _table("trufflehog", score(load(args.trufflehog)["positives"], _redacted), args.misses)
    evasions = [
        {"rule": name, "family": group, "text": text, "secrets": secrets}
        for group, name, text, secrets in CASES
    ]
    _table("evasions", score(evasions, _redacted), args.misses)
    assert all(survives(s, s) for _, _, _, secrets in CASES for s in secrets)
    _benign([ROOT / "tests/helpers/redact_benign", *args.benign], args.glob)
    return 0


if __name__ == "__main__":
    sys.exit(main())
