"""The ways in: the CLI, the MCP server, the hooks and the status line, install and doctor.
Each parses its input, calls the core (or, for the hooks, ``claude_session.base``) and prints."""
