"""Copies of the checkout with one performance trick switched, for paired comparisons.

A trick stays only where paired, alternating runs show a goal missed without it by more than
the run-to-run spread (issue 22). ``copy_with(name)`` writes ``server/`` and ``hooks/`` to a
temp folder with the edits of ``VARIANTS[name]`` applied, so a benchmark runs the checkout and
the variant side by side, round by round, with nothing in the product reading a switch.

    fastexit   the hooks and the status line end with ``sys.exit`` (interpreter teardown)
               instead of ``fastexit.exit_now`` (``os._exit`` once the output is flushed)
    spawn      the git reader starts git with ``os.posix_spawn`` and waits with ``select``
               (the runner the product had, removed by this measure) instead of
               ``subprocess.Popen``
    datetime   ``clock``, ``reminding`` and ``state.remind`` import ``datetime`` at their top
               and ``now_iso`` is ``now().isoformat()``: what the Stop hook and the
               UserPromptSubmit hook with reminders off imported before they stopped
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_SPAWN_RUNNER = '''
def _run_spawned(argvs, env, timeout):
    """The removed posix_spawn/select runner (bench variant 'spawn'), as it was."""
    import select
    import time

    deadline = time.monotonic() + timeout
    running = {}
    chunks = [[] for _ in argvs]
    pids = [None] * len(argvs)
    for index, argv in enumerate(argvs):
        read_end, write_end = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        try:
            pids[index] = os.posix_spawnp(
                argv[0],
                argv,
                env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, null, 0),
                    (os.POSIX_SPAWN_DUP2, write_end, 1),
                    (os.POSIX_SPAWN_DUP2, null, 2),
                ],
            )
        except OSError:
            os.close(read_end)
        else:
            running[read_end] = (index, pids[index] or 0)
        finally:
            os.close(write_end)
            os.close(null)
    try:
        while running:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(list(running), [], [], left)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if data:
                    chunks[running[fd][0]].append(data)
                else:
                    os.close(fd)
                    del running[fd]
    finally:
        for fd in running:
            os.close(fd)
            try:
                os.kill(running[fd][1], 9)
            except OSError:
                pass
    results = []
    timed_out = {index for index, _ in running.values()}
    for index, pid in enumerate(pids):
        if pid is None:
            results.append(None)
            continue
        _, status = os.waitpid(pid, 0)
        ok = index not in timed_out and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        results.append(b"".join(chunks[index]) if ok else None)
    return results
'''

#: variant -> (file under the checkout, text in it, its replacement), each applied once
VARIANTS: dict[str, list[tuple[str, str, str]]] = {
    "fastexit": [
        ("hooks/run.py", "exit_now(main(event)", "sys.exit(main(event)"),
        (
            "server/claude_session/__main__.py",
            "        exit_now(statusline(argv[1:]))",
            "        sys.exit(statusline(argv[1:]))",
        ),
    ],
    "datetime": [
        (
            "server/claude_session/base/clock.py",
            "import time\n",
            "import time\nfrom datetime import datetime, timezone\n",
        ),
        (
            "server/claude_session/base/clock.py",
            "    seconds, micro = divmod(",
            "    return now().isoformat()\n    seconds, micro = divmod(",
        ),
        (
            "server/claude_session/base/reminding.py",
            "from pathlib import Path\n",
            "from datetime import datetime, timedelta, timezone\nfrom pathlib import Path\n",
        ),
        (
            "server/claude_session/base/state/remind.py",
            "import math\n",
            "import math\nfrom datetime import datetime\n",
        ),
    ],
    "spawn": [
        (
            "server/claude_session/base/gitread.py",
            "def _run(argvs:",
            _SPAWN_RUNNER.lstrip() + "\n\ndef _run_popen(argvs:",
        ),
        (
            "server/claude_session/base/gitread.py",
            "for index, out in enumerate(_run(argvs, env, timeout)):",
            "for index, out in enumerate(_run_spawned(argvs, env, timeout)):",
        ),
    ],
}


def copy_with(name: str) -> Path:
    """A temp copy of ``server/`` and ``hooks/`` with variant ``name`` applied; its root."""
    target = Path(tempfile.mkdtemp(prefix=f"cs-bench-{name}-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("server", "hooks"):
        shutil.copytree(ROOT / folder, target / folder, ignore=ignore)
    for relative, old, new in VARIANTS[name]:
        path = target / relative
        text = path.read_text("utf-8")
        if text.count(old) != 1:
            raise SystemExit(f"variant {name}: {old!r} is not in {relative} exactly once")
        path.write_text(text.replace(old, new), "utf-8")
    return target


def spread(ratios: list[float]) -> float:
    """The run-to-run spread of per-round ratios: half their interquartile range."""
    if len(ratios) < 4:
        return float("nan")
    low, _, high = statistics.quantiles(ratios, n=4)
    return (high - low) / 2
