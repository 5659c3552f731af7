"""``config.py``: the settings read once from the environment (a namedtuple: immutable,
compared by value, secrets kept out of its repr)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from claude_session.base import routines
from claude_session.config import Settings

CONFIG = Path(__file__).resolve().parent.parent / "server" / "claude_session" / "config.py"


def test_settings_are_immutable_compared_by_value_and_replaced_by_copy(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, tracker_url="https://t.example")
    with pytest.raises(AttributeError):
        settings.home = Path("/elsewhere")  # type: ignore[misc]
    assert settings == Settings(home=tmp_path, tracker_url="https://t.example")
    changed = settings.replace(vault_name="Team")
    assert (changed.vault_name, settings.vault_name) == ("Team", routines.DEFAULT_VAULT)
    assert hash(settings) == hash(Settings(home=tmp_path, tracker_url="https://t.example"))


def test_secrets_stay_out_of_the_repr(tmp_path: Path) -> None:
    shown = repr(Settings(home=tmp_path, tracker_token="tok-SECRET", op_token="ops_SECRET"))
    assert "SECRET" not in shown and "tracker_url=None" in shown


def test_the_typed_declaration_and_the_runtime_fields_agree() -> None:
    """mypy reads a NamedTuple declared under TYPE_CHECKING; the hooks get collections'
    namedtuple (no typing import): both must list the same fields and defaults."""
    tree = ast.parse(CONFIG.read_text("utf-8"))
    typed = next(
        node for node in ast.walk(tree) if isinstance(node, ast.ClassDef) and node.name == "_Values"
    )
    fields = [n.target.id for n in typed.body if isinstance(n, ast.AnnAssign)]  # type: ignore[union-attr]
    assert list(Settings._fields) == fields
    bare = Settings(home=Path("/h"))
    for node in typed.body:
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            name = node.target.id  # type: ignore[union-attr]
            expected = {"DEFAULT_VAULT": routines.DEFAULT_VAULT}.get(ast.unparse(node.value))
            if expected is None and isinstance(node.value, ast.Constant):
                expected = node.value.value
            if expected is not None:
                assert getattr(bare, name) == expected, name


def test_the_first_of_a_config_dir_list_is_ours() -> None:
    settings = Settings.from_env({"CLAUDE_CONFIG_DIR": "/a/one,/b/two", "HOME": "/h"})
    assert settings.home == Path("/a/one")
    assert Settings.from_env({"HOME": "/h"}).home == Path("/h/.claude")
