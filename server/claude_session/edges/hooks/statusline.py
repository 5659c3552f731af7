"""``claude-session statusline``: one short line for Claude Code's status bar.

Claude Code runs its ``statusLine`` command after each message (at most every 300 ms), pipes
JSON about the session in (``session_id``, ``cwd``, ``workspace.current_dir``, ``cost``...)
and shows the first line printed. This one prints where the session stands::

    session 42 min · 3 commits · paused 2 h ago: /session:resume · 1 record for the tracker

the session's age (from its ledger entry, else Claude Code's own duration), its commits and the
uncommitted files, a pause waiting to be picked up or a claude.ai answer waiting, a reminder
that is due (as set with /session:remind) and records not yet in the tracker.

Standard library only and read-only (each state file's ``peek``): it starts as fast as a hook,
takes no lock and writes nothing, so it can run after every message. It never fails the line: on
our own error it prints nothing and exits 0 (the error goes to ``logs/statusline.log``).

``--plugin`` names the commands as the plugin does (``/session:resume``); the install passes it
in that mode (the status line runs outside the plugin and cannot tell by itself).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from claude_session.base import gitread, reminding, standing
from claude_session.base.clock import ago, now, parse_time
from claude_session.base.state import answers, ledger, pause, remind, spool
from claude_session.config import Settings, command_name
from claude_session.paths import Paths

TYPE_CHECKING = False  # typing costs a status line milliseconds after every message
if TYPE_CHECKING:
    from typing import Any, TextIO

SEPARATOR = " · "
MAX_INPUT_BYTES = 1024 * 1024
GIT_TIMEOUT = 1.5  # a status line that waits is worse than one without git figures


def _text(data: dict[str, Any], *keys: str) -> str | None:
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) and value else None


class Snapshot:
    """What the line is made of, read once: the project, the session, git."""

    def __init__(self, data: dict[str, Any], settings: Settings) -> None:
        self.paths = Paths(settings.home)
        cwd = (
            _text(data, "workspace", "current_dir")
            or _text(data, "cwd")
            or settings.project_dir
            or os.getcwd()
        )
        self.cwd = Path(os.path.realpath(cwd))
        head = gitread.git_head(self.cwd)
        self.root = head[0] if head else self.cwd
        self.in_git = head is not None
        self.unborn = head is not None and head[2] is None  # no commit yet
        self.key = str(self.root)
        sid = _text(data, "session_id")
        self.entry = (ledger.peek(self.paths, sid) if sid else None) or {}
        self.duration_ms = _number(data, "cost", "total_duration_ms")
        self.newest_commit: datetime | None = None  # known once ``commits`` found one

    def age_minutes(self) -> int | None:
        started = parse_time(self.entry.get("started_at")) if self.entry else None
        if started is not None:
            return int((now() - started).total_seconds() // 60)
        if self.duration_ms is not None:
            return int(self.duration_ms // 60000)
        return None

    def ask_git(self) -> tuple[list[str] | None, list[str] | None]:
        """This session's commit times (since the starting head of its ledger entry) and the
        working tree's status records, from two git processes run side by side; None for what
        git could not tell or there is no asking."""
        if not self.in_git:
            return None, None
        start = self.entry.get("starting_head")
        status = (gitread.STATUS_ARGS, True)
        # a session begun before the repository's first commit counts every commit of HEAD
        # (``sessions.session_start``): none while HEAD has none
        from_root = not start and bool(self.entry.get("starting_branch"))
        if not gitread.is_oid(start) and not (from_root and not self.unborn):
            records = gitread.git_lines_together(self.root, [status], timeout=GIT_TIMEOUT)[0]
            return ([] if from_root else None), records
        revisions = "HEAD" if from_root else f"{start}..HEAD"
        log = (("log", "--no-show-signature", "--format=%ct", revisions, "--"), False)
        commits, records = gitread.git_lines_together(self.root, [log, status], timeout=GIT_TIMEOUT)
        return commits, records

    def commits(self, out: list[str] | None) -> int | None:
        """How many commits ``out`` (:meth:`ask_git`'s) lists; keeps the newest one's time,
        which spares a reminder its own git call."""
        if out is None:
            return None
        if out:
            self.newest_commit = reminding.commit_time(out[0])
        return len(out)

    def dirty(self, out: list[str] | None) -> int | None:
        """How many uncommitted files the status records ``out`` (:meth:`ask_git`'s) name."""
        return reminding.changed(None if out is None else gitread.parse_status(out))

    def last_save(self) -> datetime | None:
        """The last commit or pause (what a reminder measures from)."""
        newest = self.newest_commit
        if newest is None:
            out = gitread.git_lines(self.root, "log", "-1", "--format=%ct", timeout=GIT_TIMEOUT)
            newest = reminding.commit_time(out[0] if out else None)
        return reminding.last_save(newest, pause.peek(self.paths, self.key))


def _number(data: dict[str, Any], *keys: str) -> float | None:
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def status_line(data: dict[str, Any], settings: Settings, *, plugin: bool = False) -> str:
    """The line for ``data`` (Claude Code's statusLine input); "" when there is nothing."""
    snap = Snapshot(data, settings)
    parts = []
    age = snap.age_minutes()
    if age is not None:
        parts.append(f"session {standing.duration(age)}")
    log, status = snap.ask_git()
    commits = snap.commits(log)
    if commits is not None:
        parts.append(_plural(commits, "commit"))
    dirty = snap.dirty(status)
    if dirty is not None:
        parts.append(f"{dirty} dirty")
    paused = pause.waiting(pause.peek(snap.paths, snap.key))
    if paused is not None:
        parts.append(
            f"paused {ago(parse_time(paused.get('paused_at')))}: "
            f"{command_name('resume', plugin=plugin)}"
        )
    if answers.peek_waiting(snap.paths, snap.key) is not None:
        parts.append(f"claude.ai answer waiting: {command_name('start', plugin=plugin)}")
    if snap.in_git and _reminder_due(snap, dirty):
        parts.append(f"time to {command_name('pause', plugin=plugin)} or commit")
    records = standing.records_text(
        standing.outbox_counts(snap.paths), spool=spool.count(snap.paths), short=True
    )
    if records:
        parts.append(records)
    return SEPARATOR.join(parts)


def _reminder_due(snap: Snapshot, dirty: int | None) -> bool:
    settings = remind.settings_for(remind.peek(snap.paths), snap.key)
    if not settings["enabled"]:
        return False
    if reminding.reasons(settings, current=now(), last_save=None, dirty=dirty):
        return True  # the uncommitted files decide it: no git call for the last commit
    return bool(reminding.reasons(settings, current=now(), last_save=snap.last_save(), dirty=None))


def read_input(stream: TextIO) -> dict[str, Any]:
    raw = (
        stream.buffer.read(MAX_INPUT_BYTES)
        if hasattr(stream, "buffer")
        else stream.read(MAX_INPUT_BYTES)
    )
    if not raw or not raw.strip():
        return {}
    data = json.loads(raw)
    return data if isinstance(data, dict) else {}


def main(
    argv: Sequence[str] = (),
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    environ: dict[str, str] | None = None,
) -> int:
    """Print the line; whatever happens, exit 0 (nothing printed on our own error)."""
    try:
        settings = Settings.from_env(environ)
        line = status_line(read_input(stdin or sys.stdin), settings, plugin="--plugin" in argv)
        if line:
            out = stdout or sys.stdout
            if hasattr(out, "buffer"):  # UTF-8 whatever the locale says
                out.buffer.write((line + "\n").encode("utf-8", "replace"))
            else:
                out.write(line + "\n")
            out.flush()
    except Exception as exc:  # noqa: BLE001 - never fail the status line
        _log_failure(exc, environ)
    return 0


def _log_failure(exc: BaseException, environ: dict[str, str] | None) -> None:
    try:
        from claude_session.base.clock import now_iso
        from claude_session.base.redact import redact
        from claude_session.base.statefile import append_log

        paths = Paths(Settings.from_env(environ).home)
        said = redact(f"statusline {type(exc).__name__}: {exc}")[0]
        # once per failure, not once per render: the line is drawn after every message
        append_log(paths.logs / "statusline.log", now_iso(), said, once=True)
    except Exception:  # noqa: BLE001, S110 - a log that cannot be written is not our line's fault
        pass
