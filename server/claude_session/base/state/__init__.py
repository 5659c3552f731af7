"""The state files under the Claude Code config home, one owner module each: its shape (an
entry constructor where the core validates entries with a model), its locked read-modify-write,
and ``peek``, the lock-free read of the hooks' and the status line's (``lockfree``).

    pause      pause-state.json: one pause per project
    remind     remind-state.json: reminder settings (and their one defaults table)
    ledger     ledger/<session>.json: a session's entry
    spool      spool/<record>.json: records the hooks made, for the core to deliver
    handoffs   pending-handoffs/: ClaudeSync items not created yet
    answers    handoff-cache.json and pending-answers/: claude.ai answers waiting or kept
"""
