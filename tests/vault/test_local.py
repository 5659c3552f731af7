"""The local ClaudeSync vault: the vault contract, plus what only files can get wrong."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.errors import ItemNotFound
from claude_session.paths import Paths
from claude_session.vault import LocalVault, open_vault
from claude_session.vault.base import Vault
from helpers.vault_contract import *  # noqa: F403
from helpers.vault_contract import DAY, make

SERVER = str(Path(__file__).resolve().parents[2] / "server")


@pytest.fixture
def paths(isolated_home: Path) -> Paths:
    return Paths(isolated_home)


@pytest.fixture
def vault_factory(paths: Paths) -> Callable[[], Vault]:
    return lambda: LocalVault(paths)


@pytest.fixture
def vault(vault_factory: Callable[[], Vault]) -> Iterator[Vault]:
    with vault_factory() as opened:
        yield opened


def test_item_files_are_private(vault: LocalVault, paths: Paths) -> None:
    item = make(vault)
    vault.set_response(item.id, "answer")
    assert stat.S_IMODE(paths.vault.stat().st_mode) == 0o700
    files = list(paths.vault.glob("*.json"))
    assert [f.name for f in files] == [f"{item.id}.json"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


def test_item_file_is_readable_json_with_the_spec_fields(vault: LocalVault, paths: Paths) -> None:
    item = make(vault)
    data = json.loads((paths.vault / f"{item.id}.json").read_text())
    for field in (
        "title",
        "context",
        "claude_ai_response",
        "project",
        "branch",
        "timestamp",
        "session_id",
        "machine",
    ):
        assert field in data


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"id": "x", "title": "no other fields"}',
        "\xff\xfe",
    ],
)
def test_corrupt_item_file_is_moved_aside_and_listing_goes_on(
    vault: LocalVault, paths: Paths, content: str
) -> None:
    good = make(vault)
    bad = paths.vault / "0badbad0-0000-4000-8000-000000000000.json"
    bad.write_bytes(content.encode("latin-1"))
    with flow.begin() as told:
        assert [i.id for i in vault.list_items()] == [good.id]
    aside = list(paths.vault.glob(f"{bad.name}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content.encode("latin-1")
    assert not bad.exists()
    assert len(told.warnings) == 1 and aside[0].name in told.warnings[0]


def test_item_whose_id_does_not_match_its_file_is_moved_aside(
    vault: LocalVault, paths: Paths
) -> None:
    item = make(vault)
    copy = paths.vault / "0c0c0c0c-0000-4000-8000-000000000000.json"
    copy.write_text((paths.vault / f"{item.id}.json").read_text())
    with flow.begin() as told:
        assert [i.id for i in vault.list_items()] == [item.id]
    assert "does not match the file name" in told.warnings[0]


def test_corrupt_item_asked_by_id_is_not_found_with_a_warning(
    vault: LocalVault, paths: Paths
) -> None:
    bad_id = "0badbad0-0000-4000-8000-000000000000"
    (paths.vault / f"{bad_id}.json").parent.mkdir(parents=True, exist_ok=True)
    (paths.vault / f"{bad_id}.json").write_text("{")
    with flow.begin() as told, pytest.raises(ItemNotFound):
        vault.get_item(bad_id)
    assert "moved to" in told.warnings[0]


def test_corrupt_file_does_not_block_creating_items(vault: LocalVault, paths: Paths) -> None:
    paths.vault.mkdir(parents=True, exist_ok=True)
    (paths.vault / "garbage.json").write_text("nope")
    assert make(vault).title == "session-widgets-2025-03-14"


def test_refs_with_path_characters_never_read_outside_the_vault(
    vault: LocalVault, paths: Paths
) -> None:
    make(vault)
    outside = paths.home / "secret.json"
    outside.write_text("{}")
    for ref in ("../secret", "../../secret", "/etc/passwd"):
        with pytest.raises(ItemNotFound):
            vault.get_item(ref)
    assert outside.read_text() == "{}"


def test_temp_and_lock_files_are_not_items(vault: LocalVault, paths: Paths) -> None:
    item = make(vault)
    (paths.vault / f".{item.id}.json.abc123.tmp").write_text("{half")
    with flow.begin() as told:
        assert [i.id for i in vault.list_items()] == [item.id]
    assert told.warnings == []


def test_listing_an_unused_vault_creates_nothing(vault: LocalVault, paths: Paths) -> None:
    assert vault.list_items() == [] and vault.pending_response() is None
    assert not paths.vault.exists()


_CREATOR = textwrap.dedent("""
    import sys
    from datetime import datetime, timezone
    sys.path.insert(0, {server!r})
    from claude_session.models import PendingHandoff
    from claude_session.paths import Paths
    from claude_session.vault.local import LocalVault
    from pathlib import Path
    vault = LocalVault(Paths(Path({home!r})), lock_timeout=60)
    day = datetime(2025, 3, 14, 9, 30, tzinfo=timezone.utc)
    for n in range({n}):
        item = vault.create_item(PendingHandoff(
            project="widgets", branch="main", session_id=sys.argv[1],
            context=f"{{sys.argv[1]}}-{{n}}", now=day))
        print(item.title, flush=True)
""")


def test_processes_creating_at_once_get_distinct_titles(tmp_path: Path, paths: Paths) -> None:
    script = tmp_path / "creator.py"
    script.write_text(_CREATOR.format(server=SERVER, home=str(paths.home), n=5))
    procs = [
        subprocess.Popen([sys.executable, str(script), f"p{w}"], stdout=subprocess.PIPE, text=True)
        for w in range(6)
    ]
    printed = [line for p in procs for line in p.communicate(timeout=120)[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert len(printed) == 30 and len(set(printed)) == 30
    items = LocalVault(paths).list_items(project="widgets")
    assert sorted(i.title for i in items) == sorted(printed)
    assert sorted(i.context for i in items) == sorted(
        f"p{w}-{n}" for w in range(6) for n in range(5)
    )


def test_open_vault_without_1password_is_the_local_vault(paths: Paths) -> None:
    settings = Settings.from_env({"CLAUDE_CONFIG_DIR": str(paths.home)})
    vault = open_vault(settings, Paths(settings.home))
    assert vault.kind == "local" and str(paths.vault) in vault.description
    item = make(vault)
    assert LocalVault(paths).get_item(item.title).id == item.id


def test_item_written_at_an_instant_reads_back_equal(vault: LocalVault) -> None:
    item = make(vault, now=DAY)
    assert LocalVault(Paths(vault.folder.parent.parent)).get_item(item.id) == item
