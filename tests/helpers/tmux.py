"""Drive a terminal program as a person would: in a detached tmux pane, typing, reading the screen.

Each ``Terminal`` runs its own tmux server on a private socket in a temp folder, so a developer's
tmux sessions are never touched and ``close`` ends exactly the server it started.

    with Terminal.start(["claude"], cwd=repo, env=env, socket_dir=tmp_path) as term:
        term.wait_for_text("? for shortcuts")
        term.type_line("hello")
        term.wait_for_text("Hi there.")
        print(term.screen())
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

# focus-events on: Claude Code otherwise puts a hint about it in its footer.
# remain-on-exit: the last screen of a program that quit or crashed can still be read.
_TMUX_CONF = "set -g focus-events on\nset -g remain-on-exit on\nset -g history-limit 5000\n"

requires_tmux = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux not installed: apt-get install -y tmux"
)


class TerminalTimeout(AssertionError):
    """A wait on the screen ran out; the message carries the last screen."""


class Terminal:
    """One program in a detached tmux pane of a fixed size."""

    def __init__(self, socket: Path, name: str) -> None:
        self.socket = socket
        self.name = name

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        socket_dir: Path,
        name: str = "term",
        width: int = 200,
        height: int = 50,
    ) -> Terminal:
        """Start ``argv`` in ``cwd`` with exactly ``env`` (nothing of the tmux server's own)."""
        socket_dir.mkdir(parents=True, exist_ok=True)
        conf = socket_dir / f"{name}.tmux.conf"
        conf.write_text(_TMUX_CONF)
        # A script, not `new-session -e`: the pane must see env and nothing else, and the
        # server's own environment is whatever started it.
        script = socket_dir / f"{name}.sh"
        exports = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(env.items()))
        script.write_text(
            f"cd {shlex.quote(str(cwd))} && exec env -i {exports} {shlex.join(list(argv))}\n"
        )
        term = cls(socket_dir / f"{name}.sock", name)
        term._tmux(
            "-f", str(conf), "new-session", "-d", "-s", name,
            "-x", str(width), "-y", str(height), f"sh {shlex.quote(str(script))}",
        )  # fmt: skip
        return term

    def _tmux(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {proc.stderr.strip()}")
        return proc.stdout

    # -- reading ---------------------------------------------------------------------------
    def screen(self) -> str:
        """The visible screen as plain text, trailing blank lines dropped."""
        return self._tmux("capture-pane", "-p", "-t", self.name).rstrip()

    def exited(self) -> int | None:
        """The program's exit status once it has quit, else None."""
        dead, _, status = (
            self._tmux("display-message", "-p", "-t", self.name, "#{pane_dead} #{pane_dead_status}")
            .strip()
            .partition(" ")
        )
        return int(status or 0) if dead == "1" else None

    def wait_until(
        self, predicate: Callable[[str], object], what: str, *, timeout: float = 20.0
    ) -> str:
        """Poll the screen until ``predicate(screen)`` holds; return that screen."""
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if predicate(shown):
                return shown
            if time.monotonic() >= deadline:
                raise TerminalTimeout(f"no {what} within {timeout} s; last screen:\n{shown}")
            time.sleep(0.1)

    def wait_for_text(self, needle: str, *, timeout: float = 20.0) -> str:
        return self.wait_until(lambda s: needle in s, repr(needle), timeout=timeout)

    def wait_for_exit(self, *, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while (status := self.exited()) is None:
            if time.monotonic() >= deadline:
                raise TerminalTimeout(f"still running after {timeout} s:\n{self.screen()}")
            time.sleep(0.1)
        return status

    # -- typing ----------------------------------------------------------------------------
    def type(self, keys: str) -> None:
        """Type ``keys`` literally (no key names)."""
        self._tmux("send-keys", "-t", self.name, "-l", keys)

    def press(self, *keys: str) -> None:
        """Press named keys: Enter, Escape, C-c, ..."""
        self._tmux("send-keys", "-t", self.name, *keys)

    def type_line(self, line: str, *, settle: float = 0.3) -> None:
        """Type a line, give the input box a moment to take it in, then press Enter."""
        self.type(line)
        time.sleep(settle)
        self.press("Enter")

    # -- ending ----------------------------------------------------------------------------
    def close(self, *, grace: float = 3.0) -> None:
        """End this terminal's tmux server and the program's process group, if still running.

        The pane's program leads its own process group (hooks and servers it spawned are in
        it); killing the tmux server only hangs it up, and a client may take its time to go.
        """
        try:
            pid = int(self._tmux("display-message", "-p", "-t", self.name, "#{pane_pid}"))
        except (RuntimeError, ValueError):
            pid = 0
        subprocess.run(
            ["tmux", "-S", str(self.socket), "kill-server"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        if pid > 0:
            _reap_group(pid, grace)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reap_group(pgid: int, grace: float) -> None:
    """Wait up to ``grace`` seconds for process group ``pgid`` to empty, then SIGKILL it."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
