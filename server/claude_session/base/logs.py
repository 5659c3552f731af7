"""Logging to ``claude-session/logs/claude-session.log`` (0600) and, for the MCP server, stderr.

Never stdout: it is the protocol pipe of the MCP server and the JSON channel of the CLI.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from claude_session.base.statefile import open_private
from claude_session.paths import Paths, ensure_dir

_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


class _PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """Rotating log file opened 0600, append-only and never through a symbolic link."""

    def _open(self) -> io.TextIOWrapper:
        fd = open_private(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115


class _Redacting(logging.Formatter):
    """Log lines go through the same detector as everything else that is saved."""

    def format(self, record: logging.LogRecord) -> str:
        from claude_session.base.redact import redact

        return redact(super().format(record))[0]


def setup_logging(paths: Paths, level: str = "INFO", *, stderr: bool = False) -> None:
    root = logging.getLogger("claude_session")
    if getattr(root, "_claude_session_ready", False):
        return
    root.setLevel(level if level in logging._nameToLevel else "INFO")
    root.propagate = False
    try:
        ensure_dir(paths.logs)
        log_file = paths.logs / "claude-session.log"
        handler = _PrivateFileHandler(log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(_Redacting(_FORMAT))
        root.addHandler(handler)
    except OSError:
        pass  # a read-only home must not stop the flow; errors still reach the user
    if stderr:
        err = logging.StreamHandler()
        err.setFormatter(_Redacting(_FORMAT))
        root.addHandler(err)
    root._claude_session_ready = True  # type: ignore[attr-defined]
