"""Settings, read once from the environment.

This is the only module that reads ``os.environ``; everything else receives a ``Settings``.
Standard library only: hooks import it.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Mapping
from pathlib import Path

from claude_session.base import routines

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NamedTuple

DEFAULT_VAULT = routines.DEFAULT_VAULT


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


#: classic-install command files renamed so Claude Code's built-in of the same name keeps working
CLASSIC_RENAMES = {"resume": "resume-session"}


def command_name(verb: str, *, plugin: bool) -> str:
    return f"/session:{verb}" if plugin else "/" + CLASSIC_RENAMES.get(verb, verb)


if TYPE_CHECKING:

    class _Values(NamedTuple):
        home: Path
        tracker_url: str | None = None
        tracker_token: str | None = None
        op_token: str | None = None
        op_account: str | None = None
        vault_name: str = DEFAULT_VAULT
        session_id: str | None = None
        project_dir: str | None = None
        plugin_root: str | None = None
        plugin_data: str | None = None
        log_level: str = "INFO"
        op_deadline: float = routines.DEFAULT_OP_DEADLINE  # seconds of 1Password per command
        problems: tuple[str, ...] = ()  # settings that could not be used (their default is)

else:  # the same, without importing typing (the hooks read settings at every start)
    _Values = namedtuple(
        "_Values",
        "home tracker_url tracker_token op_token op_account vault_name session_id project_dir "
        "plugin_root plugin_data log_level op_deadline problems",
        defaults=(
            *[None] * 4,
            DEFAULT_VAULT,
            *[None] * 4,
            "INFO",
            routines.DEFAULT_OP_DEADLINE,
            (),
        ),
    )


class Settings(_Values):
    """What the environment says: immutable, compared by value, ``replace`` for a changed
    copy; secrets are kept out of ``repr``."""

    __slots__ = ()
    _SECRETS = frozenset({"tracker_token", "op_token"})

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self._fields, self)
            if name not in self._SECRETS
        )
        return f"Settings({shown})"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``."""
        return self._replace(**changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        config_dir = _clean(env.get("CLAUDE_CONFIG_DIR"))
        if config_dir:
            # Claude Code accepts a comma-separated list in a few tools; the first is ours.
            home = Path(config_dir.split(",")[0]).expanduser()
        else:
            home = Path(env.get("HOME") or Path.home()) / ".claude"
        routine: routines.Routine | None = None

        def from_file() -> routines.Routine:
            nonlocal routine
            if routine is None:
                routine = routines.load(home)
            return routine

        vault_name = _clean(env.get("CLAUDE_SESSION_VAULT"))
        problems: list[str] = []
        raw_deadline = _clean(env.get("CLAUDE_SESSION_OP_DEADLINE"))
        op_deadline = routines.seconds(raw_deadline) if raw_deadline is not None else None
        if op_deadline is None:
            op_deadline = from_file().op_deadline
            if raw_deadline is not None:
                problems.append(
                    routines.seconds_problem(
                        "CLAUDE_SESSION_OP_DEADLINE", raw_deadline, op_deadline
                    )
                )
        return cls(
            home=home,
            tracker_url=_clean(env.get("CLAUDE_SESSION_TRACKER_URL")),
            tracker_token=_clean(env.get("CLAUDE_SESSION_TRACKER_TOKEN")),
            op_token=_clean(env.get("OP_SERVICE_ACCOUNT_TOKEN")),
            op_account=_clean(env.get("CLAUDE_SESSION_OP_ACCOUNT")),
            # the variable, else ~/.claude/routines/handoff.json's "vault", else ClaudeSync
            vault_name=vault_name or from_file().vault,
            session_id=_clean(env.get("CLAUDE_CODE_SESSION_ID")),
            project_dir=_clean(env.get("CLAUDE_PROJECT_DIR")),
            plugin_root=_clean(env.get("CLAUDE_PLUGIN_ROOT")),
            plugin_data=_clean(env.get("CLAUDE_PLUGIN_DATA")),
            log_level=(_clean(env.get("CLAUDE_SESSION_LOG_LEVEL")) or "INFO").upper(),
            # the variable, else the routine file's "op_deadline", else 5 s
            op_deadline=op_deadline,
            problems=tuple(problems),
        )

    def command(self, verb: str) -> str:
        """The slash command for ``verb`` in the install mode in use: ``/session:<verb>`` in
        the plugin (Claude Code sets CLAUDE_PLUGIN_ROOT for its hooks and servers), the classic
        install's name otherwise."""
        return command_name(verb, plugin=bool(self.plugin_root))

    @property
    def vault_mode(self) -> str:
        return "1password" if self.op_token or self.op_account else "local"
