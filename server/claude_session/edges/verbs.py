"""The CLI's verbs: each takes the ``Core`` and the parsed arguments, calls the core and
returns its result model (the CLI prints it as text or JSON). Nothing heavy is imported here
before a verb runs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from claude_session.vocab import MISMATCH_CHOICES

if TYPE_CHECKING:
    from claude_session.core.facade import Core
    from claude_session.models import StartResult


class UsageError(Exception):
    """Bad usage: exit code 2."""


def run_statusline(a: argparse.Namespace) -> int:
    return run_statusline_args(["--plugin"] if a.plugin else [])


def run_statusline_args(args: list[str]) -> int:
    from claude_session.edges.hooks.statusline import main as statusline

    return statusline(args)


def run_mcp(a: argparse.Namespace) -> int:
    from claude_session.edges.mcp.front import serve  # as __main__'s `mcp`: the front first

    serve()
    return 0


def start(core: Core, a: argparse.Namespace) -> Any:
    # --as-data: run by a Claude Code command file's ! line, for that session
    source = "claude-code" if getattr(a, "as_data", False) else "cli"
    return _asking(core.start, a, no_import=a.no_import, source=source)


def resume(core: Core, a: argparse.Namespace) -> Any:
    return _asking(core.resume, a)


def _asking(flow: Callable[..., StartResult], a: argparse.Namespace, **options: Any) -> Any:
    """Start or resume; on a branch mismatch at a terminal, ask the person and run again."""
    result = flow(a.cwd, session_id=a.session_id, on_mismatch=a.on_mismatch, **options)
    if result.status == "branch_mismatch" and a.on_mismatch is None and _interactive(a):
        choice = _ask_choice(result.context)
        result = flow(a.cwd, session_id=a.session_id, on_mismatch=choice, **options)
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


def pause(core: Core, a: argparse.Namespace) -> Any:
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


def end(core: Core, a: argparse.Namespace) -> Any:
    if a.transcript is not None:
        _check_transcript(a.transcript)
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
        keep_wip=a.keep_wip,
    )


def _check_transcript(path: str) -> None:
    """A --transcript that names no readable file is bad usage, not a session of 0 tokens."""
    from pathlib import Path

    transcript = Path(path)
    if not transcript.is_file():
        what = "is a folder" if transcript.is_dir() else "does not exist"
        raise UsageError(
            f"--transcript {path} {what}: give the path of the session's transcript file "
            f"(a .jsonl file under ~/.claude/projects/), or leave --transcript out."
        )


def import_handoff(core: Core, a: argparse.Namespace) -> Any:
    return core.import_handoff(a.cwd, item=a.item)


def remind(core: Core, a: argparse.Namespace) -> Any:
    return core.remind(
        a.cwd,
        action=a.action,
        every=a.every,
        dirty_files=a.dirty_files,
        global_default=a.global_default,
    )


def maintenance(core: Core, a: argparse.Namespace) -> Any:
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


def status(core: Core, a: argparse.Namespace) -> Any:
    return core.status(a.cwd, session_id=a.session_id)


def history_options(p: argparse.ArgumentParser) -> None:
    """Search, filters and export of ``history`` (the tracker API's query names)."""
    p.add_argument("--search", "-s", metavar="WORDS", help="words of summary, steps, branch, files")
    p.add_argument("--branch", help="started or ended on this branch")
    p.add_argument("--machine", help="recorded on this machine")
    p.add_argument("--end-mode", help="standard, handoff, sync, paused or unended")
    p.add_argument("--since", metavar="DATE", help="started on or after (ISO-8601)")
    p.add_argument("--until", metavar="DATE", help="started before (ISO-8601)")
    p.add_argument("--csv", action="store_true", help="print the records as CSV")


def history(core: Core, a: argparse.Namespace) -> Any:
    search = {
        name: value
        for name, value in (
            ("q", a.search),
            ("branch", a.branch),
            ("machine", a.machine),
            ("end_mode", a.end_mode),
            ("since", a.since),
            ("until", a.until),
        )
        if value
    }
    result = core.history(project=a.project, limit=a.limit, search=search)
    if a.csv:
        from claude_session.edges.textout import records_csv

        sys.stdout.write(records_csv(result.records))
        raise SystemExit(0)
    return result


def prices_options(p: argparse.ArgumentParser, parser_class: Any, common: Any) -> None:
    """``prices show | refresh SOURCE | set MODEL --input .. --output ..``."""
    p.set_defaults(help_parser=p)
    sub = p.add_subparsers(
        dest="prices_verb", metavar="show|refresh|set", parser_class=parser_class
    )
    sp = sub.add_parser("show", parents=[common], help="the table in force, $ per million tokens")
    sp.set_defaults(handler=prices_show)
    rp = sub.add_parser(
        "refresh", parents=[common], help="from LiteLLM's model price JSON (https URL or file)"
    )
    rp.add_argument("source", help="an https:// URL or a file of LiteLLM's price list")
    rp.set_defaults(handler=prices_refresh)
    op = sub.add_parser("set", parents=[common], help="your own price of a model, $ per million")
    op.add_argument("model", help="the model as transcripts name it (claude-opus-4-5)")
    for name in ("input", "output", "cache-write-5m", "cache-write-1h", "cache-read"):
        op.add_argument(
            f"--{name}", type=float, metavar="USD", help=f"{name} price, $ per million tokens"
        )
    op.set_defaults(handler=prices_set)


def prices_show(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.core import prices

    return prices.show(core.paths)


def prices_refresh(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.core import prices

    return prices.refresh(core.paths, a.source)


def prices_set(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.core import prices

    given = {
        "input_cost_per_token": a.input,
        "output_cost_per_token": a.output,
        "cache_creation_input_token_cost": a.cache_write_5m,
        "cache_creation_input_token_cost_above_1hr": a.cache_write_1h,
        "cache_read_input_token_cost": a.cache_read,
    }
    return prices.set_price(core.paths, a.model, {k: v for k, v in given.items() if v is not None})


def handoff_prompt(core: Core, a: argparse.Namespace) -> Any:
    result = core.handoff_prompt(a.cwd)
    if not a.json and not a.no_clipboard:
        from claude_session.edges.clipboard import copy

        result.copied_with = copy(result.prompt) or ""  # "": tried, nothing copied
    return result


def handoff_receive(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.base.text import clean_text

    return core.handoff_receive(a.cwd, clean_text(sys.stdin.read()), item=a.item)


def install(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.edges.install import Installer

    installer = Installer(core.paths)
    result = installer.install_classic() if a.classic else installer.install_plugin()
    if a.statusline:
        shown = installer.install_statusline(plugin=not a.classic)
        result.statusline = shown.statusline
        result.warnings += shown.warnings
    return result


def uninstall(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.edges.install import Installer

    installer = Installer(core.paths)
    return installer.uninstall() if a.classic else installer.uninstall_plugin()


def doctor(core: Core, a: argparse.Namespace) -> Any:
    from claude_session.edges.doctor import run_checks

    return run_checks(core, a.cwd)


def sync_options(p: argparse.ArgumentParser) -> None:
    """What `sync` tries again that it leaves alone otherwise: refused records and items."""
    p.add_argument(
        "--retry-rejected",
        action="store_true",
        help="send records the tracker refused earlier again (after fixing it)",
    )
    p.add_argument(
        "--retry-refused",
        action="store_true",
        help="create the ClaudeSync items the vault refused for good again (after fixing the "
        "cause: `claude-session status` lists them with the reason)",
    )


def sync(core: Core, a: argparse.Namespace) -> Any:
    return core.sync(a.cwd, retry_rejected=a.retry_rejected, retry_refused=a.retry_refused)
