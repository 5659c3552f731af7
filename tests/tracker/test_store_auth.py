"""Users and their keys (``store/auth.py``): only hashes are kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from claude_session.tracker.service.app import create_api_key


def test_api_keys_are_stored_hashed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    key = create_api_key(url, "alice")
    assert key.startswith("cst_") and len(key) > 40
    assert key != create_api_key(url, "alice")
    conn = sqlite3.connect(tmp_path / "t.db")
    try:
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    assert key not in dump and key[8:] not in dump
