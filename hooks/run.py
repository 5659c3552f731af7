#!/usr/bin/env python3
"""claude-session's hooks as the plugin runs them: ``python3 -I -S hooks/run.py EVENT`` (see
hooks.json). Standard library only; always exits 0.

Up to the version check this file is plain Python 3 (no f-strings, no annotations): an older
``python3`` than the hooks need reads it, is told once, and the hook does nothing."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
try:
    from claude_session.edges.hooks.pythoncheck import (
        too_old,  # plain Python 3: runs on any of them
    )

    if too_old():  # older than 3.9: told once, then nothing to do
        sys.exit(0)
    from claude_session.edges.hooks.events import EVENTS, main
    from claude_session.edges.hooks.fastexit import exit_now
except Exception as exc:  # noqa: BLE001 - a broken install must not break Claude Code
    sys.stdout.write(
        '{"systemMessage": "claude-session hook unavailable: %s"}' % type(exc).__name__
    )
    sys.exit(0)
event = sys.argv[1] if len(sys.argv) > 1 else ""
exit_now(main(event) if event in EVENTS else 0)  # output flushed; no interpreter teardown
