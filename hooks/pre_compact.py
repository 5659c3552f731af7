#!/usr/bin/env python3
"""claude-session PreCompact hook: standard library only; always exits 0."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
try:
    from claude_session.edges.hooks.pythoncheck import (
        too_old,  # plain Python 3: runs on any of them
    )

    if too_old():  # older than 3.9: told once, then nothing to do
        sys.exit(0)
    from claude_session.edges.hooks.events import main
    from claude_session.edges.hooks.fastexit import exit_now
except Exception as exc:  # noqa: BLE001 - a broken install must not break Claude Code
    sys.stdout.write(
        '{"systemMessage": "claude-session hook unavailable: %s"}' % type(exc).__name__
    )
    sys.exit(0)
exit_now(main("PreCompact"))  # output flushed; no interpreter teardown
