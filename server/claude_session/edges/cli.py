"""``claude-session``: the flows from the command line, for people (text) and scripts (--json).

Exit codes: 0 done, 1 refused or failed (the message says what to do), 2 bad usage.

The parser takes its word lists from ``vocab``, not from the core, which is imported once a verb
runs. ``statusline`` (run after every message of Claude Code) goes straight to the status line,
before the parser, as ``__main__.py statusline`` (what ``install --statusline`` writes) does.
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
from claude_session.edges import asdata, verbs
from claude_session.edges.verbs import UsageError
from claude_session.errors import ClaudeSessionError
from claude_session.vocab import END_MODES, MISMATCH_CHOICES, REMIND_ACTIONS

if TYPE_CHECKING:
    from claude_session.core.facade import Core

log = logging.getLogger("claude_session.edges.cli")

Handler = Callable[["Core", argparse.Namespace], Any]


class UsageExit(Exception):
    """Bad usage found by a parser: ``parser`` is the one that found it (its usage is shown)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """No abbreviated options (``--handof`` is not ``--handoff``), unknown options refused by
    the verb they were given to, and errors raised to ``main``, which answers in text or JSON."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras

    def error(self, message: str) -> Any:
        raise UsageExit(self, message)


class _Version(argparse.Action):
    """--version, as JSON under --json (``main`` sets ``wants_json`` on the parser)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        if getattr(parser, "wants_json", False):
            sys.stdout.write(json.dumps({"name": "claude-session", "version": __version__}) + "\n")
        else:
            sys.stdout.write(f"claude-session {__version__}\n")
        parser.exit(0)


def _usage_error(exc: UsageExit, wants_json: bool) -> int:
    """Bad usage: the verb's usage and what was wrong on stderr (a JSON error on stdout under
    --json), exit 2."""
    parser = exc.parser
    top = parser.prog == "claude-session"
    hint = (
        f"Run `{parser.prog} --help` for the verbs and their options."
        if top
        else f"Run `{parser.prog} --help` for its options."
    )
    if wants_json:
        error = {"status": "error", "error": "UsageError", "message": f"{exc} ({hint})"}
        sys.stdout.write(json.dumps(error) + "\n")
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {exc}\n{hint}", file=sys.stderr)
    return 2


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
    asdata.add_flag(common)
    return common


def _session_texts(p: argparse.ArgumentParser, summary: str) -> None:
    """What pause and end both take from the model or the person: the summary (or its file),
    next steps and accomplishments."""
    p.add_argument("--summary", default="", help=summary)
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


def build_parser() -> argparse.ArgumentParser:
    from claude_session.base.state.remind import DIRTY_RANGE, EVERY_RANGE
    from claude_session.tracker.service.commands import register as register_tracker
    from claude_session.tracker.service.commands import whole_number

    common = _common()
    parser = _Parser(
        prog="claude-session",
        parents=[common],
        description="Session continuity for Claude Code: start, pause, resume and "
        "end work sessions; hand off to claude.ai; record sessions.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.set_defaults(help_parser=parser)
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)

    def verb(name: str, help_: str) -> argparse.ArgumentParser:
        return subparsers.add_parser(name, parents=[common], help=help_, description=help_)

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
    p.set_defaults(handler=verbs.start)
    session_help = (
        "the session to act on (default: $CLAUDE_CODE_SESSION_ID or this project's open session)"
    )

    p = verb("pause", "save the work in flight so that a later session can pick it up")
    _session_texts(p, "where the work stands")
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
    p.add_argument("--session-id", help=session_help)
    p.set_defaults(handler=verbs.pause)

    p = verb("resume", "pick up this project's paused session")
    p.add_argument(
        "--on-mismatch",
        choices=mismatch,
        help="what to do when the branch differs from the paused one (default: ask on a terminal)",
    )
    p.add_argument("--session-id", help=session_help)
    p.set_defaults(handler=verbs.resume)

    p = verb("end", "end the session: commit, push, record it (and hand off or sync)")
    _session_texts(p, "what the session did (the record's summary)")
    p.add_argument("--message", "-m", help="commit message for the work (default: the summary)")
    p.add_argument(
        "--keep-wip",
        action="store_true",
        help="keep unpushed WIP commits as they are (default: the end commit takes them in)",
    )
    p.add_argument("--no-push", action="store_true", help="commit, but do not push")
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
    p.add_argument("--session-id", help=session_help)
    p.set_defaults(handler=verbs.end)

    p = verb("import", "merge claude.ai's answer from a ClaudeSync item into the context")
    p.add_argument("--item", help="item id or title (default: newest with an answer)")
    p.set_defaults(handler=verbs.import_handoff)

    p = verb("remind", "automatic reminders to pause or commit")
    p.add_argument(
        "action",
        nargs="?",
        choices=REMIND_ACTIONS,
        default="status",
        help="on, off, or status (the default): show the settings",
    )
    p.add_argument(
        "--every",
        type=whole_number("--every", EVERY_RANGE),
        metavar="MIN",
        help="minutes since the last pause/commit ({} to {})".format(*EVERY_RANGE),
    )
    p.add_argument(
        "--dirty-files",
        type=whole_number("--dirty-files", DIRTY_RANGE),
        metavar="N",
        help="uncommitted files that trigger one ({} to {})".format(*DIRTY_RANGE),
    )
    p.add_argument(
        "--global",
        dest="global_default",
        action="store_true",
        help="change the default for every project",
    )
    p.set_defaults(handler=verbs.remind)

    p = verb("maintenance", "record a maintenance run (audit, dependency update, security scan)")
    p.add_argument(
        "--command",
        required=True,
        dest="mcommand",
        metavar="NAME",
        help="what ran (e.g. npm-audit, security-scan)",
    )
    p.add_argument(
        "--status", required=True, dest="mstatus", metavar="STATUS", help="e.g. ok, failed"
    )
    p.add_argument("--results", metavar="JSON", help="results as JSON")
    p.add_argument("--notes", help="a free note")
    p.add_argument(
        "--notes-file",
        "--summary-file",
        dest="notes_file",
        metavar="PATH",
        help="read the notes from a file (- for standard input)",
    )
    p.add_argument("--session-id", help=session_help)
    p.set_defaults(handler=verbs.maintenance)

    p = verb("status", "active session, pause, reminders, vault and tracker in use")
    p.add_argument("--session-id", help=session_help)
    p.set_defaults(handler=verbs.status)

    p = verb("history", "past session records: search, filter, totals, export")
    p.add_argument(
        "--limit",
        type=whole_number("--limit", (1, 10_000)),
        default=20,
        metavar="N",
        help="show the newest N records (default: 20)",
    )
    p.add_argument("--project", help="only this project (default: all)")
    verbs.history_options(p)
    p.set_defaults(handler=verbs.history)

    p = verb("prices", "the model price table costs are computed with")
    verbs.prices_options(p, _Parser, common)

    p = verb("handoff", "the manual claude.ai transfer")
    p.set_defaults(help_parser=p)
    hverbs = p.add_subparsers(dest="handoff_verb", metavar="prompt|receive", parser_class=_Parser)
    hp = hverbs.add_parser("prompt", parents=[common], help="print the transfer prompt")
    hp.add_argument("--no-clipboard", action="store_true", help="print only, never copy")
    hp.set_defaults(handler=verbs.handoff_prompt)
    hr = hverbs.add_parser("receive", parents=[common], help="read claude.ai's answer on stdin")
    hr.add_argument("--item", help="item id or title (default: the newest hand-off)")
    hr.set_defaults(handler=verbs.handoff_receive)

    p = verb("sync", "send what waits for the tracker; finalize sessions that never ended")
    verbs.sync_options(p)
    p.set_defaults(handler=verbs.sync)

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
    p.set_defaults(handler=verbs.install)
    p = verb("uninstall", "remove exactly what install added")
    p.add_argument("--classic", action="store_true", help="remove the classic install")
    p.set_defaults(handler=verbs.uninstall)

    p = verb("doctor", "check git, Claude Code, state folder, vault and tracker; say what to fix")
    p.set_defaults(handler=verbs.doctor)

    register_tracker(subparsers, common)

    p = verb(
        "statusline",
        "print one status line for Claude Code's statusLine (reads its JSON "
        "on stdin; see `install --statusline`)",
    )
    p.add_argument("--plugin", action="store_true", help="name the commands as the plugin does")
    p.set_defaults(run=verbs.run_statusline)

    p = verb("mcp", "run the MCP stdio server `session` (Claude Code starts it)")
    p.set_defaults(run=verbs.run_mcp)
    return parser


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
    """1 for a flow that could not do what was asked: a branch to choose, problems found, a
    push the remote refused or that failed (the rest of end was done)."""
    failed = data.get("status") in ("branch_mismatch", "problems")
    return 1 if failed or data.get("push_status") in ("rejected", "failed") else 0


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    return asdata.guarded(_main, args_in) if asdata.wanted(args_in) else _main(args_in)


def _main(args_in: list[str]) -> int:
    if args_in[:1] == ["statusline"] and not {"-h", "--help"} & set(args_in):
        # as light as the command install writes (__main__.py statusline): the parser imports
        # the state files and the tracker's verbs, which a line after every message must not
        return verbs.run_statusline_args(args_in[1:])
    parser = build_parser()
    wants_json = "--json" in args_in
    parser.wants_json = wants_json  # type: ignore[attr-defined]  # read by _Version
    try:
        args = parser.parse_args(args_in)
        args.json = getattr(args, "json", False)
        args.cwd = getattr(args, "cwd", None) or "."
        _read_text_files(args)
    except (UsageExit, UsageError) as exc:
        if asdata.wanted(args_in):
            return asdata.failed(args_in[0] if args_in else "", str(exc))
        exit_ = exc if isinstance(exc, UsageExit) else UsageExit(parser, str(exc))
        return _usage_error(exit_, wants_json)
    _clean_text_arguments(args)
    run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
    if run is not None:
        return run(args)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:  # a bare verb group (or nothing): its own help
        helping: argparse.ArgumentParser = args.help_parser
        if wants_json:
            return _usage_error(UsageExit(helping, "choose one of its verbs"), wants_json)
        helping.print_help(sys.stderr)
        return 2
    if not Path(args.cwd).is_dir():
        return _fail(
            args, f"No such folder: {args.cwd}. Pass an existing project folder to -C.", code=2
        )
    verb = args.verb if args.verb != "handoff" else f"handoff {args.handoff_verb}"
    from claude_session.base.logs import setup_logging
    from claude_session.core.facade import Core

    try:
        with Core() as core:
            setup_logging(core.paths, core.settings.log_level)
            result = handler(core, args)
            data = _as_dict(result)
    except UsageError as exc:
        return _fail(args, str(exc), code=2)
    except ClaudeSessionError as exc:
        return _fail(args, str(exc), code=1, kind=type(exc).__name__)
    except KeyboardInterrupt:
        return _fail(args, "Interrupted; nothing was half-written (every write is atomic).", code=1)
    if getattr(args, "as_data", False):
        return asdata.emit(verb, result)
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
    if getattr(args, "as_data", False):
        return asdata.failed(getattr(args, "verb", None) or "", message, kind)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps({"status": "error", "error": kind, "message": message}) + "\n")
    print(f"claude-session: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
