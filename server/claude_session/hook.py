"""``python -m claude_session.hook EVENT``: the hooks of a classic install.

Standard library only."""

from __future__ import annotations

import sys

from claude_session.edges.hooks.events import EVENTS, main

if __name__ == "__main__":
    event = sys.argv[1] if len(sys.argv) > 1 else ""
    sys.exit(main(event) if event in EVENTS else 0)
