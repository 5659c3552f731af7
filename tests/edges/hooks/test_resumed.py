"""``edges/hooks/resumed.py``: the start-up line about a resumed session whose prompt cache has
likely expired, from the fields Claude Code 2.1.332 sends SessionStart on resume and fork
(``seconds_since_last_response``, ``context_tokens``, ``prompt_cache_likely_expired``,
``estimated_cache_write_usd``; read in its binary's hook input schema)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from claude_session.edges.hooks.resumed import resume_note
from helpers.gitrepo import make_repo
from helpers.hookrun import payload, run_hook

#: a resume of 2.1.332, three hours after the last answer, as its schema describes it
STALE = {
    "source": "resume",
    "seconds_since_last_response": 3 * 3600 + 60,
    "context_tokens": 123_456,
    "prompt_cache_likely_expired": True,
    "estimated_cache_write_usd": 0.4629,
}


def test_a_stale_resume_says_how_old_and_what_re_caching_costs() -> None:
    assert resume_note(STALE) == (
        "resumed; its last answer was 3 h ago, so the first request re-caches 123k tokens "
        "(about $0.46)"
    )
    assert resume_note({**STALE, "source": "fork"}) == resume_note(STALE)
    cheap = resume_note({**STALE, "context_tokens": 900, "estimated_cache_write_usd": 0.001})
    assert cheap is not None and cheap.endswith("re-caches 900 tokens (under $0.01)")
    unpriced = resume_note({**STALE, "estimated_cache_write_usd": None})
    assert unpriced is not None and unpriced.endswith("re-caches 123k tokens")


@pytest.mark.parametrize(
    "data",
    [
        {**STALE, "prompt_cache_likely_expired": False},  # still warm: nothing to pay
        {**STALE, "source": "startup"},
        {"source": "resume"},  # an older Claude Code: no fields
        {**STALE, "prompt_cache_likely_expired": "true"},
        {**STALE, "seconds_since_last_response": True},
        {**STALE, "seconds_since_last_response": -5},
        {**STALE, "seconds_since_last_response": 1e30},
        {**STALE, "seconds_since_last_response": "3h"},
    ],
    ids=["warm", "startup", "older-client", "str-flag", "bool", "negative", "huge", "text"],
)
def test_nothing_is_said_without_believable_fields(data: dict[str, Any]) -> None:
    assert resume_note(data) is None


def test_odd_token_and_cost_values_are_left_out_not_shown() -> None:
    said = resume_note({**STALE, "context_tokens": "lots", "estimated_cache_write_usd": -1})
    assert said == "resumed; its last answer was 3 h ago, so its prompt cache has likely expired"


def test_the_session_start_hook_shows_it_to_the_person(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "proj")
    out, _ = run_hook("SessionStart", payload("SessionStart", repo, **STALE), cwd=repo)
    assert out is not None
    assert out["systemMessage"] == "claude-session: " + str(resume_note(STALE))
    fresh, _ = run_hook(
        "SessionStart", payload("SessionStart", repo, session_id="s2", source="resume"), cwd=repo
    )
    assert fresh is None or "re-caches" not in str(fresh.get("systemMessage"))
