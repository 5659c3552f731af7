"""``core/handoff.py``: the transfer prompt and the claude.ai return summary it asks for."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from claude_session.base.context import Context, parse, render
from claude_session.core.handoff import (
    RETURN_SECTIONS,
    merge_insights,
    parse_return_summary,
    render_insights,
)

GH = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8"


def context(insights: str = "") -> Context:
    created = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
    return Context(project="demo", kind="pause", created=created, insights=insights)


def test_merge_insights_appends_dated_blocks() -> None:
    ctx = context()
    at = datetime(2024, 5, 2, 9, 0, tzinfo=timezone.utc)
    once = merge_insights(ctx, SHAPED_ANSWER, source="claude.ai item abc", at=at)
    twice = merge_insights(once, "Plain answer.", source="claude.ai", at=at + timedelta(days=1))
    assert once.insights.startswith("**2024-05-02 09:00 UTC, from claude.ai item abc**")
    assert "### Decisions\n\n- Keep the v1 endpoint" in once.insights
    assert twice.insights.startswith(once.insights)
    assert twice.insights.endswith("**2024-05-03 09:00 UTC, from claude.ai**\n\nPlain answer.")
    assert ctx.insights == ""  # the original is left alone
    assert parse(render(twice)).insights == twice.insights


SHAPED_ANSWER = """Here is the summary for the return trip.

## Decisions
- Keep the v1 endpoint for a month
- Use **httpx** for the client

### Changes to make:
1. Add a retry to the login call
2) Remove the feature flag
   once the rollout is done

**Open questions**
- none

Next steps:
* Write the migration note

```
## Decisions
- not a real item inside a code fence
```
"""


def test_parse_return_summary_reads_the_shape() -> None:
    shaped = parse_return_summary(SHAPED_ANSWER)
    assert shaped == {
        "Decisions": ["Keep the v1 endpoint for a month", "Use **httpx** for the client"],
        "Changes to make": [
            "Add a retry to the login call",
            "Remove the feature flag once the rollout is done",
        ],
        "Open questions": [],
        "Next steps": ["Write the migration note"],
    }
    assert tuple(shaped) == RETURN_SECTIONS


def test_parse_return_summary_is_none_for_free_form_answers() -> None:
    answer = "Sounds good. I think you should keep v1 for a while.\n\n## Thoughts\n- maybe later"
    assert parse_return_summary(answer) is None
    assert parse_return_summary("") is None
    assert parse_return_summary("## Next steps\n- only one heading") is None


def test_render_insights_uses_subsections_for_the_shape() -> None:
    out = render_insights(SHAPED_ANSWER)
    assert out.split("\n")[0] == "### Decisions"
    assert "### Open questions" not in out  # empty sections are left out
    assert "- Remove the feature flag once the rollout is done" in out
    assert "Here is the summary" not in out
    assert render_insights(out) == out


def test_render_insights_keeps_free_form_answers_whole_but_redacted() -> None:
    answer = f"Keep going.\n\nThe key {GH} should be rotated.\n"
    out = render_insights(answer)
    assert out == "Keep going.\n\nThe key [REDACTED:github-token] should be rotated."
