"""The state files under the Claude Code config home, one module each: its shape, its locked
read-modify-write, and the lock-free reads the hooks and the status line use."""
