"""The MCP server's first milliseconds: ``initialize`` and ``tools/list`` answered before the SDK
has been imported. Standard library only.

Claude Code's ``claude -p`` sends its first model request about 2 s after it starts, with the
tools of whichever MCP servers have answered ``tools/list`` by then; importing the ``mcp`` SDK
and pydantic takes most of a second on a quiet machine, and several on a busy one. So this
front reads stdin from the first moment, while the SDK is imported in the main thread:

- ``initialize`` and the first ``tools/list``, ``prompts/list``, ``resources/list`` and
  ``resources/templates/list`` (Claude Code waits for all of them before it offers the tools)
  are answered at once from a cache of the SDK's own answers (``claude-session/
  mcp-answers-<install>.json``, one per install), written as the SDK gives them and valid
  while the server's sources and the installed ``mcp`` and pydantic are unchanged;
- every line, answered or not, goes on to the SDK through a pipe, in order: the SDK sees the
  whole session (its ``initialize`` included) and answers everything else; its second answer
  to a request the front already answered is dropped, and checked against the cache (a
  difference rewrites the cache for the next start and is logged);
- the front answers only until the SDK takes over stdout (``handover``), never after;
- the front answers only a session that opens with ``initialize`` (the handshake of the
  protocols up to 2025-11-25, what Claude Code 2.1.197 speaks). A session that opens with
  anything else, such as the ``server/discover`` probe of the 2026-07-28 protocol (Claude Code
  2.1.3xx), is the SDK's alone from its first line: the probe may reach the SDK before a
  fallback ``initialize`` does, and the SDK then serves the new protocol, so an early
  ``initialize`` answer in the old one would split the connection (every tool call refused for
  want of the new protocol's ``_meta`` envelope). Such a client waits for the SDK; the plugin's
  server is ``alwaysLoad``, so Claude Code holds its first request for it, and a tool call made
  before it is up waits for it.

Without a valid cache the SDK answers everything and the cache is written from its answers.
``install`` makes the cache before the first start (:func:`warm`); after an upgrade without
``install``, the first start is the one that makes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import threading
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO
else:
    Any = object

log = logging.getLogger(__name__)
#: the largest answer cache read (the real one is a few tens of kB)
CACHE_LIMIT = 4 * 1024 * 1024

#: answers that depend only on the code: Claude Code asks for all of these on connecting and offers
#: the server's tools once all are answered
CACHED_METHODS = (
    "initialize",
    "tools/list",
    "prompts/list",
    "resources/list",
    "resources/templates/list",
)
LISTS = CACHED_METHODS[1:]
#: what the cached answers depend on: our server's tool definitions and result models, the SDK
SOURCES = (
    "edges/mcp/server.py",
    "edges/mcp/inputs.py",
    "models.py",
    "edges/mcp/front.py",
    "__init__.py",
)
PACKAGES = ("mcp", "mcp_types", "pydantic", "pydantic_core")


def cache_key() -> list[str]:
    """Python, and size and modification time of each source the answers are built from."""
    from importlib.util import find_spec

    package = Path(__file__).resolve().parent.parent.parent
    files = [str(package / name) for name in SOURCES]
    for name in PACKAGES:
        spec = find_spec(name)
        files.append(str(spec.origin) if spec is not None and spec.origin else name)
    key = [sys.version]
    for path in files:
        try:
            st = os.stat(path)
            key.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            key.append(f"{path}:missing")
    return key


def cache_file(data: Path, key: list[str]) -> Path:
    """This install's answer file: one per interpreter and package location, so two installs
    sharing one state folder (a ``--plugin-dir`` checkout and a pipx install) keep their own
    answers instead of replacing each other's at every switch (redteam-2 N8). A change of
    code or SDK in one install still replaces its own file (``key`` holds sizes and times)."""
    where = key[:1] + [part.rsplit(":", 2)[0] for part in key[1:]]  # no sizes and times
    digest = hashlib.sha256("\n".join(where).encode()).hexdigest()[:12]
    return data / f"mcp-answers-{digest}.json"


def _ident(value: object) -> str | None:
    """A request id as a dict key (ids are strings or integers)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return json.dumps(value)


class Front:
    """Reads the client from fd 0; answers what it can; forwards every line to ``source``."""

    def __init__(self, cache_file: Path, key: list[str] | None = None) -> None:
        from claude_session.edges.mcp.stdio import _claim_stdin

        self.cache_file = cache_file
        self.key = key if key is not None else cache_key()
        self.cache = self._load()
        self._stdin, self._restore_stdin = _claim_stdin()
        read_fd, self._pipe = os.pipe()
        os.set_inheritable(read_fd, False)
        os.set_inheritable(self._pipe, False)
        self.source: BinaryIO = os.fdopen(read_fd, "rb")
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._up = False  # the SDK owns stdout
        self._listed: set[str] = set()  # the lists answered here (each once)
        self._version: str | None = None  # protocol version of the initialize answered here
        self._opening: str | None = None  # the method of the session's first request
        self.answered: dict[str, str] = {}  # id -> method, answered here
        self._watched: dict[str, tuple[str, str | None]] = {}  # id -> (method, version)
        self._thread = threading.Thread(target=self._pump, name="mcp-front", daemon=True)

    # --- the cache ----------------------------------------------------------------------------

    def _load(self) -> dict[str, dict[str, Any]]:
        from claude_session.base.bounded import NotStateFile, read_regular

        try:  # bounded, never through a link, never waiting on a FIFO (N6, N7)
            data = json.loads(read_regular(self.cache_file, limit=CACHE_LIMIT))
        except NotStateFile as exc:
            from claude_session.base.statefile import move_aside

            log.warning("MCP answer cache: %s", move_aside(self.cache_file, str(exc)))
            return {}
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("key") != self.key:
            return {}
        versions = data.get("versions")
        return versions if isinstance(versions, dict) else {}

    def _save_soon(self) -> None:
        """Write the cache in a thread: the answer being sent must not wait for the disk (not a
        daemon: a server told to stop right away still finishes the write)."""
        threading.Thread(target=self._save, args=(self.cache,), name="mcp-front-cache").start()

    def _save(self, versions: dict[str, dict[str, Any]]) -> None:
        """Write the cache, keeping the protocol versions other servers of the same code wrote
        meanwhile (two clients of different versions, or :func:`warm`'s parallel servers)."""
        from claude_session.base.statefile import atomic_write, file_lock

        with self._save_lock:
            if versions is not self.cache:
                return  # a newer cache is being written by another thread
            try:
                with file_lock(self.cache_file, timeout=5.0):
                    merged = {**self._load(), **versions}
                    text = json.dumps({"key": self.key, "versions": merged})
                    atomic_write(self.cache_file, text)
            except Exception as exc:  # noqa: BLE001 - a cache not written only costs time
                log.warning("MCP answer cache not written: %s", exc)

    # --- the client's side --------------------------------------------------------------------

    def start(self) -> Front:
        self._thread.start()
        return self

    def _pump(self) -> None:
        try:
            for line in self._stdin:
                if not self._up or b'"initialize"' in line or b'/list"' in line:
                    self._look(line)
                self._forward(line)
        except (OSError, ValueError) as exc:
            log.warning("MCP front: stdin closed: %s", exc)
        finally:
            with contextlib.suppress(OSError):
                os.close(self._pipe)  # end of input: the SDK sees EOF and stops

    def _forward(self, line: bytes) -> None:
        view = memoryview(line)
        while view:
            view = view[os.write(self._pipe, view) :]

    def _look(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            return
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            return
        ident = _ident(message.get("id"))
        if ident is None:
            return  # a notification
        method = str(message["method"])
        if self._opening is None:
            self._opening = method
        if self._opening != "initialize" or method not in CACHED_METHODS:
            return  # server/discover first (2026-07-28): the SDK answers everything
        if method == "initialize" and self._version is not None:
            return  # one handshake per session: a second one is the SDK's to answer
        raw_params = message.get("params")
        params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
        if method == "initialize":
            asked = params.get("protocolVersion")
            self._version = version = asked if isinstance(asked, str) else None
        else:
            version = self._version
        self._watched[ident] = (method, version)
        if method in LISTS and (params.get("cursor") or method in self._listed):
            return
        answer = self.cache.get(version or "", {}).get(method)
        if answer is None:
            return
        with self._lock:
            if self._up:
                return
            reply = {"jsonrpc": "2.0", "id": message["id"], "result": answer}
            data = memoryview((json.dumps(reply, separators=(",", ":")) + "\n").encode())
            while data:
                data = data[os.write(1, data) :]
            self.answered[ident] = method
            if method in LISTS:
                self._listed.add(method)

    # --- the SDK's side -----------------------------------------------------------------------

    def handover(self) -> None:
        """The SDK is about to own stdout: from now on it answers everything."""
        with self._lock:
            self._up = True

    def close(self) -> None:
        """fd 0 back as it was (it points at the null device while serving, so that no child
        process reads the protocol)."""
        self._restore_stdin()

    def wants(self, ident: object) -> bool:
        """Whether the SDK's answer to request ``ident`` goes through :meth:`outgoing`."""
        key = _ident(ident)
        return key is not None and key in self._watched

    def outgoing(self, ident: object, wire: str) -> bool:
        """The SDK's answer (as written on the wire) to a watched request: recorded in the
        cache; False when the front already answered it (the client must not get it twice)."""
        key = _ident(ident)
        method, version = self._watched.pop(key or "", ("", None))
        answered = self.answered.pop(key or "", None) is not None
        try:
            result = json.loads(wire).get("result")
        except ValueError:
            result = None
        if method and version and isinstance(result, dict):
            known = self.cache.get(version, {})
            if known.get(method) != result:
                if answered:
                    log.warning(
                        "MCP front: the cached %s answer was out of date; cache "
                        "rewritten for the next start",
                        method,
                    )
                # a new dict each time: a saving thread may be serializing the previous one
                self.cache = {**self.cache, version: {**known, method: result}}
                if "initialize" in self.cache[version]:
                    self._save_soon()
        return not answered


def _handshake(version: str) -> bytes:
    """What a client sends on connecting: ``initialize`` at ``version``, then every cached list."""
    messages: list[dict[str, Any]] = [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "claude-session-warm", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]
    for ident, method in enumerate(LISTS, start=1):
        messages.append({"jsonrpc": "2.0", "id": ident, "method": method})
    return b"".join(json.dumps(m).encode() + b"\n" for m in messages)


def handshake_versions() -> tuple[str, ...]:
    """The protocol versions a client may ask for in ``initialize`` (the SDK's own list)."""
    try:
        from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
    except ImportError:  # an SDK without the registry: the versions Claude Code has asked for
        return ("2025-06-18", "2025-11-25")
    return tuple(HANDSHAKE_PROTOCOL_VERSIONS)


def warm(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    versions: tuple[str, ...] | None = None,
    timeout: float = 60.0,
) -> list[str]:
    """Make the answer cache before the first start (``install`` calls this): the server, run as
    Claude Code will run it (``command``), is asked what a client asks on connecting, once per
    protocol version, in parallel; its own front writes each answer into the cache. Without
    this the first session after an install waits for the SDK before its tools are offered,
    and a busy machine makes it miss ``claude -p``'s first request. Returns a problem per
    version that could not be warmed (never raises: a cold cache costs only time)."""
    import subprocess

    problems: list[str] = []
    threads = []
    for version in versions or handshake_versions():
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=cwd,
                env=env,
            )
        except OSError as exc:
            problems.append(f"{version}: the MCP server did not start: {exc}")
            continue
        thread = threading.Thread(
            target=_warm_one, args=(proc, version, timeout, problems), daemon=True
        )
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return problems


def _warm_one(proc: Any, version: str, timeout: float, problems: list[str]) -> None:
    """One server: the handshake in, the answers read until every one came; then end of input
    (the server stops, finishing its cache write first)."""
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    wanted = set(range(len(LISTS) + 1))
    try:
        proc.stdin.write(_handshake(version))
        proc.stdin.flush()
        for line in proc.stdout:
            try:
                reply = json.loads(line)
            except ValueError:
                continue
            if isinstance(reply, dict) and ("result" in reply or "error" in reply):
                wanted.discard(reply.get("id"))
                if "error" in reply and reply.get("id") in (0, 1):
                    problems.append(f"{version}: {reply['error']}")
            if not wanted:
                break
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.wait()
        timer.cancel()
    if wanted & {0, 1}:
        problems.append(f"{version}: the server did not answer initialize and tools/list")


def serve() -> None:
    """Run the MCP server: the front at once, then the SDK (``mcp_server``) behind it. The
    cyclic garbage collector is off until the server is built (``mcp_server.serve``)."""
    import gc

    gc.disable()
    from claude_session.base.logs import setup_logging
    from claude_session.config import Settings
    from claude_session.paths import Paths

    settings = Settings.from_env()
    paths = Paths(settings.home)
    setup_logging(paths, settings.log_level, stderr=True)
    key = cache_key()
    front = Front(cache_file(paths.data, key), key).start()
    try:
        _slow_start_for_tests()
        from claude_session.edges.mcp import server as mcp_server

        mcp_server.serve(settings, front)
    except KeyboardInterrupt:  # Claude Code stops its servers with SIGINT: no traceback in its log
        return


#: seconds to wait before loading the SDK: how the tests make a slow start (a cold or busy
#: machine, the first start after an upgrade); unset in normal use
START_DELAY = "CLAUDE_SESSION_MCP_START_DELAY"


def _slow_start_for_tests() -> None:
    try:
        delay = float(os.environ.get(START_DELAY) or 0)
    except ValueError:
        return
    if 0 < delay <= 60:
        import time

        time.sleep(delay)
