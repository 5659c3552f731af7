"""What the Claude Code hooks share. Standard library only, no network, never raises.

Each hook reads Claude Code's JSON from stdin, does a few milliseconds of file work and prints
one JSON object (or nothing). Our own failures become a ``systemMessage`` warning and exit 0:
a broken claude-session must never break Claude Code. Git is read from the ``.git`` folder
directly (no subprocess) on the SessionStart/Stop paths.

Sessions that end without ``/end`` are finalized here too: their record is built from the
ledger, git and the transcript and spooled under ``claude-session/spool/`` for the core to
deliver to the tracker (the core drains the spool on start, end, sync and MCP server start).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from claude_session import ledger, pausestate, reminders
from claude_session.config import Settings
from claude_session.paths import Paths, project_name, safe_name
from claude_session.statefile import StateFile, atomic_write

MAX_CONTEXT_CHARS = 2500  # far below Claude Code's 10,000-character cap for added context
Output = dict[str, Any]


# --- small helpers ---------------------------------------------------------------------------

def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def parse_time(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def ago(when: datetime | None) -> str:
    if when is None:
        return "some time ago"
    minutes = int((datetime.now(timezone.utc) - when).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 90:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


# --- git without subprocesses -----------------------------------------------------------------

def find_git(start: Path) -> tuple[Path, Path] | None:
    """(work tree root, git dir) for ``start``, following ``.git`` files of worktrees."""
    folder = start
    for _ in range(64):
        dot = folder / ".git"
        if dot.is_dir():
            return folder, dot
        if dot.is_file():
            try:
                text = dot.read_text("utf-8").strip()
            except OSError:
                return None
            if text.startswith("gitdir:"):
                gitdir = Path(text[7:].strip())
                return folder, gitdir if gitdir.is_absolute() else (folder / gitdir).resolve()
        if folder.parent == folder:
            return None
        folder = folder.parent
    return None


def _common_dir(gitdir: Path) -> Path:
    try:
        rel = (gitdir / "commondir").read_text("utf-8").strip()
    except OSError:
        return gitdir
    return (gitdir / rel).resolve()


def _ref_sha(gitdir: Path, ref: str) -> str | None:
    common = _common_dir(gitdir)
    for base in (gitdir, common):
        try:
            return (base / ref).read_text("utf-8").strip() or None
        except OSError:
            continue
    try:
        for line in (common / "packed-refs").read_text("utf-8").splitlines():
            if line.endswith(" " + ref) and not line.startswith(("#", "^")):
                return line.split(" ", 1)[0]
    except OSError:
        pass
    return None


def git_head(cwd: Path) -> tuple[Path, str | None, str | None] | None:
    """(root, branch or None when detached, head sha or None when empty) or None outside git."""
    found = find_git(cwd)
    if found is None:
        return None
    root, gitdir = found
    try:
        head = (gitdir / "HEAD").read_text("utf-8").strip()
    except OSError:
        return root, None, None
    if head.startswith("ref:"):
        ref = head[4:].strip()
        branch = ref[len("refs/heads/"):] if ref.startswith("refs/heads/") else ref
        return root, branch, _ref_sha(gitdir, ref)
    return root, None, head or None


def git_lines(root: Path, *args: str, timeout: float = 2.0) -> list[str] | None:
    """Run a read-only git command (for the paths that may afford one); None on any failure."""
    import subprocess  # not on the SessionStart/Stop fast path

    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.splitlines() if proc.returncode == 0 else None


# --- the project and the session --------------------------------------------------------------

class HookContext:
    """What every hook needs: the input, settings, paths and the project."""

    def __init__(self, data: dict[str, Any], environ: dict[str, str] | None = None) -> None:
        self.data = data
        self.settings = Settings.from_env(environ)
        self.paths = Paths(self.settings.home)
        cwd = data.get("cwd") or self.settings.project_dir or os.getcwd()
        self.cwd = Path(os.path.abspath(str(cwd)))
        head = git_head(self.cwd)
        self.root = head[0] if head else self.cwd
        self.branch = head[1] if head else None
        self.head = head[2] if head else None
        self.in_git = head is not None
        self.project = project_name(self.root)
        sid = data.get("session_id") or self.settings.session_id
        self.session_id = str(sid) if sid else None

    @property
    def key(self) -> str:
        return str(self.root)


def claude_pid() -> int:
    """The Claude Code process: our parent, or its parent when a shell sits between us."""
    pid = os.getppid()
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        if comm in ("sh", "bash", "dash", "zsh"):
            stat = Path(f"/proc/{pid}/stat").read_text()
            return int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return pid


def touch_session(hc: HookContext, *, source: str | None = None,
                  record_pid: bool = False) -> dict[str, Any]:
    """Create or refresh this session's ledger entry; returns the entry."""
    assert hc.session_id is not None
    with ledger.edit(hc.paths, hc.session_id) as entry:
        if entry.get("status", "active") != "active" and source in ("resume", "clear"):
            entry.clear()  # a resumed, already-closed conversation starts a new record
        if "session_id" not in entry:
            entry.update(session_id=hc.session_id, project=hc.project, project_root=hc.key,
                         started_at=now_iso(), starting_branch=hc.branch,
                         starting_head=hc.head, source=source or "claude-code",
                         status="active", maintenance_runs=[], security_findings=[])
        entry["last_activity"] = now_iso()
        transcript = hc.data.get("transcript_path")
        if transcript:
            entry["transcript_path"] = str(transcript)
        if record_pid:
            entry["claude_pid"] = claude_pid()
        return dict(entry)


# --- finalizing sessions that ended without /end ------------------------------------------------

def _session_git(root: Path, starting_head: str | None) -> tuple[int, list[str], str | None]:
    head = git_head(root)
    branch = head[1] if head else None
    if not starting_head or head is None or head[2] in (None, starting_head):
        return 0, [], branch
    rng = f"{starting_head}..HEAD"
    commits = git_lines(root, "rev-list", "--count", rng)
    files = git_lines(root, "diff", "--name-only", starting_head, "HEAD", "--")
    count = int(commits[0]) if commits and commits[0].isdigit() else 0
    return count, files or [], branch


def record_fields(entry: dict[str, Any], *, record_id: str, ended_at: str,
                  repository_url: str | None, ending_branch: str | None, commits_count: int,
                  files_changed: list[str], usage: Any, summary: str,
                  accomplishments: list[str], next_steps: list[str], mode: str,
                  machine: str | None) -> dict[str, Any]:
    """The session record (SessionRecord's shape, plain JSON) from a ledger entry and what was
    measured at its end: the one place both /end and the hooks' finalization build it."""
    started = parse_time(entry.get("started_at")) or datetime.now(timezone.utc)
    ended = parse_time(ended_at) or started
    return {
        "id": record_id,
        "application_name": entry.get("project") or project_name(Path(entry["project_root"])),
        "repository_url": repository_url, "claude_session_id": entry["session_id"],
        "started_at": started.isoformat(), "ended_at": ended.isoformat(),
        "duration_minutes": max(0, round((ended - started).total_seconds() / 60)),
        "starting_branch": entry.get("starting_branch"), "ending_branch": ending_branch,
        "commits_count": commits_count, "context_id": entry.get("context_id"),
        "session_source": entry.get("source") or "claude-code",
        "tokens_input": usage.input if usage else 0,
        "tokens_output": usage.output if usage else 0,
        "tokens_cache_creation": usage.cache_creation if usage else 0,
        "tokens_cache_read": usage.cache_read if usage else 0,
        "summary": summary or entry.get("summary") or "", "accomplishments": accomplishments,
        "next_steps": next_steps, "files_changed": files_changed,
        "maintenance_runs": entry.get("maintenance_runs") or [],
        "security_findings": entry.get("security_findings") or [], "machine": machine,
        "end_mode": mode,
    }


def build_unended_record(paths: Paths, entry: dict[str, Any], ended_at: str) -> dict[str, Any]:
    """The session record of a session that ended without /end (plain dict, SessionRecord shape)."""
    from claude_session.transcript import usage_from_transcript

    root = Path(str(entry["project_root"]))
    commits, files, branch = _session_git(root, entry.get("starting_head"))
    usage = None
    if entry.get("transcript_path"):
        usage = usage_from_transcript(Path(str(entry["transcript_path"])),
                                      session_id=str(entry["session_id"]))
    return record_fields(
        entry, record_id=entry.get("record_id") or new_record_id(), ended_at=ended_at,
        repository_url=entry.get("repository_url") or _origin_url(root),
        ending_branch=branch or entry.get("starting_branch"), commits_count=commits,
        files_changed=files, usage=usage, summary="", accomplishments=[], next_steps=[],
        mode="paused" if entry.get("paused_at") else "unended", machine=None)


def new_record_id() -> str:
    import uuid  # imports platform and more: only when a record is made

    return str(uuid.uuid4())


def derived_record_id(entry: dict[str, Any]) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL,
                          f"claude-session:{entry['session_id']}:{entry.get('started_at')}"))


def _origin_url(root: Path) -> str | None:
    from claude_session.git import strip_credentials  # module is stdlib-only; GitPython is lazy

    out = git_lines(root, "config", "--get", "remote.origin.url")
    return strip_credentials(out[0].strip()) if out else None


def spool_record(paths: Paths, record: dict[str, Any]) -> Path:
    from claude_session.redact import redact_data

    record = redact_data(record)
    target = paths.data / "spool" / f"{safe_name(str(record['id']))}.json"
    atomic_write(target, json.dumps(record, indent=1))
    return target


def finalize_session(paths: Paths, session_id: str, *, ended_at: str | None = None) -> bool:
    """Close an open ledger entry and spool its record; False if it was not open."""
    with ledger.edit(paths, session_id) as entry:
        if entry.get("status", "active") != "active" or "session_id" not in entry:
            return False
        if not entry.get("record_id"):
            # derived, not random: a finalize redone after a kill spools the same record again
            entry["record_id"] = derived_record_id(entry)
        when = ended_at or str(entry.get("last_activity") or entry.get("started_at"))
        spool_record(paths, build_unended_record(paths, entry, when))
        entry["status"] = "finalized"
        entry["ended_at"] = when
    return True


def is_orphan(entry: dict[str, Any], *, current_pid: int | None = None,
              stale: timedelta = timedelta(hours=12)) -> bool:
    pid = entry.get("claude_pid")
    last = parse_time(entry.get("last_activity") or entry.get("started_at"))
    silent = last is None or datetime.now(timezone.utc) - last > stale
    if isinstance(pid, int) and pid > 0:
        if current_pid is not None and pid == current_pid:
            return True  # the same Claude Code moved on to a new session (/clear, /resume)
        # a live pid that has been silent for a week is a reused pid, not our Claude Code
        return not ledger.pid_alive(pid) or (silent and datetime.now(timezone.utc) - (
            last or datetime.now(timezone.utc)) > timedelta(days=7))
    return silent


def finalize_orphans(paths: Paths, *, project_root: str | None, keep: str | None,
                     current_pid: int | None = None) -> list[str]:
    done = []
    for entry in ledger.entries(paths, project_root=project_root, status="active"):
        sid = str(entry["session_id"])
        if sid != keep and is_orphan(entry, current_pid=current_pid):
            try:
                if finalize_session(paths, sid):
                    done.append(sid)
            except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the others
                warn(f"could not finalize session {sid}: {exc}")
    return done


# --- what each event says ---------------------------------------------------------------------

def pause_note(hc: HookContext) -> str | None:
    entry = pausestate.get(hc.paths, hc.key)
    if entry is None:
        return None
    lines = [f"claude-session: this project ({hc.project}) was paused "
             f"{ago(parse_time(entry.get('paused_at')))} on branch "
             f"'{entry.get('branch') or 'none'}'."]
    summary = str(entry.get("summary") or "").strip()
    if summary:
        lines.append(f"Summary at pause: {summary[:800]}")
    paused_branch = entry.get("branch")
    if hc.in_git and paused_branch and paused_branch != hc.branch:
        lines.append(f"Warning: the current branch is '{hc.branch or 'detached HEAD'}', not "
                     f"'{paused_branch}'. Resuming offers: switch, stay, cancel.")
    # a plugin's commands are /session:<verb>; the classic install names ours /resume-session
    resume = "/session:resume" if hc.settings.plugin_root else "/resume-session"
    lines.append(f"Saved context: {entry.get('context_file')}. The user can continue it with "
                 f"{resume}.")
    return "\n".join(lines)


def handoff_note(hc: HookContext) -> str | None:
    cache = StateFile(hc.paths.handoff_cache).read()
    waiting = cache.get("projects", {}).get(hc.key) if isinstance(cache.get("projects"),
                                                                   dict) else None
    if isinstance(waiting, dict) and waiting.get("waiting"):
        title = waiting.get("item") or "a ClaudeSync item"
        return (f"claude-session: claude.ai's answer is waiting in {title}; /session:start "
                f"imports it.")
    return None


def compact_note(hc: HookContext) -> str | None:
    if hc.session_id is None:
        return None
    entry = ledger.get(hc.paths, hc.session_id) or {}
    path = entry.get("compact_context")
    if not path:
        return None
    try:
        text = Path(str(path)).read_text("utf-8")
    except OSError:
        return None
    return "claude-session: state saved before compaction:\n" + text[:MAX_CONTEXT_CHARS]


def compose(*parts: str | None) -> str:
    text = "\n\n".join(p for p in parts if p)
    if len(text) > MAX_CONTEXT_CHARS:
        text = text[:MAX_CONTEXT_CHARS - 20].rstrip() + "\n[... cut]"
    return text


def context_output(event: str, text: str) -> Output:
    return {"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}}


# --- reminders ----------------------------------------------------------------------------------

def reminder_due(hc: HookContext) -> str | None:
    data = reminders.remind_file(hc.paths).read()
    settings = reminders.settings_for(data, hc.key)
    if not settings.get("enabled") or not hc.in_git:
        return None
    now = datetime.now(timezone.utc)
    every = timedelta(minutes=max(1, int(settings.get("every_minutes") or 30)))
    last_reminded = parse_time(data.get("last_reminded", {}).get(hc.key))
    if last_reminded and now - last_reminded < every:
        return None
    reasons = []
    last_save = _last_save(hc)
    if last_save is not None and now - last_save >= every:
        reasons.append(f"{int((now - last_save).total_seconds() // 60)} min since the last "
                       f"commit or pause")
    dirty = git_lines(hc.root, "status", "--porcelain", "--untracked-files=normal")
    limit = max(1, int(settings.get("dirty_files") or 10))
    if dirty is not None and len(dirty) >= limit:
        reasons.append(f"{len(dirty)} uncommitted files")
    if not reasons:
        return None
    reminders.mark_reminded(hc.paths, hc.key, now.isoformat())
    return (f"claude-session reminder: {' and '.join(reasons)}. Mention to the user that "
            f"/session:pause saves the work in flight (or commit).")


def _last_save(hc: HookContext) -> datetime | None:
    times = []
    out = git_lines(hc.root, "log", "-1", "--format=%ct")
    if out and out[0].isdigit():
        times.append(datetime.fromtimestamp(int(out[0]), timezone.utc))
    entry = pausestate.get(hc.paths, hc.key)
    if entry:
        when = parse_time(entry.get("paused_at"))
        if when:
            times.append(when)
    return max(times) if times else None


# --- compaction snapshot -------------------------------------------------------------------------

_RECENT_PROMPT = re.compile(r'"type"\s*:\s*"user"')


def recent_prompts(transcript: str | None, limit: int = 5, tail_bytes: int = 256_000) -> list[str]:
    """The user's last few prompts, read from the transcript's tail only."""
    if not transcript:
        return []
    try:
        with open(transcript, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - tail_bytes))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    prompts: list[str] = []
    for line in reversed(lines):
        if not _RECENT_PROMPT.search(line):
            continue
        try:
            message = json.loads(line).get("message", {})
        except ValueError:
            continue
        content = message.get("content")
        if isinstance(content, str) and content.strip() and not content.startswith("<"):
            prompts.append(content.strip()[:300])
        if len(prompts) >= limit:
            break
    return list(reversed(prompts))


def save_compact_snapshot(hc: HookContext) -> Path | None:
    from claude_session import context as ctxmod

    if hc.session_id is None:
        return None
    entry = ledger.get(hc.paths, hc.session_id) or {}
    created = datetime.now(timezone.utc)
    dirty = git_lines(hc.root, "status", "--porcelain") if hc.in_git else None
    prompts = recent_prompts(str(hc.data.get("transcript_path") or "") or None)
    ctx = ctxmod.Context(
        project=hc.project, kind="compact", created=created, branch=hc.branch, head=hc.head,
        session_id=hc.session_id, summary=str(entry.get("summary") or ""),
        notes="\n".join(["Recent requests from the user:", *[f"- {p}" for p in prompts]])
        if prompts else "",
        dirty_files=[line[3:] for line in dirty or []],
        maintenance_runs=list(entry.get("maintenance_runs") or []),
    )
    path = hc.paths.contexts / ctxmod.context_file_name(hc.project, "compact", created)
    atomic_write(path, ctxmod.render(ctx, budget=4000))
    with ledger.edit(hc.paths, hc.session_id) as data:
        if "session_id" in data:
            data["compact_context"] = str(path)
    return path


# --- running a hook -------------------------------------------------------------------------------

_warnings: list[str] = []


def warn(message: str) -> None:
    _warnings.append(message)


def read_input(stream: Any = None) -> dict[str, Any]:
    raw = (stream or sys.stdin).read()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("hook input is not a JSON object")
    return data


def run(event: str, handler: Callable[[HookContext], Output | None]) -> int:
    """Run one hook: parse stdin, call the handler, print its JSON; exit 0 whatever happens."""
    started = time.monotonic()
    output: Output | None = None
    try:
        data = read_input()
        output = handler(HookContext(data))
    except Exception as exc:  # noqa: BLE001 - never break Claude Code
        warn(f"claude-session {event} hook failed: {type(exc).__name__}: {exc}")
        _log_failure(event, exc)
    if _warnings:
        output = dict(output or {})
        # exception texts may quote the input they choked on: redact before Claude Code sees it
        output["systemMessage"] = _scrub("; ".join(_warnings))[:1000]
    if output:
        sys.stdout.write(json.dumps(output))
    sys.stderr.write(f"claude-session {event} hook: {(time.monotonic() - started) * 1000:.1f} ms\n")
    return 0


def _log_failure(event: str, exc: BaseException) -> None:
    try:
        from claude_session.statefile import append_private

        paths = Paths(Settings.from_env().home)
        line = _scrub(f"{now_iso()} {event} {type(exc).__name__}: {exc}") + "\n"
        append_private(paths.logs / "hooks.log", line)
    except OSError:
        pass


def _scrub(text: str) -> str:
    """``text`` with anything that looks like a secret redacted (only on the failure path:
    the redaction rules cost an import)."""
    from claude_session.redact import redact

    return redact(text)[0]


# --- the events ---------------------------------------------------------------------------------

def on_session_start(hc: HookContext) -> Output | None:
    source = str(hc.data.get("source") or "startup")
    if hc.session_id:
        touch_session(hc, source=source, record_pid=True)
    finalize_orphans(hc.paths, project_root=hc.key, keep=hc.session_id, current_pid=claude_pid())
    text = compose(compact_note(hc) if source == "compact" else None, pause_note(hc),
                   handoff_note(hc))
    return context_output("SessionStart", text) if text else None


def on_stop(hc: HookContext) -> Output | None:
    if hc.session_id:
        touch_session(hc)
    return None


def on_pre_compact(hc: HookContext) -> Output | None:
    if hc.session_id:
        touch_session(hc)
        save_compact_snapshot(hc)
    return None


def on_session_end(hc: HookContext) -> Output | None:
    if hc.session_id:
        touch_session(hc)
        finalize_session(hc.paths, hc.session_id, ended_at=now_iso())
    return None


def on_user_prompt_submit(hc: HookContext) -> Output | None:
    text = reminder_due(hc)
    return context_output("UserPromptSubmit", text) if text else None


EVENTS: dict[str, Callable[[HookContext], Output | None]] = {
    "SessionStart": on_session_start, "Stop": on_stop, "PreCompact": on_pre_compact,
    "SessionEnd": on_session_end, "UserPromptSubmit": on_user_prompt_submit,
}


def main(event: str) -> int:
    return run(event, EVENTS[event])
