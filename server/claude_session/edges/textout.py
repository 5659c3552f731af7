"""Plain, readable text for people; the same data the --json output carries."""

from __future__ import annotations

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
        out.append(f"Switched to branch {data['branch']}.")
    if data.get("imported_item"):
        out.append(f"Merged claude.ai's answer from {data['imported_item']}.")
    if data.get("context"):
        out += ["", data["context"].rstrip()]
    return out


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
        f"{rec['commits_count']} commits, {len(rec['files_changed'])} files changed, "
        f"{rec['tokens_input']} in / {rec['tokens_output']} out tokens"
    ]
    if data.get("commit"):
        out.append(f"Committed {data['commit'][:10]}")
    out.append(f"Push: {data.get('push_detail') or ('done' if data['pushed'] else 'no')}")
    out.append(
        f"Tracker: {data['tracker']}"
        + (f" ({data['tracker_detail']})" if data.get("tracker_detail") else "")
    )
    if data.get("handoff_item"):
        out.append(f"ClaudeSync item: {data['handoff_item']}")
    if data.get("transfer_prompt"):
        out += HANDOFF_NEXT_STEPS
    return out


def _cut(text: str, width: int) -> str:
    """One table cell: at most ``width`` characters, an ellipsis where it was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _history(data: dict[str, Any]) -> list[str]:
    records = data["records"]
    if not records:
        return [f"No sessions recorded here ({data['tracker']})."]
    out = []
    for r in records:
        branch = r.get("ending_branch") or r.get("starting_branch") or "-"
        summary = _cut((r.get("summary") or "").split("\n", 1)[0], 70)
        app = _cut(r["application_name"], 20)
        chain = " <-" if r.get("continues") else "   "  # continues an earlier record
        out.append(
            f"{r['started_at'][:16].replace('T', ' ')}{chain} {app:<20} "
            f"{_cut(branch, 18):<18} {r['duration_minutes']:>4} min "
            f"{r['commits_count']:>3} commits {_money(r.get('cost_usd')):>9}  {summary}"
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
    pause = data.get("pause")
    out.append(
        f"Paused: on {pause.get('branch')} at {pause['paused_at']} ({pause['context_file']})"
        if pause
        else "Paused: no"
    )
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
            f"refused, not retried: {pending.get('reason')} ({pending['file']})"
            if pending["state"] == "failed"
            else "waiting for the vault (`claude-session sync`)"
        )
        out.append(f"  hand-off {pending['title']}: {why}")
    out.append(f"Tracker: {data['tracker']}")
    return out


def _generic(data: dict[str, Any]) -> list[str]:
    skip = {"warnings"}
    return [f"{k}: {v}" for k, v in data.items() if k not in skip and v not in (None, "", [])]


def _prompt(data: dict[str, Any]) -> list[str]:
    out = [data["prompt"].rstrip()]
    if data.get("copied_with"):
        out.append(f"\n(copied to the clipboard with {data['copied_with']})")
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
}


def render_text(verb: str, data: dict[str, Any]) -> str:
    body = _RENDER.get(verb, _generic)(data)
    return "\n".join([*body, *_lines(data)]) + "\n"
