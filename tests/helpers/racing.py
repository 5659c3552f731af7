"""CLI commands racing from separate processes, many rounds without an interpreter start each.

    with cli_racers(2, cwd=repo) as race:
        (code1, err1), (code2, err2) = race(["pause", ...], ["end", ...])

Each racer is a process of its own (``spawn``: a fresh interpreter, nothing shared with the
test) that runs the CLI's ``main`` for every command it is handed; the commands of one round
leave a barrier together, so they overlap for real (started as new interpreters they are
seconds apart on a loaded machine, and rarely meet). The environment (the state home) is the
test's, as when it spawned them.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

Outcome = tuple[int, str]
Race = Callable[..., list[Outcome]]


def _racer(
    cwd: str,
    commands: Queue[tuple[list[str], float] | None],
    results: Queue[Outcome],
    gate: Barrier,
) -> None:
    os.chdir(cwd)
    from claude_session.edges.cli import main

    while (command := commands.get()) is not None:
        argv, delay = command
        gate.wait()
        time.sleep(delay)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = int(exc.code or 0)
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails
                code, err = 99, io.StringIO(f"{type(exc).__name__}: {exc}")
        results.put((code, err.getvalue()))


@contextlib.contextmanager
def cli_racers(count: int, *, cwd: Path) -> Iterator[Race]:
    """``count`` racing processes in ``cwd``; yields ``race(argv, ...)``, one argv per racer,
    which returns each one's exit code and standard error. ``delays``: seconds each racer
    waits after the barrier (to sweep the ways two commands can overlap)."""
    context = multiprocessing.get_context("spawn")
    gate = context.Barrier(count)
    pipes = [(context.Queue(), context.Queue()) for _ in range(count)]
    racers = [
        context.Process(target=_racer, args=(str(cwd), commands, results, gate), daemon=True)
        for commands, results in pipes
    ]
    for racer in racers:
        racer.start()

    def race(*argvs: list[str], delays: tuple[float, ...] | None = None) -> list[Outcome]:
        assert len(argvs) == count
        for (commands, _), argv, delay in zip(pipes, argvs, delays or (0.0,) * count, strict=True):
            commands.put((argv, delay))
        return [results.get(timeout=300) for _, results in pipes]

    try:
        yield race
    finally:
        for commands, _ in pipes:
            commands.put(None)
        for racer in racers:
            racer.join(30)
            if racer.is_alive():
                racer.kill()
