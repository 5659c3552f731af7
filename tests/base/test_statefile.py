from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from claude_session.base import flow
from claude_session.base.statefile import StateFile, atomic_write
from claude_session.errors import StateError

SERVER = str(Path(__file__).resolve().parents[2] / "server")


def test_update_creates_private_file_and_folder(tmp_path: Path) -> None:
    sf = StateFile(tmp_path / "state" / "x.json")
    with sf.update() as data:
        data["a"] = 1
    assert sf.read() == {"a": 1, "version": 1}
    assert stat.S_IMODE((tmp_path / "state" / "x.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700


def test_corrupt_file_is_moved_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{not json")
    sf = StateFile(path)
    with flow.begin() as current, sf.update() as data:
        data["fresh"] = True
    aside = list(tmp_path.glob("x.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{not json"
    assert "moved to" in current.warnings[0] and aside[0].name in current.warnings[0]
    assert json.loads(path.read_text())["fresh"] is True


@pytest.mark.parametrize("content", ["[]", '"text"', '{"version": "two"}', "\xff\xfe"])
def test_hand_edited_wrong_shapes_are_moved_aside(tmp_path: Path, content: str) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content.encode("latin-1"))
    sf = StateFile(path)
    assert sf.read() == {"version": 1}
    assert len(list(tmp_path.glob("x.json.corrupt-*"))) == 1


def test_validator_failure_counts_as_corrupt(tmp_path: Path) -> None:
    def validate(data: dict) -> dict:
        if not isinstance(data.get("projects"), dict):
            raise ValueError("projects is not an object")
        return data

    path = tmp_path / "x.json"
    path.write_text('{"version": 1, "projects": []}')
    sf = StateFile(path, validate=validate, empty=lambda: {"projects": {}})
    with flow.begin() as current:
        assert sf.read() == {"version": 1, "projects": {}}
    assert "projects is not an object" in current.warnings[0]


def test_newer_format_is_read_but_never_written(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"version": 99, "keep": true}')
    sf = StateFile(path)
    assert sf.read()["keep"] is True
    with pytest.raises(StateError, match="newer claude-session"), sf.update():
        pass
    assert json.loads(path.read_text()) == {"version": 99, "keep": True}


def test_read_only_folder_gives_clear_error_and_keeps_old_state(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions; covered by the read-only mount test")
    folder = tmp_path / "ro"
    sf = StateFile(folder / "x.json")
    with sf.update() as data:
        data["a"] = 1
    folder.chmod(0o500)
    try:
        with pytest.raises(StateError, match="writable"), sf.update() as data:
            data["a"] = 2
    finally:
        folder.chmod(0o700)
    assert sf.read()["a"] == 1


_WORKER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {server!r})
    from pathlib import Path
    from claude_session.base.statefile import StateFile
    sf = StateFile(Path({path!r}), lock_timeout=60)
    for i in range({n}):
        with sf.update() as data:
            data.setdefault("projects", {{}})[f"{{sys.argv[1]}}-{{i}}"] = {{"n": i}}
""")


def test_concurrent_writers_from_processes_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "pause-state.json"
    script = tmp_path / "worker.py"
    script.write_text(_WORKER.format(server=SERVER, path=str(path), n=10))
    procs = [subprocess.Popen([sys.executable, str(script), f"p{w}"]) for w in range(20)]
    assert all(p.wait(120) == 0 for p in procs)
    projects = json.loads(path.read_text())["projects"]
    assert len(projects) == 200


_SLOW_WRITER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {server!r})
    from pathlib import Path
    from claude_session.base import statefile
    real_replace = os.replace
    def slow_replace(a, b):
        print("ready", flush=True)
        time.sleep(30)
        real_replace(a, b)
    os.replace = slow_replace
    statefile.atomic_write(Path({path!r}), "NEW" * 100000)
""")


def test_writer_killed_mid_write_leaves_old_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    atomic_write(path, '{"old": true}')
    script = tmp_path / "slow.py"
    script.write_text(_SLOW_WRITER.format(server=SERVER, path=str(path)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert json.loads(path.read_text()) == {"old": True}


def test_writer_killed_at_random_points_never_leaves_a_torn_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    atomic_write(path, json.dumps({"n": -1}))
    script = tmp_path / "loop.py"
    script.write_text(
        textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {SERVER!r})
        from pathlib import Path
        from claude_session.base.statefile import atomic_write
        i = 0
        while True:
            atomic_write(Path({str(path)!r}), json.dumps({{"n": i, "pad": "x" * 50000}}))
            i += 1
    """)
    )
    for delay in (0.05, 0.13, 0.21, 0.34):
        proc = subprocess.Popen([sys.executable, str(script)])
        time.sleep(delay + 0.15)
        proc.kill()
        proc.wait(10)
        assert isinstance(json.loads(path.read_text())["n"], int)


def test_an_update_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    sf = StateFile(tmp_path / "x.json")
    with sf.update() as data:
        data["projects"] = {"a": 1}
    before = os.stat(sf.path)
    with sf.update() as data:
        data["projects"]["a"] = 1  # the same value
    after = os.stat(sf.path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    with sf.update() as data:
        data["projects"]["a"] = 2
    assert os.stat(sf.path).st_ino != before.st_ino  # a change is written (a new file)
    assert sf.read()["projects"] == {"a": 2}


def test_a_link_with_the_same_content_is_moved_aside_not_read_through(tmp_path: Path) -> None:
    sf = StateFile(tmp_path / "x.json")
    with sf.update() as data:
        data["projects"] = {"a": 1}
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(sf.path.read_bytes())
    before = elsewhere.read_bytes()
    sf.path.unlink()
    sf.path.symlink_to(elsewhere)
    with flow.begin() as told, sf.update():
        pass
    assert not sf.path.is_symlink() and "projects" not in sf.read()
    assert "symbolic link" in " ".join(told.warnings)
    assert elsewhere.read_bytes() == before  # the target is never written
