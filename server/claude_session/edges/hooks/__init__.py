"""What Claude Code runs as a process on its events and after every message: the hooks and the
status line. Standard library only, Python 3.9 syntax, like ``claude_session.base``."""
