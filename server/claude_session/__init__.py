"""claude-session: session continuity for Claude Code.

Kept free of imports on purpose: hooks import submodules (paths, config, base, edges.hooks)
on a standard-library-only path, and importing this package must not pull anything heavy.
"""

__version__ = "0.1.0"
