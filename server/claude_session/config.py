"""Settings, read once from the environment.

This is the only module that reads ``os.environ``; everything else receives a ``Settings``.
Standard library only: hooks import it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from claude_session import routines

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


@dataclass(frozen=True)
class Settings:
    """What the environment says; secrets are kept out of ``repr``."""

    home: Path
    tracker_url: str | None = None
    tracker_token: str | None = field(default=None, repr=False)
    op_token: str | None = field(default=None, repr=False)
    op_account: str | None = None
    vault_name: str = DEFAULT_VAULT
    session_id: str | None = None
    project_dir: str | None = None
    plugin_root: str | None = None
    plugin_data: str | None = None
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        config_dir = _clean(env.get("CLAUDE_CONFIG_DIR"))
        if config_dir:
            # Claude Code accepts a comma-separated list in a few tools; the first is ours.
            home = Path(config_dir.split(",")[0]).expanduser()
        else:
            home = Path(env.get("HOME") or Path.home()) / ".claude"
        return cls(
            home=home,
            tracker_url=_clean(env.get("CLAUDE_SESSION_TRACKER_URL")),
            tracker_token=_clean(env.get("CLAUDE_SESSION_TRACKER_TOKEN")),
            op_token=_clean(env.get("OP_SERVICE_ACCOUNT_TOKEN")),
            op_account=_clean(env.get("CLAUDE_SESSION_OP_ACCOUNT")),
            # the variable, else ~/.claude/routines/handoff.json's "vault", else ClaudeSync
            vault_name=_clean(env.get("CLAUDE_SESSION_VAULT")) or routines.load(home).vault,
            session_id=_clean(env.get("CLAUDE_CODE_SESSION_ID")),
            project_dir=_clean(env.get("CLAUDE_PROJECT_DIR")),
            plugin_root=_clean(env.get("CLAUDE_PLUGIN_ROOT")),
            plugin_data=_clean(env.get("CLAUDE_PLUGIN_DATA")),
            log_level=(_clean(env.get("CLAUDE_SESSION_LOG_LEVEL")) or "INFO").upper(),
        )

    def command(self, verb: str) -> str:
        """The slash command for ``verb`` in the install mode in use: ``/session:<verb>`` in
        the plugin (Claude Code sets CLAUDE_PLUGIN_ROOT for its hooks and servers), the classic
        install's name otherwise."""
        return command_name(verb, plugin=bool(self.plugin_root))

    @property
    def vault_mode(self) -> str:
        return "1password" if self.op_token or self.op_account else "local"
