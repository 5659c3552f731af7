"""`tracker serve|migrate|token create` start-up messages: one clear line, the right exit code."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# psycopg made unimportable, as on an install without the [postgres] extra
NO_PSYCOPG = (
    "import sys; sys.modules['psycopg'] = None; "
    "from claude_session.edges.cli import main; sys.exit(main(sys.argv[1:]))"
)


def run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "server"))
    head = ["-c", code] if code else ["-m", "claude_session.edges.cli"]
    return subprocess.run(
        [sys.executable, *head, *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_busy_port_is_reported_before_the_banner_with_exit_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run("tracker", "serve", "--port", str(port), "--database", str(tmp_path / "t.db"))
    assert proc.returncode == 1, proc.stderr
    assert f"Port {port} on 127.0.0.1 is already in use" in proc.stderr
    assert "--port" in proc.stderr
    assert "Tracker on" not in proc.stderr and "Traceback" not in proc.stderr


def test_postgresql_without_the_driver_says_how_to_add_it_in_one_line() -> None:
    for verb in (["serve", "--port", "0"], ["migrate"], ["token", "create", "--user", "a"]):
        proc = run(
            "tracker", *verb, "--database", "postgresql://me@127.0.0.1:9/db", code=NO_PSYCOPG
        )
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert "PostgreSQL driver" in lines[0] and "pip install 'psycopg[binary]" in lines[0]
        assert "claude-session[postgres]" in lines[0] and "Tracker on" not in lines[0]
