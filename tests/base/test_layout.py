"""The layout's rules for the hook-safe part (root modules, ``base/``, ``edges/hooks/``): it
imports only itself and the standard library, and only the hook entry points import the hook
runner. (import-linter checks the same in CI; this keeps it checked under pytest too.)"""

from __future__ import annotations

import sys

from helpers.layout import PACKAGE, STDLIB_ONLY, imports, module_file


def test_only_hook_entry_points_import_the_hook_runner() -> None:
    """design-2 #1: the core never imports an edge; the runner is reached from the entry
    points only (the plugin's ``hooks/run.py`` is outside the package)."""
    importers = sorted(
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "claude_session.edges.hooks.events" in imports(p)
    )
    assert importers == ["__main__.py"]  # the classic install's entry point


def test_the_modules_hooks_use_stay_standard_library_only() -> None:
    allowed = set(sys.stdlib_module_names) | {"claude_session"}
    assert {"base.flow", "base.state.ledger", "edges.hooks.events", "errors"} <= STDLIB_ONLY
    for name in sorted(STDLIB_ONLY):
        for imported in imports(module_file(name)):
            top, _, rest = imported.partition(".")
            if top == "claude_session" and rest:
                assert rest in STDLIB_ONLY or rest.rpartition(".")[0] in STDLIB_ONLY, (
                    f"{name} imports {imported}"
                )
            else:
                assert top in allowed, f"{name} imports {imported}"
