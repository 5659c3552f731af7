"""``core/handoff.py``: the transfer prompt and the claude.ai return summary it asks for."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from claude_session.base.context import Context, parse, render
from claude_session.core import handoff
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


_STRUCTURED = """Here is the summary.

**Decisions**
- Use SQLite - it is enough for 1-2 users
- Keep the CLI thin
**Changes to make**
1. Write the migration
2. Run the benchmark
**Open questions**
- none
**Next steps**
- Ship it. Then rest
"""


@pytest.mark.parametrize(
    "joiner", [" ", ""], ids=["line breaks become spaces", "line breaks dropped"]
)
def test_the_apps_one_line_form_keeps_numbered_lists_dashes_in_items_and_bold_headings(
    joiner: str,
) -> None:
    """findings/onepassword-2.md N8: the 1Password app stores a pasted answer on one line; the
    parse of that line equals the multi-line one (numbered items apart, " - " inside an item
    kept, bold headings read), whether the app put a space for each line break or not."""
    flat = joiner.join(_STRUCTURED.split("\n"))
    assert "\n" not in flat
    expected = {
        "Decisions": ["Use SQLite - it is enough for 1-2 users", "Keep the CLI thin"],
        "Changes to make": ["Write the migration", "Run the benchmark"],
        "Open questions": [],
        "Next steps": ["Ship it. Then rest"],
    }
    assert handoff.parse_return_summary(_STRUCTURED) == expected
    assert handoff.parse_return_summary(flat) == expected


def test_flattened_headings_written_as_name_and_colon_are_read() -> None:
    flat = "Decisions: Keep SQLite. Next steps: 1. Write it 2. Run it"
    assert handoff.parse_return_summary(flat) == {
        "Decisions": ["Keep SQLite."],
        "Changes to make": [],
        "Open questions": [],
        "Next steps": ["Write it", "Run it"],
    }
