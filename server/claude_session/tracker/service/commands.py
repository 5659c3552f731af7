"""``claude-session tracker serve | migrate | token create|list|revoke|rotate``: run and
administer the tracker.

``register(verbs, common)`` adds the ``tracker`` verb to the main CLI. Each sub-verb is a
``run(args) -> exit code`` (they need no project, so they bypass the lifecycle core). The
database defaults to the local tracker's SQLite file, so ``tracker serve`` with no options
shows this machine's own history (log in with a key for the user ``local``).
"""

from __future__ import annotations

import argparse
import errno
import functools
import json
import socket
import sys
from collections.abc import Callable
from typing import Any

from claude_session.errors import ClaudeSessionError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOCAL_USER = "local"


def register(verbs: Any, common: argparse.ArgumentParser) -> None:
    """Add ``tracker`` and its sub-verbs to the main parser's subparsers."""
    tracker = verbs.add_parser(
        "tracker",
        parents=[common],
        help="run or administer the tracker",
        description="The session tracker service and its API keys.",
    )
    tracker.set_defaults(help_parser=tracker)
    sub = tracker.add_subparsers(
        dest="tracker_verb", metavar="serve|migrate|token", parser_class=type(tracker)
    )
    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="run the tracker (API and Sessions UI)",
        description="Run the tracker: the API under /api and the Sessions UI.",
        epilog=SERVE_ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address (default {DEFAULT_HOST})")
    serve.add_argument(
        "--port",
        type=whole_number("--port", (0, 65535)),
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--workers",
        type=whole_number("--workers", (1, 64)),
        default=1,
        metavar="N",
        help="worker processes (default 1; use PostgreSQL, or SQLite in WAL mode "
        "as set up here, for more)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default=None,
        metavar="IPS",
        help="trust X-Forwarded-For/-Proto from these proxy addresses "
        "(comma-separated, or '*'); default: 127.0.0.1 only, or "
        "$FORWARDED_ALLOW_IPS",
    )
    _database_option(serve)
    serve.set_defaults(run=run_serve)
    migrate = sub.add_parser(
        "migrate", parents=[common], help="bring the database schema up to date"
    )
    _database_option(migrate)
    migrate.set_defaults(run=run_migrate)
    token = sub.add_parser("token", parents=[common], help="API keys", description="API keys.")
    token.set_defaults(help_parser=token)
    token_sub = token.add_subparsers(
        dest="token_verb", metavar="create|list|revoke|rotate", parser_class=type(tracker)
    )
    create = token_sub.add_parser(
        "create", parents=[common], help="print a new API key for a user (shown once)"
    )
    create.add_argument("--user", required=True, help="user name (created if new)")
    create.add_argument("--name", default=None, help="what the key is for (e.g. 'laptop')")
    _database_option(create)
    create.set_defaults(run=run_token_create)
    listing = token_sub.add_parser(
        "list", parents=[common], help="every key: id, user, name, created, last used, revoked"
    )
    listing.add_argument("--user", default=None, help="only this user's keys")
    _database_option(listing)
    listing.set_defaults(run=run_token_list)
    for verb, helping in (
        ("revoke", "refuse a key from now on"),
        ("rotate", "revoke a key and print its successor (shown once)"),
    ):
        change = token_sub.add_parser(verb, parents=[common], help=helping)
        change.add_argument(
            "key", metavar="ID_OR_PREFIX", help="the key's id or prefix, as `token list` shows it"
        )
        _database_option(change)
        change.set_defaults(run=run_token_revoke if verb == "revoke" else run_token_rotate)


def _database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        metavar="URL",
        default=None,
        help="sqlite:///PATH, a file path, or postgresql://USER@HOST/DB "
        "(default: $CLAUDE_SESSION_TRACKER_DATABASE, else the local tracker database)",
    )


#: what ``tracker serve --help`` says the server also reads
SERVE_ENVIRONMENT = """environment:
  CLAUDE_SESSION_TRACKER_DATABASE        the database when --database is not given
  CLAUDE_SESSION_TRACKER_ORIGINS         comma-separated public origins that may post the UI's
                                         forms, e.g. https://tracker.example.com
  CLAUDE_SESSION_TRACKER_SECRET          keys browser-session cookies; change it to sign
                                         every browser out
  CLAUDE_SESSION_TRACKER_SECURE_COOKIES  1: always mark the cookie Secure (TLS at a proxy)
  FORWARDED_ALLOW_IPS                    as --forwarded-allow-ips"""


def whole_number(option: str, allowed: tuple[int, int]) -> Callable[[str], int]:
    """An argparse type for a whole number in ``allowed``: anything else is bad usage (exit 2;
    the CLI's own options use it too)."""
    low, high = allowed

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text!r} is out of range: give {option} a whole number from {low} to {high}"
            )
        return value

    return parse


def database_url(args: argparse.Namespace) -> str:
    """The ``--database`` URL, else $CLAUDE_SESSION_TRACKER_DATABASE, else the local tracker's
    SQLite file."""
    from claude_session.tracker.service.app import ServiceConfig

    if args.database:
        return str(args.database)
    return ServiceConfig.from_env().database


def _shown(url: str) -> str:
    from claude_session.tracker.store.database import shown

    return shown(url)


def _verb(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A sub-verb whose errors are one line on stderr (and a JSON error with --json), exit 1."""

    @functools.wraps(run)
    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except ClaudeSessionError as exc:
            if getattr(args, "json", False):
                error = {"status": "error", "error": type(exc).__name__, "message": str(exc)}
                sys.stdout.write(json.dumps(error) + "\n")
            print(f"claude-session: {exc}", file=sys.stderr)
            return 1

    return guarded


def _as_json(args: argparse.Namespace, data: dict[str, Any]) -> bool:
    """Write ``data`` as the answer when --json asks for it; True when it did."""
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(data) + "\n")
        return True
    return False


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (uvicorn listens on it), or a ClaudeSessionError that
    says why not: taken before anything is printed, so a busy port is the only message."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (OSError, UnicodeError) as exc:
        raise ClaudeSessionError(f"Cannot listen on {host}:{port}: {exc}. Check --host.") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ClaudeSessionError(
                f"Port {port} on {host} is already in use (another tracker or program listens "
                f"there): stop it, or choose another port with --port."
            ) from exc
        raise ClaudeSessionError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Check --host and --port."
        ) from exc
    return sock


@_verb
def run_serve(args: argparse.Namespace) -> int:
    """Migrate once, then serve: in this process, or in ``--workers`` processes that each build
    the app with ``app.from_environment`` (the database URL passes to them in the environment).
    """
    import os

    import uvicorn

    from claude_session.tracker.service.app import ServiceConfig, with_store
    from claude_session.tracker.store.storage import Store

    url = database_url(args)
    config = ServiceConfig.from_env()
    local = config.local and not args.database

    def prepare(store: Store) -> tuple[int, str | None]:
        keys = store.auth.count_api_keys()
        if not local:
            return keys, None
        return keys, Store(store.engine, config.secret).auth.sign_in_link(LOCAL_USER)

    keys, link = with_store(url, prepare)
    listening_socket(args.host, args.port).close()  # a busy port is said before anything else
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    print(
        f"Tracker on http://{args.host}:{args.port} (database {_shown(url)}{workers})",
        file=sys.stderr,
    )
    if link is not None:
        print(
            f"This machine's own history: open http://{args.host}:{args.port}/login/link/"
            f"{link} (works once, for 10 minutes; or log in with a key made by `claude-session "
            f"tracker token create --user {LOCAL_USER}`).",
            file=sys.stderr,
        )
    elif keys == 0:
        print(
            f"No API keys yet: create one with `claude-session tracker token create --user "
            f"NAME{_same_database(args, url)}` to log in.",
            file=sys.stderr,
        )
    os.environ["CLAUDE_SESSION_TRACKER_DATABASE"] = url
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        "timeout_graceful_shutdown": 5,
        "workers": args.workers,
        "factory": True,
    }
    if args.forwarded_allow_ips:
        options.update(proxy_headers=True, forwarded_allow_ips=args.forwarded_allow_ips)
    uvicorn.run("claude_session.tracker.service.app:from_environment", **options)
    return 0


def _same_database(args: argparse.Namespace, url: str) -> str:
    """The option that makes a printed command act on the database this server serves: its
    --database (the environment's, or the default, needs none: the command reads them too).
    A password is never printed; the person is told to add it."""
    import shlex

    from claude_session.tracker.store.database import normalize_url

    if not args.database:
        return ""
    password = " (with its password)" if normalize_url(url).password else ""
    return f" --database {shlex.quote(_shown(url))}{password}"


@_verb
def run_migrate(args: argparse.Namespace) -> int:
    from claude_session.tracker.store.database import HEAD, create_engine, migrate

    url = database_url(args)
    engine = create_engine(url)
    try:
        found = migrate(engine)
    finally:
        engine.dispose()
    result = {
        "status": "migrated" if found != HEAD else "current",
        "from": found,
        "to": HEAD,
        "database": _shown(url),
    }
    if not _as_json(args, result):
        print(f"Database {result['database']}: schema {found or 'empty'} -> {HEAD}.")
    return 0


@_verb
def run_token_create(args: argparse.Namespace) -> int:
    from claude_session.tracker.service.app import create_api_key

    url = database_url(args)
    key = create_api_key(url, args.user, args.name)
    if not _as_json(args, {"status": "created", "user": args.user, "api_key": key}):
        print(key)
        print(
            f"API key for {args.user} on {_shown(url)}. It is shown only this once; "
            f"keep it (e.g. in CLAUDE_SESSION_TRACKER_TOKEN).",
            file=sys.stderr,
        )
    return 0


def _key_line(key: Any) -> str:
    used = key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never"
    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
    return (
        f"{key.id}  {key.prefix}…  {key.user:<12} {key.name or '-':<16} "
        f"created {key.created_at:%Y-%m-%d %H:%M}  last used {used}  {state}"
    )


@_verb
def run_token_list(args: argparse.Namespace) -> int:
    from claude_session.tracker.service.app import with_store

    keys = with_store(database_url(args), lambda store: store.auth.api_keys(args.user))
    if not _as_json(args, {"keys": [k.model_dump(mode="json") for k in keys]}):
        for key in keys:
            print(_key_line(key))
        if not keys:
            print(
                "No API keys yet: `claude-session tracker token create --user NAME`.",
                file=sys.stderr,
            )
    return 0


@_verb
def run_token_revoke(args: argparse.Namespace) -> int:
    from claude_session.tracker.service.app import with_store

    key = with_store(database_url(args), lambda store: store.auth.revoke_api_key(args.key))
    if not _as_json(args, {"status": "revoked", "key": key.model_dump(mode="json")}):
        print(
            f"Revoked {key.prefix}… ({key.user}{', ' + key.name if key.name else ''}): "
            f"the tracker refuses it from now on."
        )
    return 0


@_verb
def run_token_rotate(args: argparse.Namespace) -> int:
    from claude_session.tracker.service.app import with_store

    old, new = with_store(database_url(args), lambda store: store.auth.rotate_api_key(args.key))
    revoked = old.model_dump(mode="json")
    if not _as_json(args, {"status": "rotated", "revoked": revoked, "api_key": new}):
        print(new)
        print(
            f"Replaces {old.prefix}… of {old.user}, now revoked. The new key is shown only "
            f"this once; put it where the old one was (CLAUDE_SESSION_TRACKER_TOKEN).",
            file=sys.stderr,
        )
    return 0
