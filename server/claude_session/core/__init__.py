"""The seed's flows over pydantic models and GitPython: start, pause, resume, end, the
ClaudeSync round trip, status, history and sync. ``Core`` is the one object the edges call."""
