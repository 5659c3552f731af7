"""``base.bounded``: the one bounded reader of our own files (N30, N6, N7 of redteam-2)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from claude_session.base.bounded import NotStateFile, read_regular, read_text


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b'{"a": 1}')
    assert read_regular(path) == b'{"a": 1}'
    assert read_text(path) == '{"a": 1}'


def test_a_fifo_is_refused_at_once_without_a_writer(tmp_path: Path) -> None:
    """N30: a FIFO in the state folder never blocks the open or the read."""
    fifo = tmp_path / "zz.json"
    os.mkfifo(fifo)
    done: list[BaseException] = []

    def attempt() -> None:
        try:
            read_regular(fifo)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            done.append(exc)

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(5)
    assert done and isinstance(done[0], NotStateFile), "the read of a FIFO blocked"


def test_a_fifo_with_a_writer_holding_it_open_is_refused(tmp_path: Path) -> None:
    """N30 variant: a writer keeps the FIFO open and sends nothing."""
    fifo = tmp_path / "zz.json"
    os.mkfifo(fifo)
    keep = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # reader and writer in one: never blocks
    try:
        with pytest.raises(NotStateFile, match="not a regular file"):
            read_regular(fifo)
    finally:
        os.close(keep)


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_link_to_a_device_is_refused(tmp_path: Path, target: str) -> None:
    """N7: a link to /dev/zero never fills the memory; no link is followed at all."""
    link = tmp_path / "mcp-answers.json"
    link.symlink_to(target)
    with pytest.raises(NotStateFile, match="symbolic link"):
        read_regular(link)


def test_a_link_to_a_readable_file_elsewhere_is_not_followed(tmp_path: Path) -> None:
    """Nothing outside the state folder is read through a link put in it."""
    secret = tmp_path / "secret.json"
    secret.write_text('{"token": "x"}')
    link = tmp_path / "pause-state.json"
    link.symlink_to(secret)
    with pytest.raises(NotStateFile):
        read_regular(link)


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    """N7: a 300 MB file (sparse here) is refused by its size, not read."""
    path = tmp_path / "ledger.json"
    with path.open("wb") as handle:
        handle.truncate(300 * 1024 * 1024)
    with pytest.raises(NotStateFile, match="bytes"):
        read_regular(path, limit=1024)


def test_a_folder_in_place_of_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "spool.json").mkdir()
    with pytest.raises((NotStateFile, IsADirectoryError)):
        read_regular(tmp_path / "spool.json")


def test_a_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "none.json")
