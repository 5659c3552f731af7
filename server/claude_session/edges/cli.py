"""``claude-session``: the flows from the command line, for people (text) and scripts (--json).

Exit codes: 0 done, 1 refused or failed (the message says what to do), 2 bad usage.

The core (pydantic and the rest) is imported only once a verb needs it: ``statusline`` runs
after every message of Claude Code and must start as fast as a hook.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claude_session import __version__
from claude_session.errors import MISMATCH_CHOICES, ClaudeSessionError

if TYPE_CHECKING:
    from claude_session.core.lifecycle import Core

log = logging.getLogger("claude_session.edges.cli")

Handler = Callable[["Core", argparse.Namespace], Any]


class UsageError(Exception):
    """Bad usage: exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits with 2 on its own; keep it, add a hint
        self.print_usage(sys.stderr)
        self.exit(
            2,
            f"{self.prog}: error: {message}\nRun `{self.prog} --help` for the verbs "
            f"and their options.\n",
        )


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON object on stdout and nothing else",
    )
    common.add_argument(
        "-C",
        dest="cwd",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="work in the project at PATH instead of the current folder",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    from claude_session.base.state.remind import DIRTY_RANGE, EVERY_RANGE
    from claude_session.core.lifecycle import END_MODES

    common = _common()
    parser = _Parser(
        prog="claude-session",
        parents=[common],
        description="Session continuity for Claude Code: start, pause, resume and "
        "end work sessions; hand off to claude.ai; record sessions.",
    )
    parser.add_argument("--version", action="version", version=f"claude-session {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    def verb(name: str, help_: str) -> argparse.ArgumentParser:
        return verbs.add_parser(name, parents=[common], help=help_, description=help_)

    mismatch = [*MISMATCH_CHOICES, "ask"]
    p = verb("start", "start (or rejoin) a session: branch check, claude.ai answers, ledger")
    p.add_argument(
        "--on-mismatch",
        choices=mismatch,
        help="what to do when the branch differs from the paused one (default: ask on a terminal)",
    )
    p.add_argument(
        "--session-id",
        help="Claude Code's session id (default: "
        "$CLAUDE_CODE_SESSION_ID "
        "or this project's open session)",
    )
    p.add_argument("--no-import", action="store_true", help="do not import claude.ai answers")
    p.set_defaults(handler=_start)

    p = verb("pause", "save the work in flight so that a later session can pick it up")
    p.add_argument("--summary", default="", help="where the work stands")
    p.add_argument(
        "--summary-file", metavar="PATH", help="read the summary from a file (- for standard input)"
    )
    p.add_argument(
        "--next",
        dest="next_steps",
        action="append",
        default=[],
        metavar="TEXT",
        help="a next step (repeatable)",
    )
    p.add_argument(
        "--accomplished",
        action="append",
        default=[],
        metavar="TEXT",
        help="something done this session (repeatable)",
    )
    p.add_argument("--note", help="a free note")
    p.add_argument(
        "--wip-commit", action="store_true", help="commit the work in progress, marked WIP"
    )
    p.add_argument(
        "--allow-secret",
        action="store_true",
        help="commit even if the message looks like it holds a secret",
    )
    p.add_argument(
        "--handoff", action="store_true", help="also create the ClaudeSync item for claude.ai"
    )
    p.add_argument("--session-id")
    p.set_defaults(handler=_pause)

    p = verb("resume", "pick up this project's paused session")
    p.add_argument("--on-mismatch", choices=mismatch)
    p.add_argument("--session-id")
    p.set_defaults(handler=_resume)

    p = verb("end", "end the session: commit, push, record it (and hand off or sync)")
    p.add_argument("--summary", default="")
    p.add_argument(
        "--summary-file", metavar="PATH", help="read the summary from a file (- for standard input)"
    )
    p.add_argument("--accomplished", action="append", default=[], metavar="TEXT")
    p.add_argument("--next", dest="next_steps", action="append", default=[], metavar="TEXT")
    p.add_argument("--message", "-m", help="commit message for the work (default: the summary)")
    p.add_argument("--no-push", action="store_true")
    p.add_argument(
        "--force",
        action="store_true",
        help="end even though nothing was started (the session counts from now)",
    )
    p.add_argument(
        "--allow-secret",
        action="store_true",
        help="commit even if the message looks like it holds a secret",
    )
    p.add_argument(
        "--mode",
        choices=END_MODES,
        default="standard",
        help="standard (same machine), handoff (claude.ai), sync (another machine)",
    )
    p.add_argument(
        "--handoff",
        dest="mode",
        action="store_const",
        const="handoff",
        help="same as --mode handoff",
    )
    p.add_argument(
        "--sync", dest="mode", action="store_const", const="sync", help="same as --mode sync"
    )
    p.add_argument("--transcript", metavar="PATH", help="Claude Code transcript for token counts")
    p.add_argument("--session-id")
    p.set_defaults(handler=_end)

    p = verb("import", "merge claude.ai's answer from a ClaudeSync item into the context")
    p.add_argument("--item", help="item id or title (default: newest with an answer)")
    p.set_defaults(handler=_import)

    p = verb("remind", "automatic reminders to pause or commit")
    p.add_argument("action", nargs="?", choices=("on", "off", "status"), default="status")
    p.add_argument(
        "--every",
        type=_whole("--every", EVERY_RANGE),
        metavar="MIN",
        help="minutes since the last pause/commit ({} to {})".format(*EVERY_RANGE),
    )
    p.add_argument(
        "--dirty-files",
        type=_whole("--dirty-files", DIRTY_RANGE),
        metavar="N",
        help="uncommitted files that trigger one ({} to {})".format(*DIRTY_RANGE),
    )
    p.add_argument(
        "--global",
        dest="global_default",
        action="store_true",
        help="change the default for every project",
    )
    p.set_defaults(handler=_remind)

    p = verb("maintenance", "record a maintenance run (audit, dependency update, security scan)")
    p.add_argument("--command", required=True, dest="mcommand", metavar="NAME")
    p.add_argument("--status", required=True, dest="mstatus", metavar="STATUS")
    p.add_argument("--results", metavar="JSON", help="results as JSON")
    p.add_argument("--notes")
    p.add_argument(
        "--notes-file",
        "--summary-file",
        dest="notes_file",
        metavar="PATH",
        help="read the notes from a file (- for standard input)",
    )
    p.add_argument("--session-id")
    p.set_defaults(handler=_maintenance)

    p = verb("status", "active session, pause, reminders, vault and tracker in use")
    p.add_argument("--session-id")
    p.set_defaults(handler=_status)

    p = verb("history", "past session records")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--project", help="only this project (default: all)")
    p.set_defaults(handler=_history)

    p = verb("handoff", "the manual claude.ai transfer")
    hverbs = p.add_subparsers(dest="handoff_verb", metavar="prompt|receive", parser_class=_Parser)
    hp = hverbs.add_parser("prompt", parents=[common], help="print the transfer prompt")
    hp.add_argument("--no-clipboard", action="store_true")
    hp.set_defaults(handler=_handoff_prompt)
    hr = hverbs.add_parser("receive", parents=[common], help="read claude.ai's answer on stdin")
    hr.add_argument("--item", help="item id or title (default: the newest hand-off)")
    hr.set_defaults(handler=_handoff_receive)

    p = verb("sync", "send what waits for the tracker; finalize sessions that never ended")
    p.add_argument(
        "--retry-rejected",
        action="store_true",
        help="send records the tracker refused earlier again (after fixing it)",
    )
    p.set_defaults(handler=_sync)

    p = verb("install", "wire claude-session into Claude Code (plugin, or --classic)")
    p.add_argument(
        "--classic",
        action="store_true",
        help="commands in ~/.claude/commands, "
        "MCP server via `claude mcp add`, hooks in the user settings",
    )
    p.add_argument(
        "--statusline",
        action="store_true",
        help="also show claude-session's status line (never replaces one you have)",
    )
    p.set_defaults(handler=_install)
    p = verb("uninstall", "remove exactly what install added")
    p.add_argument("--classic", action="store_true")
    p.set_defaults(handler=_uninstall)

    p = verb("doctor", "check git, Claude Code, state folder, vault and tracker; say what to fix")
    p.set_defaults(handler=_doctor)

    from claude_session.tracker.service.commands import register as register_tracker

    register_tracker(verbs, common)

    p = verb(
        "statusline",
        "print one status line for Claude Code's statusLine (reads its JSON "
        "on stdin; see `install --statusline`)",
    )
    p.add_argument("--plugin", action="store_true", help="name the commands as the plugin does")
    p.set_defaults(run=_run_statusline)

    p = verb("mcp", "run the MCP stdio server `session` (Claude Code starts it)")
    p.set_defaults(run=_run_mcp)
    return parser


def _whole(option: str, allowed: tuple[int, int]) -> Callable[[str], int]:
    """An argparse type for a whole number; the range itself is checked by the core."""

    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number: give {option} a value from {allowed[0]} "
                f"to {allowed[1]}"
            ) from None

    return parse


def _run_statusline(a: argparse.Namespace) -> int:
    from claude_session.edges.hooks.statusline import main as statusline

    return statusline(["--plugin"] if a.plugin else [])


def _run_mcp(a: argparse.Namespace) -> int:
    from claude_session.edges.mcp.server import main as serve

    serve()
    return 0


# --- handlers: call the core, return a model or dict ---------------------------------------


def _start(core: Core, a: argparse.Namespace) -> Any:
    result = core.start(
        a.cwd, session_id=a.session_id, on_mismatch=a.on_mismatch, no_import=a.no_import
    )
    if result.status == "branch_mismatch" and a.on_mismatch is None and _interactive(a):
        choice = _ask_choice(result.context)
        result = core.start(
            a.cwd, session_id=a.session_id, on_mismatch=choice, no_import=a.no_import
        )
    return result


def _resume(core: Core, a: argparse.Namespace) -> Any:
    result = core.resume(a.cwd, session_id=a.session_id, on_mismatch=a.on_mismatch)
    if result.status == "branch_mismatch" and a.on_mismatch is None and _interactive(a):
        result = core.resume(
            a.cwd, session_id=a.session_id, on_mismatch=_ask_choice(result.context)
        )
    return result


def _interactive(a: argparse.Namespace) -> bool:
    return not a.json and sys.stdin.isatty() and sys.stdout.isatty()


def _ask_choice(explanation: str) -> str:
    print(explanation)
    while True:
        answer = input("[s]witch / s[t]ay / [c]ancel? ").strip().lower()
        for choice in MISMATCH_CHOICES:
            if answer in (choice, choice[0]) or (choice == "stay" and answer == "t"):
                return choice


def _pause(core: Core, a: argparse.Namespace) -> Any:
    return core.pause(
        a.cwd,
        session_id=a.session_id,
        summary=a.summary,
        next_steps=a.next_steps,
        accomplishments=a.accomplished,
        note=a.note,
        wip_commit=a.wip_commit,
        handoff=a.handoff,
        allow_secret=a.allow_secret,
    )


def _end(core: Core, a: argparse.Namespace) -> Any:
    return core.end(
        a.cwd,
        session_id=a.session_id,
        summary=a.summary,
        accomplishments=a.accomplished,
        next_steps=a.next_steps,
        message=a.message,
        push=not a.no_push,
        mode=a.mode,
        transcript=a.transcript,
        allow_secret=a.allow_secret,
        force=a.force,
    )


def _import(core: Core, a: argparse.Namespace) -> Any:
    return core.import_handoff(a.cwd, item=a.item)


def _remind(core: Core, a: argparse.Namespace) -> Any:
    return core.remind(
        a.cwd,
        action=a.action,
        every=a.every,
        dirty_files=a.dirty_files,
        global_default=a.global_default,
    )


def _maintenance(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.base.text import MAX_DEPTH, clean_data, too_deep

    too_deep_message = (
        f"--results nests deeper than {MAX_DEPTH} levels: flatten it (e.g. a list of findings)."
    )
    results: Any = None
    if a.results:
        try:
            results = json.loads(a.results)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--results is not valid JSON ({exc.msg} at {exc.pos}).") from exc
        except RecursionError:
            raise UsageError(too_deep_message) from None
        if too_deep(results):
            raise UsageError(too_deep_message)
        results = clean_data(results)
    return core.record_maintenance(
        a.cwd,
        command=a.mcommand,
        status=a.mstatus,
        results=results,
        notes=a.notes,
        session_id=a.session_id,
    )


def _status(core: Core, a: argparse.Namespace) -> Any:
    return core.status(a.cwd, session_id=a.session_id)


def _history(core: Core, a: argparse.Namespace) -> Any:
    return core.history(project=a.project, limit=a.limit)


def _handoff_prompt(core: Core, a: argparse.Namespace) -> Any:
    result = core.handoff_prompt(a.cwd)
    if not a.json and not a.no_clipboard:
        from claude_session.edges.clipboard import copy

        result["copied_with"] = copy(result["prompt"])
    return result


def _handoff_receive(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.base.text import clean_text

    return core.handoff_receive(a.cwd, clean_text(sys.stdin.read()), item=a.item)


def _install(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.edges.install import Installer

    installer = Installer(core.paths)
    result = installer.install_classic() if a.classic else installer.install_plugin()
    if a.statusline:
        shown = installer.install_statusline(plugin=not a.classic)
        result["statusline"] = shown["statusline"]
        result["warnings"] = [*result.get("warnings", []), *shown["warnings"]]
    return result


def _uninstall(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.edges.install import Installer

    installer = Installer(core.paths)
    return installer.uninstall() if a.classic else installer.uninstall_plugin()


def _doctor(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.edges.doctor import run_checks

    return run_checks(core, a.cwd)


def _sync(core: Core, a: argparse.Namespace) -> Any:
    return core.sync(a.cwd, retry_rejected=a.retry_rejected)


# --- output ---------------------------------------------------------------------------------


def _as_dict(result: Any) -> dict[str, Any]:
    from pydantic import BaseModel

    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return dict(result)


def _print_text(verb: str, data: dict[str, Any]) -> None:
    from claude_session.edges.textout import render_text

    sys.stdout.write(render_text(verb, data))


def _exit_code(data: dict[str, Any]) -> int:
    return 1 if data.get("status") in ("branch_mismatch", "problems") else 0


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["statusline"] and "-h" not in args_in and "--help" not in args_in:
        from claude_session.edges.hooks.statusline import (
            main as statusline,  # before any heavy import
        )

        return statusline(args_in[1:])
    parser = build_parser()
    args = parser.parse_args(args_in)
    args.json = getattr(args, "json", False)
    args.cwd = getattr(args, "cwd", None) or "."
    try:
        _read_text_files(args)
    except UsageError as exc:
        parser.error(str(exc))
    _clean_text_arguments(args)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is not None:
        return run(args)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    if not Path(args.cwd).is_dir():
        return _fail(
            args, f"No such folder: {args.cwd}. Pass an existing project folder to -C.", code=2
        )
    verb = args.verb if args.verb != "handoff" else f"handoff {args.handoff_verb}"
    from claude_session.base.logs import setup_logging
    from claude_session.core.lifecycle import Core

    try:
        with Core() as core:
            setup_logging(core.paths, core.settings.log_level)
            data = _as_dict(handler(core, args))
    except UsageError as exc:
        return _fail(args, str(exc), code=2)
    except ClaudeSessionError as exc:
        return _fail(args, str(exc), code=1, kind=type(exc).__name__)
    except KeyboardInterrupt:
        return _fail(args, "Interrupted; nothing was half-written (every write is atomic).", code=1)
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        _print_text(verb, data)
    return _exit_code(data)


PATH_ARGUMENTS = frozenset({"cwd", "transcript", "database", "summary_file", "notes_file"})


#: --X-file options: the text of the file (or standard input for -) becomes --X
_TEXT_FILES = {"summary_file": "summary", "notes_file": "notes"}


def _read_text_files(args: argparse.Namespace) -> None:
    for option, target in _TEXT_FILES.items():
        path = getattr(args, option, None)
        if path is None:
            continue
        flag = "--" + option.replace("_", "-")
        if getattr(args, target, None):
            raise UsageError(f"give either --{target} or {flag}, not both")
        try:
            raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(
                f"cannot read {flag} {path} ({exc.strerror}): give a readable "
                f"file, or - for standard input"
            ) from None
        setattr(args, target, raw.decode("utf-8", "surrogateescape").strip())


def _clean_text_arguments(args: argparse.Namespace) -> None:
    """Replace lone surrogates (undecodable bytes in argv) in every text argument, so that a
    summary or note can always be written later; paths are kept as the system gave them."""
    from claude_session.base.text import clean_data

    for name, value in vars(args).items():
        if name not in PATH_ARGUMENTS and isinstance(value, (str, list)):
            setattr(args, name, clean_data(value))


def _fail(args: argparse.Namespace, message: str, *, code: int, kind: str = "UsageError") -> int:
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps({"status": "error", "error": kind, "message": message}) + "\n")
    print(f"claude-session: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
