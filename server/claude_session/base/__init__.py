"""What the hooks and the status line may import: standard library only, Python 3.9 syntax.

Claude Code runs hooks with the first ``python3`` on the user's PATH (3.9 on a stock macOS) and
waits for them on every event, so nothing here imports a third-party package or uses syntax newer
than 3.9 (ruff checks this folder with ``target-version = "py39"``; an import-linter contract and
``tests/base/test_layout.py`` keep it standard library only). The core builds on these modules;
they never import the core, the backends or the edges.

    clock, text, locking, statefile, flow    time, odd text, locks, atomic files, per-call state
    bounded, quoting                         bounded reads of our files; outside text as data
    redact, logs                             secrets out of every exit; the log file
    transcript, digest, context              Claude Code transcripts; digests; context files
    gitread, routines, sessions              the safe git reader; routine config; a session's life
    packedrefs, projectmcp                   packed-refs lookups; .mcp.json servers named like ours
    repoprograms, remoteurl                  the repository's filter programs kept off; remote URLs
    reminding, standing                      when a reminder is due; a session's standing, in words
    state/                                   one module per state file: pause remind ledger spool
                                             handoffs answers (+ lockfree, the status line's reads)
"""
