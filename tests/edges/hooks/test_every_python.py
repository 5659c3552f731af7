"""The hooks run on every Python from 3.9 on (Claude Code runs them with the user's ``python3``:
on a Mac without Homebrew that is Apple's 3.9) with the same results as on the newest, and the
modules they import use nothing newer than 3.9 (an older ``python3``: ``test_pythoncheck``).

The interpreters come from pyenv (``/root/.pyenv/versions`` on these machines, or
``$PYENV_ROOT``); a test skips, saying which one is missing, where pyenv lacks it."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from helpers.gitrepo import commit_file, make_repo
from helpers.hookrun import hook_argv
from helpers.layout import STDLIB_ONLY
from helpers.pythons import OLDEST, python

ROOT = Path(__file__).resolve().parents[3]
HOOKS = ROOT / "hooks"
PACKAGE = ROOT / "server" / "claude_session"
#: the modules the hooks import, and the version check every hook runs before them
HOOK_MODULES = sorted(STDLIB_ONLY)


# --- a day with the hooks, under any interpreter ------------------------------------------------


def _hook(python: str, event: str, cwd: Path, env: dict[str, str], **data: Any) -> dict[str, Any]:
    payload = {"cwd": str(cwd), "hook_event_name": event, **data}
    proc = subprocess.run(
        hook_argv(event, "-I", python=python),
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
    stderr = proc.stderr.splitlines()
    return {
        "event": event,
        "rc": proc.returncode,
        "stderr": stderr,
        "out": json.loads(proc.stdout) if proc.stdout.strip() else None,
    }


def _usage_line(message_id: str, session_id: str, output: int) -> str:
    return json.dumps(
        {
            "type": "assistant",
            "sessionId": session_id,
            "requestId": f"req_{message_id}",
            "timestamp": "2026-11-20T10:00:00.000Z",
            "isSidechain": False,
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "ok"}],
                "usage": {
                    "input_tokens": 100,
                    "output_tokens": output,
                    "cache_creation_input_tokens": 10,
                    "cache_read_input_tokens": 1000,
                },
            },
        }
    )


def _prompt_line(text: str, session_id: str) -> str:
    return json.dumps(
        {
            "type": "user",
            "sessionId": session_id,
            "timestamp": "2026-11-20T10:00:00.000Z",
            "message": {"role": "user", "content": text},
        }
    )


def day_with_hooks(python: str, base: Path) -> dict[str, Any]:
    """Every hook on a real repository with real JSON: a SessionStart that reports a pause made
    42 minutes ago (timestamp written with 'Z'), a dead session's leftover finalized, PreCompact
    and the compact start that re-injects its snapshot, a due reminder, Stop and SessionEnd.
    Returns what the hooks printed and every state file they left, as JSON."""
    repo = make_repo(base / "proj")
    config = base / "home" / ".claude"
    (config / "contexts").mkdir(parents=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(base / "home"),
        "CLAUDE_CONFIG_DIR": str(config),
        "CLAUDE_PLUGIN_ROOT": str(ROOT),
        "LANG": "C.UTF-8",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(base / "no-gitconfig"),
    }
    context = config / "contexts" / "proj-20261120-100000-pause.md"
    context.write_text(
        "---\nproject: proj\nkind: pause\ncreated: 2026-11-20T10:00:00Z\n---\n"
        "# proj\n\n## Summary\n\nHalf way through the parser\n"
    )
    paused_at = datetime.now(timezone.utc) - timedelta(minutes=42, seconds=5)
    (config / "pause-state.json").write_text(
        json.dumps(
            {
                "version": 1,
                "projects": {
                    str(repo): {
                        "project": "proj",
                        "project_root": str(repo),
                        "branch": "feature/x",
                        "context_file": str(context),
                        "paused_at": paused_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "summary": "Half way through the parser",
                    }
                },
            }
        )
    )
    old_transcript = base / "old.jsonl"
    old_transcript.write_text(
        "\n".join(
            [
                _prompt_line("add the parser", "old"),
                _usage_line("msg_1", "old", 50),
                _usage_line("msg_1", "old", 70),  # a streamed copy
                _usage_line("msg_2", "old", 30),
            ]
        )
        + "\n"
    )
    new_transcript = base / "new.jsonl"
    new_transcript.write_text(_prompt_line("please refactor the tokenizer", "new") + "\n")
    steps = [
        _hook(
            python,
            "SessionStart",
            repo,
            env,
            session_id="old",
            source="startup",
            transcript_path=str(old_transcript),
        )
    ]
    ledger_file = config / "claude-session" / "ledger" / "old.json"
    entry = json.loads(ledger_file.read_text())
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    entry["claude_pid"] = dead.pid  # its Claude Code is gone
    ledger_file.write_text(json.dumps(entry))
    commit_file(repo, "parser.py", "def parse(): ...\n", "parser")
    steps.append(
        _hook(
            python,
            "SessionStart",
            repo,
            env,
            session_id="new",
            source="startup",
            transcript_path=str(new_transcript),
        )
    )
    for name in ("a.txt", "b.txt", "c.txt"):
        (repo / name).write_text(name)
    steps.append(
        _hook(
            python,
            "PreCompact",
            repo,
            env,
            session_id="new",
            trigger="auto",
            transcript_path=str(new_transcript),
        )
    )
    steps.append(
        _hook(
            python,
            "SessionStart",
            repo,
            env,
            session_id="new",
            source="compact",
            transcript_path=str(new_transcript),
        )
    )
    (config / "remind-state.json").write_text(
        json.dumps(
            {
                "version": 1,
                "default": {},
                "projects": {str(repo): {"enabled": True, "every_minutes": 30, "dirty_files": 2}},
                "last_reminded": {},
            }
        )
    )
    for _ in range(2):  # reminded once per interval
        steps.append(_hook(python, "UserPromptSubmit", repo, env, session_id="new", prompt="go on"))
    steps.append(
        _hook(python, "Stop", repo, env, session_id="new", transcript_path=str(new_transcript))
    )
    steps.append(
        _hook(
            python,
            "SessionEnd",
            repo,
            env,
            session_id="new",
            reason="other",
            transcript_path=str(new_transcript),
        )
    )
    files = []
    for path in config.rglob("*"):
        if path.is_file():
            text = path.read_text("utf-8")
            files.append(
                [
                    str(path.relative_to(config)),
                    json.loads(text) if path.suffix == ".json" else text,
                ]
            )
    day: dict[str, Any] = _normalized({"steps": steps, "files": files}, base)
    day["files"].sort(key=lambda named: json.dumps(named, sort_keys=True))
    return day


def _file(day: dict[str, Any], name: str) -> Any:
    found = [content for named, content in day["files"] if named == name]
    assert len(found) == 1, (name, [named for named, _ in day["files"]])
    return found[0]


_VOLATILE = [
    (re.compile(r'id="[0-9a-f]{12}"'), 'id="<QUOTE-ID>"'),  # quoting.block's random ids
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(\+00:00|Z| UTC)?"), "<TIME>"),
    (re.compile(r"\d{8}-\d{6}"), "<STAMP>"),
    (re.compile(r"-[0-9a-f]{6}\.md\b"), "-<RANDOM>.md"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<UUID>"),
    (re.compile(r"\b[0-9a-f]{40}\b"), "<SHA>"),
    (re.compile(r"\b[0-9a-f]{7}\b"), "<SHORT-SHA>"),
]


def _normalized(value: Any, base: Path) -> Any:
    """``value`` without what differs between two runs: the temp folder, times, ids, pids."""
    if isinstance(value, dict):
        return {
            _normalized(k, base): "<PID>" if k == "claude_pid" else _normalized(v, base)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_normalized(v, base) for v in value]
    if isinstance(value, str):
        value = value.replace(str(base), "<BASE>")
        for pattern, stand_in in _VOLATILE:
            value = pattern.sub(stand_in, value)
    return value


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The day under the interpreter running the tests."""
    return day_with_hooks(sys.executable, tmp_path_factory.mktemp("reference"))


def test_the_reference_day_is_what_the_hooks_should_do(reference: dict[str, Any]) -> None:
    """What every interpreter is compared with, checked itself."""
    steps = reference["steps"]
    assert all(s["rc"] == 0 and s["stderr"] == [] for s in steps), steps
    # what the person is told is a status line, never a failure
    assert not any(s["out"] and "failed" in s["out"].get("systemMessage", "") for s in steps), steps
    start = steps[0]["out"]["hookSpecificOutput"]["additionalContext"]
    assert "paused 42 min ago" in start and "branch: feature/x" in start
    assert "Half way through the parser" in start
    assert steps[1]["out"] is not None  # the pause is still reported
    compact = steps[3]["out"]["hookSpecificOutput"]["additionalContext"]
    assert "please refactor the tokenizer" in compact and "a.txt" in compact
    reminder = steps[4]["out"]["hookSpecificOutput"]["additionalContext"]
    assert "3 uncommitted files" in reminder and steps[5]["out"] is None
    assert _file(reference, "claude-session/ledger/old.json")["status"] == "finalized"
    assert _file(reference, "claude-session/ledger/new.json")["status"] == "finalized"
    names = [name for name, _ in reference["files"]]
    records = {
        r["claude_session_id"]: r
        for name, r in reference["files"]
        if name.startswith("claude-session/spool/")
    }
    assert set(records) == {"old", "new"}
    assert records["old"]["commits_count"] == 1 and records["old"]["files_changed"] == ["parser.py"]
    assert (records["old"]["tokens_output"], records["old"]["tokens_input"]) == (100, 200)
    assert not any(name.startswith("claude-session/logs/") for name in names), names


@pytest.mark.parametrize("which", ["oldest", "newest"])
def test_the_hooks_do_the_same_on_every_python(
    which: str, reference: dict[str, Any], tmp_path: Path
) -> None:
    interpreter = python(which)
    day = day_with_hooks(str(interpreter), tmp_path)
    for ours, theirs in zip(day["steps"], reference["steps"], strict=True):
        assert ours == theirs, f"{interpreter}: {ours['event']} differs"
    assert day["files"] == reference["files"], interpreter


# --- nothing newer than 3.9 in the hooks' modules -----------------------------------------------


def _hook_files() -> list[Path]:
    files = [PACKAGE / (name.replace(".", "/") + ".py") for name in HOOK_MODULES]
    files = [f if f.exists() else f.with_suffix("") / "__init__.py" for f in files]
    return files + sorted(HOOKS.glob("*.py"))


def test_the_hook_modules_compile_and_import_under_the_oldest_python() -> None:
    interpreter = python("oldest")
    compiled = subprocess.run(
        [
            str(interpreter),
            "-I",
            "-c",
            "import sys\nfor f in sys.argv[1:]:\n"
            "    compile(open(f, encoding='utf-8').read(), f, 'exec', dont_inherit=True)",
            *map(str, _hook_files()),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compiled.returncode == 0, compiled.stderr
    imported = subprocess.run(
        [
            str(interpreter),
            "-I",
            "-c",
            "import importlib, sys\nsys.path.insert(0, sys.argv[1])\n"
            "for name in sys.argv[2:]:\n    importlib.import_module('claude_session.' + name)",
            str(PACKAGE.parent),
            *HOOK_MODULES,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr


#: names that exist only from 3.10 on (a hook module using one fails on 3.9 when it runs)
NEWER_NAMES = {
    "TypeAlias",
    "ParamSpec",
    "TypeGuard",
    "Concatenate",
    "Self",
    "Never",
    "LiteralString",
    "NotRequired",
    "Required",
    "Unpack",
    "TypeVarTuple",
    "override",
    "assert_never",
    "reveal_type",
    "dataclass_transform",
    "UTC",
    "StrEnum",
    "KW_ONLY",
    "pairwise",
    "batched",
    "aclosing",
    "chdir",
    "stdlib_module_names",
    "orig_argv",
    "file_digest",
    "bit_count",
    "hardlink_to",
    "getLevelNamesMapping",
    "anext",
    "aiter",
    "EncodingWarning",
    "splitroot",
    "tomllib",
    "ExceptionGroup",
}
#: keyword arguments that exist only from 3.10 on, by the callee's name
NEWER_KEYWORDS = {
    "zip": {"strict"},
    "map": {"strict"},
    "dataclass": {"slots", "kw_only"},
    "field": {"kw_only"},
    "run": {"process_group"},
    "Popen": {"process_group"},
    "rmtree": {"onexc"},
    "glob": {"root_dir", "dir_fd"},
    "NamedTemporaryFile": {"delete_on_close"},
    "bisect": {"key"},
    "insort": {"key"},
    "bisect_left": {"key"},
    "bisect_right": {"key"},
}


def _annotation_nodes(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        for annotation in (getattr(node, "annotation", None), getattr(node, "returns", None)):
            if annotation is not None:
                inside.update(id(n) for n in ast.walk(annotation))
    return inside


def _type_like(node: ast.expr) -> bool:
    """A class or a type (CamelCase, a builtin type, None, ``X[...]``), not a CONSTANT."""
    if isinstance(node, ast.Constant):
        return node.value is None
    if isinstance(node, ast.Subscript):
        return True
    if isinstance(node, ast.Name):
        return (node.id[:1].isupper() and not node.id.isupper()) or node.id in {
            "str",
            "int",
            "float",
            "bool",
            "bytes",
            "list",
            "dict",
            "tuple",
            "set",
            "object",
        }
    if isinstance(node, ast.BinOp):
        return _type_like(node.left) or _type_like(node.right)
    return isinstance(node, ast.Attribute) and node.attr[:1].isupper() and not node.attr.isupper()


def newer_than_oldest(source: str, filename: str) -> list[str]:
    """What in ``source`` needs a Python newer than 3.9, found without running it: grammar
    (``ast`` with ``feature_version``), ``X | Y`` of types evaluated at run time (outside
    annotations, which ``from __future__ import annotations`` leaves unevaluated), names and
    keyword arguments added in 3.10 and later, and ``fromisoformat``, which reads 'Z' only
    from 3.11 on (``clock.parse_time`` reads it everywhere)."""
    found = []
    try:
        ast.parse(source, filename, feature_version=OLDEST)
    except SyntaxError as exc:
        found.append(f"{filename}:{exc.lineno}: syntax newer than 3.9: {exc.msg}")
    tree = ast.parse(source, filename)
    annotations = _annotation_nodes(tree)
    for node in ast.walk(tree):
        line = f"{filename}:{getattr(node, 'lineno', '?')}"
        if (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.BitOr)
            and id(node) not in annotations
            and _type_like(node.left)
            and _type_like(node.right)
        ):
            found.append(f"{line}: '{ast.unparse(node)}' is evaluated (3.10+); use Optional/Union")
        elif isinstance(node, (ast.Name, ast.Attribute, ast.alias)):
            name = {ast.Name: "id", ast.Attribute: "attr", ast.alias: "name"}[type(node)]
            if getattr(node, name) in NEWER_NAMES:
                found.append(f"{line}: '{getattr(node, name)}' is 3.10+")
            if getattr(node, name) == "fromisoformat" and not filename.endswith("clock.py"):
                found.append(f"{line}: fromisoformat reads 'Z' only on 3.11+; use clock.parse_time")
        elif isinstance(node, ast.Call):
            callee = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            for keyword in node.keywords:
                if keyword.arg in NEWER_KEYWORDS.get(callee, ()):
                    found.append(f"{line}: {callee}({keyword.arg}=) is 3.10+")
    return found


def test_no_hook_module_uses_anything_newer_than_the_oldest_python() -> None:
    problems = [
        p for path in _hook_files() for p in newer_than_oldest(path.read_text("utf-8"), path.name)
    ]
    assert problems == []


@pytest.mark.parametrize(
    "snippet",
    [
        "Key = tuple[str, str | None]",
        "ok = isinstance(x, int | str)",
        "match x:\n    case 1:\n        pass",
        "for a, b in zip(xs, ys, strict=True):\n    pass",
        "from typing import TypeAlias",
        "@dataclass(slots=True)\nclass A:\n    x: int",
        "when = datetime.fromisoformat(text)",
        "try:\n    pass\nexcept* OSError:\n    pass",
    ],
)
def test_the_check_finds_what_3_9_lacks(snippet: str) -> None:
    assert newer_than_oldest(snippet, "sample.py") != []


@pytest.mark.parametrize(
    "snippet",
    [
        "def f(x: str | None) -> int | None: ...",
        "y: dict[str, int] | None = None",
        "flags = os.O_RDONLY | os.O_NONBLOCK",
        "merged = {1: 2} | {3: 4}",
        "Key = tuple[str, Optional[str]]",
    ],
)
def test_the_check_leaves_what_3_9_runs(snippet: str) -> None:
    assert newer_than_oldest("from __future__ import annotations\n" + snippet, "x.py") == []
