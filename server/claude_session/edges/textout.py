"""Plain, readable text for people; the same data the --json output carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _lines(data: dict[str, Any]) -> list[str]:
    return [f"warning: {w}" for w in data.get("warnings") or []]


def _start(data: dict[str, Any]) -> list[str]:
    status = data["status"]
    if status == "branch_mismatch":
        return [data["context"], "Run again with --on-mismatch switch|stay|cancel."]
    if status == "cancelled":
        return ["Cancelled; nothing changed."]
    if status == "no_pause_state":
        return [data.get("context") or "Nothing is paused for this project."]
    head = f"Session {data['session_id']} ready in {data['project']}"
    head += f" on {data['branch']}" if data.get("branch") else ""
    out = [head + ("" if not data.get("already_started") else " (already started)")]
    if data.get("switched_branch"):
        out.append(
            f"Switched to branch {data['branch']}."
            if data.get("branch")
            else "Checked out the paused commit: HEAD is detached (no branch)."
        )
    if data.get("imported_item"):
        out.append(f"Merged claude.ai's answer from {data['imported_item']}.")
    out.append(_start_next(data))
    if data.get("context"):
        out += ["", data["context"].rstrip()]
    return out


def _start_next(data: dict[str, Any]) -> str:
    """What the session starts from, and what to do next, in a line."""
    end = "`claude-session end -m MESSAGE` commits, pushes and records the session"
    if data.get("context"):
        return f"It continues from the context below. Next: carry on from its next steps; {end}."
    return (
        f"A new session (nothing was paused here). Next: work as usual; `claude-session "
        f"pause` saves where you are, {end}."
    )


def _pause(data: dict[str, Any]) -> list[str]:
    out = [
        f"Paused {data['project']}" + (f" on {data['branch']}" if data.get("branch") else ""),
        f"Context: {data['context_file']}",
    ]
    if data.get("wip_commit"):
        out.append(f"WIP commit: {data['wip_commit'][:10]}")
    if data.get("handoff_item"):
        out.append(f"ClaudeSync item: {data['handoff_item']}")
    if data.get("transfer_prompt"):
        out += HANDOFF_NEXT_STEPS
    else:
        out.append("Next: `claude-session resume` (/session:resume in Claude Code) picks it up.")
    return out


#: what to do after a hand-off, printed by pause --handoff and end --mode handoff
HANDOFF_NEXT_STEPS = [
    "",
    "Next, on claude.ai:",
    "  1. `claude-session handoff prompt` prints the transfer prompt (and copies it where a "
    "clipboard exists): paste it into claude.ai.",
    "  2. When claude.ai has answered, copy its answer and run `claude-session handoff receive` "
    "(paste, then Ctrl-D).",
    "  3. Back in Claude Code, /session:start (or `claude-session start`) imports it.",
]


def _receive(data: dict[str, Any]) -> list[str]:
    where = (
        f"Stored claude.ai's answer in {data['item']}"
        if data.get("item")
        else f"Kept claude.ai's answer in {data.get('kept')}"
    )
    return [f"{where} ({data.get('vault')}).", *([data["next"]] if data.get("next") else [])]


def _end(data: dict[str, Any]) -> list[str]:
    rec = data["record"]
    out = [
        f"Ended session {data['session_id']} ({data['mode']}): {rec['duration_minutes']} min, "
        f"{_count(rec['commits_count'], 'commit')}, "
        f"{_count(len(rec['files_changed']), 'file')} changed, "
        f"{rec['tokens_input']} in / {rec['tokens_output']} out tokens"
    ]
    if data.get("commit"):
        out.append(f"Committed {data['commit'][:10]}")
    squashed = data.get("squashed_wip") or []
    if squashed:
        shas = ", ".join(sha[:10] for sha in squashed)
        out.append(
            f"The end commit takes in {_count(len(squashed), 'WIP commit')} ({shas}): "
            f"{'it was' if len(squashed) == 1 else 'they were'} not pushed yet. "
            "`end --keep-wip` keeps WIP commits as made."
        )
    out.append(f"Push: {data.get('push_detail') or ('done' if data['pushed'] else 'no')}")
    detail = data.get("tracker_detail")
    told = detail and any(w.startswith(detail) for w in data.get("warnings") or [])
    out.append(f"Tracker: {data['tracker']}" + (f" ({detail})" if detail and not told else ""))
    if data.get("handoff_item"):
        out.append(f"ClaudeSync item: {data['handoff_item']}")
    if data.get("transfer_prompt"):
        out += HANDOFF_NEXT_STEPS
    return out


def _count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 commit``, ``2 commits``."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def _cut(text: str, width: int) -> str:
    """One table cell: at most ``width`` characters, an ellipsis where it was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _commits(count: int) -> str:
    return f"{count:>3} commit" + (" " if count == 1 else "s")


def _history(data: dict[str, Any]) -> list[str]:
    records = data["records"]
    if not records:
        return [f"No sessions recorded here ({data['tracker']})."]
    out = []
    for r in records:
        branch = r.get("ending_branch") or r.get("starting_branch") or "-"
        summary = _cut((r.get("summary") or "").split("\n", 1)[0], 60)  # the row fits 160
        app = _cut(r["application_name"], 20)
        chain = " <-" if r.get("continues") else "   "  # continues an earlier record
        out.append(
            f"{r['started_at'][:16].replace('T', ' ')}{chain} {app:<20} "
            f"{_cut(branch, 18):<18} {r['duration_minutes']:>4} min "
            f"{_commits(r['commits_count'])} {_money(r.get('cost_usd')):>9}  {summary}"
        )
        steps = r.get("next_steps") or []
        if steps:
            out.append(f"{'':20}next: {_cut('; '.join(steps), 90)}")
    totals = data.get("totals") or {}
    if totals:
        unknown = totals.get("cost_unknown") or 0
        out.append(
            f"{totals['sessions']} sessions, {totals['minutes']} min, {totals['commits']} "
            f"commits, {totals['tokens']:,} tokens, {_money(totals['cost_usd'])}"
            + (f" (+ {unknown} of unknown cost)" if unknown else "")
        )
    return out


def _money(value: object) -> str:
    """Dollars to the cent; a cost nobody knows is said as unknown, never $0."""
    if not isinstance(value, (int, float)):
        return "unknown"
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else "<$0.01"


def records_csv(records: list[Any]) -> str:
    from claude_session.tracker.export import to_csv

    return to_csv(records)


def _status(data: dict[str, Any]) -> list[str]:
    out = [
        f"Project {data['project']} ({data['project_root']})"
        + (f" on {data['branch']}" if data.get("branch") else "")
    ]
    active = data.get("active_session")
    out.append(
        f"Active session: {active['session_id']} since {active['started_at']}"
        if active
        else "Active session: none"
    )
    out.append(_status_pause(data.get("pause")))
    rem = data["reminders"]
    out.append(
        f"Reminders: {'on' if rem['enabled'] else 'off'} (every {rem['every_minutes']} "
        f"min, {rem['dirty_files']} dirty files)"
    )
    counts = data.get("outbox") or {}
    parts = [f"{data.get('outbox_depth', 0)} waiting"]
    if counts.get("auth_failed"):
        parts.append(f"{counts['auth_failed']} waiting for a valid tracker key")
    if counts.get("rejected"):
        parts.append(f"{counts['rejected']} refused by the tracker")
    if data.get("outbox_last_error"):
        parts.append(f"last error: {data['outbox_last_error']}")
    out.append("Outbox: " + ", ".join(parts))
    for dead in (data.get("dead_letters") or [])[:5]:
        what = " ".join(str(x) for x in (dead.get("application"), dead.get("ended_at")) if x)
        out.append(f"  {dead['state']}: {dead['id']} {what} - {dead.get('error') or ''}".rstrip())
    if data.get("dead_letters"):
        out.append("  `claude-session sync --retry-rejected` sends them again.")
    out.append(
        f"Vault: {data['vault']}"
        + (
            "; a claude.ai answer is waiting (run start or import)"
            if data.get("handoff_waiting")
            else ""
        )
    )
    for pending in data.get("pending_handoffs") or []:
        if pending.get("kind") == "answer":
            out.append(f"  {pending['title']}: kept in {pending['file']} until ClaudeSync takes it")
            continue
        why = (
            f"refused, not retried: {pending.get('reason')} ({pending['file']}); after fixing "
            "that, `claude-session sync --retry-refused` tries it again"
            if pending["state"] == "failed"
            else "waiting for the vault (`claude-session sync`)"
        )
        out.append(f"  hand-off {pending['title']}: {why}")
    out.append(f"Tracker: {data['tracker']}")
    return out


def _status_pause(pause: dict[str, Any] | None) -> str:
    if not pause:
        return "Paused: no"
    where = f"on {pause.get('branch')}" if pause.get("branch") else "on a detached HEAD"
    if pause.get("resumed_at"):
        return (
            f"Paused: no (the pause {where} of {pause['paused_at'][:16].replace('T', ' ')} was "
            f"resumed at {pause['resumed_at'][:16].replace('T', ' ')}; its context is "
            f"{pause['context_file']})"
        )
    return f"Paused: {where} at {pause['paused_at']} ({pause['context_file']})"


def _value(value: Any) -> str:
    """A value as a person reads it: lists joined, objects as key=value, never a repr."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value(v)}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _generic(data: dict[str, Any]) -> list[str]:
    skip = {"warnings"}
    return [
        f"{k.replace('_', ' ')}: {_value(v)}"
        for k, v in data.items()
        if k not in skip and v not in (None, "", [], {})
    ]


def _remind(data: dict[str, Any]) -> list[str]:
    rem = data["settings"]
    whose = "Default for every project" if data.get("scope") == "default" else "This project"
    if not rem["enabled"]:
        state = "off"
    else:
        state = (
            f"on: a reminder after {_count(rem['every_minutes'], 'minute')} without a pause or "
            f"commit, or at {_count(rem['dirty_files'], 'uncommitted file')}"
        )
    out = [f"Reminders ({whose.lower()}): {state}."]
    last = data.get("last_reminded")
    out.append(f"Last reminded: {last[:16].replace('T', ' ') if last else 'never'}.")
    return out


def _maintenance(data: dict[str, Any]) -> list[str]:
    run = data["run"]
    out = [
        f"Recorded {run['command']}: {run['status']} (run {run['id'][:8]})"
        + (f" in session {data['session_id']}" if data.get("session_id") else "")
        + "; it goes into the session's record at end."
    ]
    if run.get("notes"):
        out.append(f"Notes: {run['notes']}")
    return out


def _import(data: dict[str, Any]) -> list[str]:
    if data["status"] == "nothing_to_import":
        return ["No claude.ai answer waits for this project: nothing was imported."]
    return [
        f"Merged claude.ai's answer from {data['item']} into {data['context_file']}.",
        *(["", data["insights"].rstrip()] if data.get("insights") else []),
    ]


def _install(data: dict[str, Any]) -> list[str]:
    if data.get("mode") == "plugin":
        out = [
            f"Installed the plugin {data['plugin']} from {data['marketplace']}; its hooks and "
            f"MCP server run {data['runs']}."
        ]
    else:
        names = [Path(name).stem for name in data["commands"]]
        out = [
            f"Installed the classic way: {_count(len(names), 'command')} in ~/.claude/commands"
            + (f" (/{', /'.join(names)})" if names else "")
            + f"; hooks for {', '.join(data['hooks']) or 'no event'}; MCP server "
            f"{data['mcp']}; routine {data['routine']}."
        ]
    if data.get("statusline"):
        out.append(f"Status line: {data['statusline']}")
    start = "/session:start" if data.get("mode") == "plugin" else "/start"
    out.append(f"Next: start Claude Code in a project and run {start}.")
    return out


def _uninstall(data: dict[str, Any]) -> list[str]:
    if data.get("mode") == "plugin":
        out = ["Removed the plugin." if data["removed"] else f"Plugin: {data['detail']}"]
    else:
        out = [
            f"Removed {_count(len(data['removed_commands']), 'command file')} and "
            f"{_count(data['removed_hooks'], 'hook')}"
            + (f"; MCP server {data['mcp']}" if data.get("mcp") else "")
            + "."
        ]
    if data.get("statusline"):
        out.append(f"Status line: {data['statusline']}.")
    return out


def _sync(data: dict[str, Any]) -> list[str]:
    if data.get("skipped"):
        return [f"Nothing sent: {data['skipped']}"]
    waiting = [f"{data['remaining']} waiting"]
    if data.get("auth_failed"):
        waiting.append(f"{data['auth_failed']} for a valid tracker key")
    if data.get("rejected"):
        waiting.append(f"{data['rejected']} refused by the tracker")
    out = [f"Sent {_count(data['sent'], 'record')} to the {data['tracker']}; {', '.join(waiting)}."]
    if data.get("finalized"):
        out.append(f"Recorded sessions that ended without end: {', '.join(data['finalized'])}.")
    if data.get("retried_handoffs"):
        out.append(f"Hand-offs sent to the vault: {data['retried_handoffs']}.")
    if data.get("last_error"):
        out.append(f"Last error: {data['last_error']}")
    return out


def _prompt(data: dict[str, Any]) -> list[str]:
    out = [data["prompt"].rstrip()]
    if data.get("copied_with"):
        out.append(f"\n(copied to the clipboard with {data['copied_with']})")
    elif data.get("copied_with") == "":  # tried and failed: say so, so nobody pastes an old
        # clipboard into claude.ai (newcomer-2.md 2.17)
        out.append(
            "\n(not copied to the clipboard: no clipboard tool (pbcopy, wl-copy, "
            "xclip, xsel or clip.exe worked); copy the prompt above)"
        )
    return out


def _doctor(data: dict[str, Any]) -> list[str]:
    out = []
    for c in data["checks"]:
        out.append(f"{'ok ' if c['ok'] else 'BAD'}  {c['check']:<13} {c['detail']}")
        if c.get("fix"):
            out.append(f"     fix: {c['fix']}")
    return out


_RENDER = {
    "doctor": _doctor,
    "start": _start,
    "resume": _start,
    "pause": _pause,
    "end": _end,
    "history": _history,
    "status": _status,
    "handoff prompt": _prompt,
    "handoff receive": _receive,
    "remind": _remind,
    "maintenance": _maintenance,
    "import": _import,
    "install": _install,
    "uninstall": _uninstall,
    "sync": _sync,
}


def render_text(verb: str, data: dict[str, Any]) -> str:
    body = _RENDER.get(verb, _generic)(data)
    return "\n".join([*body, *_lines(data)]) + "\n"
