"""State the SessionStart hook and the status line read, written as the flows write it:
a pause of a project, a claude.ai answer waiting."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from helpers.hookrun import ROOT

PLUGIN = {"CLAUDE_PLUGIN_ROOT": str(ROOT)}


def pause(
    home: Path,
    repo: Path,
    *,
    minutes: int = 42,
    summary: str = "Half way through the parser\nsecond line never shown",
    **extra: Any,
) -> None:
    context = home / "contexts" / "proj-x-pause.md"
    context.parent.mkdir(exist_ok=True)
    context.write_text("---\nproject: proj\n---\n")
    paused_at = (datetime.now(timezone.utc) - timedelta(minutes=minutes)).isoformat()
    entry = {
        "project": "proj",
        "project_root": str(repo),
        "branch": "feature/x",
        "context_file": str(context),
        "paused_at": paused_at,
        "summary": summary,
        **extra,
    }
    (home / "pause-state.json").write_text(
        json.dumps({"version": 1, "projects": {str(repo): entry}})
    )


def answer_waiting(home: Path, repo: Path) -> None:
    cache = home / "claude-session" / "handoff-cache.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        json.dumps(
            {
                "version": 1,
                "projects": {str(repo): {"waiting": True, "item": "session-proj-2026-11-24"}},
            }
        )
    )
