"""``~/.claude/routines/handoff.json``: the seed's "handoff routine config".

What the ClaudeSync hand-off may be told by the user, all optional (a missing key, a missing file
or a file that cannot be used means the built-in default):

- ``vault``: the 1Password vault that holds ClaudeSync items (default ``ClaudeSync``;
  ``CLAUDE_SESSION_VAULT`` wins over the file);
- ``item_title``: the item title pattern, with ``{project}`` and ``{date}`` (both required, so
  the newest item of a project can be found) and optionally ``{branch}`` and ``{machine}``;
- ``vault_end_modes``: which ``end --mode`` values write the vault (default handoff and sync);
- ``transfer_prompt_template``: the prompt for claude.ai, with the placeholders of
  ``PROMPT_FIELDS``; ``{return_request}`` (the four headings the import reads) is appended when
  the template leaves it out, so the way back always works;
- ``op_deadline``: the seconds one command may spend on 1Password in all, sign-in included
  (default 5, from 1 to 300; ``CLAUDE_SESSION_OP_DEADLINE`` wins over the file). Raise it when
  the 1Password desktop app's approval takes longer.

``load(home)`` reads it (never raises: problems come back as ``Routine.problems``, each saying
what to fix); ``default_file_text()`` is what ``install --classic`` writes. Standard library only:
``config`` (and so the hooks) read the vault name from here.
"""

from __future__ import annotations

import json
import re
from collections import namedtuple
from collections.abc import Mapping
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NamedTuple

VERSION = 1
DEFAULT_VAULT = "ClaudeSync"
DEFAULT_TITLE = "session-{project}-{date}"
END_MODES = ("standard", "handoff", "sync")
DEFAULT_VAULT_END_MODES = ("handoff", "sync")
TITLE_FIELDS = ("project", "date", "branch", "machine")
TITLE_REQUIRED = ("project", "date")
PROMPT_FIELDS = (
    "project",
    "repository",
    "branch",
    "where",
    "open_questions",
    "next_steps",
    "context",
    "return_request",
)
#: Seconds one command may spend on 1Password, and the range a setting may take.
DEFAULT_OP_DEADLINE = 5.0
OP_DEADLINE_RANGE = (1.0, 300.0)
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_MAX_TEXT = 20_000


def routine_file(home: Path) -> Path:
    """Where the routine lives under the Claude Code config home (``~/.claude``)."""
    return home / "routines" / "handoff.json"


if TYPE_CHECKING:

    class _Values(NamedTuple):
        vault: str = DEFAULT_VAULT
        item_title: str = DEFAULT_TITLE
        vault_end_modes: tuple[str, ...] = DEFAULT_VAULT_END_MODES
        transfer_prompt_template: str | None = None  # None: the built-in transfer prompt
        op_deadline: float = DEFAULT_OP_DEADLINE  # seconds of 1Password per command
        source: Path | None = None  # the file read, if any
        problems: tuple[str, ...] = ()

else:  # the same, without importing typing (the hooks read the routine at every start)
    _Values = namedtuple(
        "_Values",
        "vault item_title vault_end_modes transfer_prompt_template op_deadline source problems",
        defaults=(
            DEFAULT_VAULT,
            DEFAULT_TITLE,
            DEFAULT_VAULT_END_MODES,
            None,
            DEFAULT_OP_DEADLINE,
            None,
            (),
        ),
    )


class Routine(_Values):
    """The hand-off routine in force: the file's values over the defaults (immutable,
    compared by value)."""

    __slots__ = ()

    def writes_vault(self, end_mode: str) -> bool:
        """Whether ``end --mode end_mode`` stores the context in the ClaudeSync vault."""
        return end_mode in self.vault_end_modes

    def title(self, *, project: str, date: str, branch: str = "", machine: str = "") -> str:
        """The item title for these values (the vault adds ``-2``, ``-3`` when taken)."""
        return fill(
            self.item_title,
            {"project": project, "date": date, "branch": branch, "machine": machine},
        )

    def prompt(self, values: Mapping[str, str]) -> str | None:
        """The transfer prompt from the user's template, or None for the built-in one.
        ``values`` gives the ``PROMPT_FIELDS``; ``return_request`` is appended when the
        template has no place for it."""
        template = self.transfer_prompt_template
        if template is None:
            return None
        if "{return_request}" not in template:
            template = template.rstrip() + "\n\n{return_request}\n"
        return fill(template, values)


def seconds(value: object) -> float | None:
    """``value`` as a number of seconds for ``op_deadline`` (a JSON number, or the text of one
    from the environment), or None when it is not one within ``OP_DEADLINE_RANGE``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    low, high = OP_DEADLINE_RANGE
    number = float(value)
    return number if low <= number <= high else None  # NaN fails both comparisons


def seconds_problem(where: str, value: object, used: float) -> str:
    low, high = OP_DEADLINE_RANGE
    return (
        f"{where} is {value!r}, not a number of seconds from {low:g} to {high:g}; "
        f"{used:g} s is used. Set it to the seconds a command may wait for 1Password "
        f"(e.g. 30 for a slow desktop-app approval)."
    )


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{name}`` of ``values`` replaced, in one pass (a brace in a value
    is never expanded again); an unknown ``{name}`` is left as it is."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def default_document() -> dict[str, Any]:
    return {
        "version": VERSION,
        "about": "claude-session's hand-off routine (the ClaudeSync flow). Every key is "
        "optional; delete one to get the built-in default. item_title needs {project} "
        "and {date} (also: {branch}, {machine}). transfer_prompt_template: null means "
        "the built-in prompt; placeholders: "
        + ", ".join("{" + f + "}" for f in PROMPT_FIELDS)
        + ".",
        "vault": DEFAULT_VAULT,
        "item_title": DEFAULT_TITLE,
        "vault_end_modes": list(DEFAULT_VAULT_END_MODES),
        "transfer_prompt_template": None,
    }


def default_file_text() -> str:
    return json.dumps(default_document(), indent=2) + "\n"


def load(home: Path) -> Routine:
    """The routine from ``routine_file(home)``; the defaults when it is missing. Never raises."""
    path = routine_file(home)
    from claude_session.base.bounded import read_text

    try:
        raw = read_text(path, limit=1024 * 1024)  # a FIFO or a huge file never hangs a flow
    except FileNotFoundError:
        return Routine()
    except (OSError, ValueError) as exc:
        return Routine(
            source=path,
            problems=(
                f"{path} cannot be read ({exc}); the built-in "
                f"hand-off routine is used. Fix or delete it.",
            ),
        )
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return Routine(
            source=path,
            problems=(
                f"{path} is not valid JSON ({exc}); the built-in "
                f"hand-off routine is used. Fix it, or delete it "
                f"and run `claude-session install --classic`.",
            ),
        )
    if not isinstance(data, dict):
        return Routine(
            source=path,
            problems=(
                f"{path} does not hold a JSON object; the built-in hand-off routine is used.",
            ),
        )
    return _parse(data, path)


def _parse(data: dict[str, Any], path: Path) -> Routine:
    problems: list[str] = []
    values: dict[str, Any] = {}

    def bad(key: str, why: str) -> None:
        problems.append(f"{path}: '{key}' {why}; the default is used for it.")

    vault = data.get("vault")
    if vault is not None:
        if isinstance(vault, str) and vault.strip() and len(vault) <= 200:
            values["vault"] = vault.strip()
        else:
            bad("vault", "must be a non-empty vault name")
    title = data.get("item_title")
    if title is not None:
        why = _title_problem(title)
        if why:
            bad("item_title", why)
        else:
            values["item_title"] = title.strip()
    modes = data.get("vault_end_modes")
    if modes is not None:
        if isinstance(modes, list) and all(m in END_MODES for m in modes):
            values["vault_end_modes"] = tuple(dict.fromkeys(modes))
        else:
            bad("vault_end_modes", f"must be a list of {', '.join(END_MODES)}")
    template = data.get("transfer_prompt_template")
    if template is not None:
        if isinstance(template, list) and all(isinstance(t, str) for t in template):
            template = "\n".join(template)  # a template may be written as a list of lines
        if isinstance(template, str) and template.strip() and len(template) <= _MAX_TEXT:
            unknown = sorted(set(_PLACEHOLDER.findall(template)) - set(PROMPT_FIELDS))
            if unknown:
                problems.append(
                    f"{path}: transfer_prompt_template has unknown placeholders "
                    f"{', '.join(unknown)} (kept as written); known: "
                    f"{', '.join(PROMPT_FIELDS)}."
                )
            values["transfer_prompt_template"] = template
        else:
            bad("transfer_prompt_template", "must be text (or a list of lines), or null")
    deadline = data.get("op_deadline")
    if deadline is not None:
        number = seconds(deadline)
        if number is None or isinstance(deadline, str):
            problems.append(
                seconds_problem(f"{path}: 'op_deadline'", deadline, DEFAULT_OP_DEADLINE)
            )
        else:
            values["op_deadline"] = number
    return Routine(source=path, problems=tuple(problems), **values)


def _title_problem(title: object) -> str:
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        return "must be a short text"
    names = set(_PLACEHOLDER.findall(title))
    missing = [f"{{{n}}}" for n in TITLE_REQUIRED if n not in names]
    if missing:
        return f"needs {' and '.join(missing)}"
    unknown = sorted(names - set(TITLE_FIELDS))
    if unknown:
        return f"has unknown placeholders {', '.join(unknown)}"
    return ""
