"""Small real file systems for fault tests: a size-limited tmpfs (disk full) that can be
remounted read-only. Needs root (CI and the dev machines run as root); a test skips with the
reason when the kernel refuses the mount."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextlib.contextmanager
def tmpfs(where: Path, *, size: str = "256k") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``where`` (created), unmounted afterwards."""
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where))
    except FileNotFoundError:
        pytest.skip("no mount command on this machine")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); needs root")
    try:
        yield where
    finally:
        remount(where, read_only=False)
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def remount(where: Path, *, read_only: bool) -> None:
    done = _mount("-o", f"remount,{'ro' if read_only else 'rw'}", str(where))
    if done.returncode != 0 and read_only:
        pytest.skip(f"cannot remount {where} read-only ({done.stderr.strip()})")


def fill(folder: Path, name: str = "filler.bin") -> Path:
    """Write zeros into ``folder`` until the file system is full; returns the filler file."""
    filler = folder / name
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 4096, 1):  # unbuffered: a failed write leaves nothing pending
            while True:
                try:
                    if os.write(fd, b"\0" * size) < size:
                        break
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler
