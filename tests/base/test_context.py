from __future__ import annotations

import re
import string
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from claude_session.base.context import (
    KINDS,
    SECTIONS,
    Context,
    build,
    context_file_name,
    parse,
    render,
    summary_excerpt,
)
from claude_session.base.context.render import as_written
from claude_session.base.gitread import Status
from claude_session.base.redact import contains_secret

CREATED = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
GH = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7H8"
AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"


def full_context(**changes: object) -> Context:
    values: dict[str, object] = dict(
        project="demo",
        kind="pause",
        created=CREATED,
        branch="feature/login",
        head="3f2a9c1d4e5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f",
        session_id="0b9d1a52-6f1c-4f5e-9a55-1d2c3b4a5e6f",
        repository="github.com/o/r",
        summary="Moved the login form to the new API.\nTests pass except the flaky one.",
        accomplishments=["login form uses /v2/auth", "removed the old client"],
        next_steps=["fix the flaky test", "ask about rate limits"],
        notes="The staging server is slow on Mondays.",
        dirty_files=["src/login.py"],
        untracked_files=["notes.txt"],
        stashes=["stash@{0}: WIP on main: 1234567 experiment"],
        commits=["3f2a9c1 Move login form to v2"],
        files_changed=["src/login.py", "tests/test_login.py"],
        maintenance_runs=[
            {
                "command": "npm audit",
                "status": "ok",
                "run_at": "2024-05-01T12:00:00+00:00",
                "notes": "2 moderate\nignored",
                "results": {"critical": 0, "moderate": 2},
            }
        ],
        insights="### Decisions\n\n- keep the v1 endpoint for a month",
    )
    values.update(changes)
    return Context(**values)  # type: ignore[arg-type]


# --- render / parse -----------------------------------------------------------------------


def test_render_has_front_matter_title_and_sections_in_order() -> None:
    text = render(full_context())
    assert text.startswith("---\nproject: demo\nkind: pause\ncreated: 2024-05-01T12:30:15.123456")
    assert "\n# Session context: demo\n" in text
    positions = [text.index(f"\n## {name}\n") for name in SECTIONS]
    assert positions == sorted(positions)


def test_render_omits_empty_sections() -> None:
    text = render(Context(project="p", kind="end", created=CREATED, summary="only this"))
    assert re.findall(r"^## (.*)$", text, re.M) == ["Summary"]
    assert "branch:" not in text


def test_full_context_round_trips() -> None:
    ctx = full_context()
    assert parse(render(ctx)) == ctx


def test_text_that_looks_like_structure_round_trips() -> None:
    ctx = full_context(
        project='we: "quoted" # not a comment',
        branch="---",
        summary="## Notes\n# Session context: fake\n---\n\\## escaped already\n### kept\n- item",
        notes="---\nproject: evil\n---",
        next_steps=["- nested dash", "## heading in item\n## and on the next line"],
        insights="\n\n## Summary\ntrailing  \n\n",
        maintenance_runs=[
            {
                "command": "a: b",
                "status": "42",
                "weird key:": [1, {"x": None}],
                "notes": "",
                "results": "true",
            }
        ],
    )
    assert parse(render(ctx)) == ctx


def test_datetimes_are_kept_in_utc() -> None:
    paris = timezone(timedelta(hours=2))
    ctx = full_context(created=datetime(2024, 5, 1, 14, 30, 15, tzinfo=paris))
    assert ctx.created == datetime(2024, 5, 1, 12, 30, 15, tzinfo=timezone.utc)
    assert ctx.created.tzinfo == timezone.utc
    assert parse(render(ctx)).created.tzinfo == timezone.utc


def test_unknown_kind_is_refused_on_construction() -> None:
    with pytest.raises(ValueError, match="pause"):
        Context(project="p", kind="nap", created=CREATED)


# Unicode text with the pieces that could pass for structure: headings, rules, bullets.
_text = st.lists(
    st.text(max_size=12)
    | st.sampled_from(["#", "## ", "---", "\n", "\r\n", "\\", "- ", "  ", "\u2028", '"', ": "]),
    max_size=8,
).map("".join)
_items = st.lists(_text, max_size=5)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3),
    max_leaves=8,
)
_run = st.fixed_dictionaries(
    {"command": _text, "status": st.sampled_from(["ok", "failed", "42", ""])},
    optional={"notes": _text, "run_at": _text, "results": _json, "extra": _json},
)
_optional = st.none() | _text


@st.composite
def contexts(draw: st.DrawFn) -> Context:
    ctx = Context(
        project=draw(_text),
        kind=draw(st.sampled_from(KINDS)),
        created=draw(st.datetimes(timezones=st.just(timezone.utc))),
        branch=draw(_optional),
        head=draw(_optional),
        session_id=draw(_optional),
        repository=draw(_optional),
        summary=draw(_text),
        accomplishments=draw(_items),
        next_steps=draw(_items),
        notes=draw(_text),
        dirty_files=draw(_items),
        untracked_files=draw(_items),
        stashes=draw(_items),
        commits=draw(_items),
        files_changed=draw(_items),
        maintenance_runs=draw(st.lists(_run, max_size=3)),
        insights=draw(_text),
    )
    return ctx


@settings(max_examples=300, deadline=None)
@given(contexts())
def test_parse_inverts_render(ctx: Context) -> None:
    text = render(ctx, budget=10**9, list_limit=10**6)
    assume(not contains_secret(repr(ctx)) and "[REDACTED:" not in text)
    assert parse(text) == as_written(ctx)


@settings(max_examples=100, deadline=None)
@given(contexts())
def test_rendering_a_parsed_file_gives_the_same_file(ctx: Context) -> None:
    # Holds with redaction too: the markers read back and render unchanged.
    text = render(ctx, budget=10**9, list_limit=10**6)
    assert render(parse(text), budget=10**9, list_limit=10**6) == text


# --- the budget ---------------------------------------------------------------------------


def _list_section(text: str, heading: str) -> list[str]:
    block = text.split(f"\n{heading}\n", 1)[1]
    block = re.split(r"\n#{2,3} ", block, maxsplit=1)[0]
    return [line[2:] for line in block.split("\n") if line.startswith("- ")]


def test_long_lists_are_cut_with_a_correct_count() -> None:
    ctx = full_context(files_changed=[f"src/file{i}.py" for i in range(57)])
    text = render(ctx, list_limit=20, budget=100_000)
    items = _list_section(text, "## Files changed")
    assert items[:20] == [f"src/file{i}.py" for i in range(20)]
    assert items[20:] == ["... and 37 more"]


@pytest.mark.parametrize("budget", [1500, 3000, 8000])
def test_budget_is_respected_with_huge_lists_and_counts_add_up(budget: int) -> None:
    huge = [f"src/module_{i}/file_{i}.py" for i in range(5000)]
    ctx = full_context(
        dirty_files=huge,
        untracked_files=huge[:3000],
        files_changed=huge,
        commits=[f"{i:07x} commit number {i}" for i in range(800)],
        maintenance_runs=[
            {"command": f"scan {i}", "status": "ok", "results": list(range(300))} for i in range(40)
        ],
        notes="note " * 2000,
        insights="insight " * 2000,
    )
    text = render(ctx, budget=budget)
    assert len(text) <= budget
    for heading, full in [
        ("### Dirty files", 5000),
        ("### Untracked files", 3000),
        ("## Files changed", 5000),
        ("### Commits", 800),
    ]:
        if f"\n{heading}\n" in text:
            items = _list_section(text, heading)
            counts = [re.fullmatch(r"\.\.\. and (\d+) more", item) for item in items]
            more = [int(m.group(1)) for m in counts if m]
            assert len(items) - len(more) + sum(more) == full
    # The heads of the summary and the next steps survive any cut.
    back = parse(text)
    assert back.summary.startswith("Moved the login form")
    assert back.next_steps[0] == "fix the flaky test"


def test_least_important_parts_are_cut_first() -> None:
    ctx = full_context(dirty_files=[f"f{i}.py" for i in range(3000)])
    text = render(ctx, budget=4000)
    assert len(text) <= 4000
    # Dropping the working-state list was enough: everything else is whole.
    back = parse(text)
    assert back.insights == ctx.insights and back.notes == ctx.notes
    assert back.maintenance_runs == ctx.maintenance_runs
    assert back.dirty_files[-1].startswith("... and ")


def test_huge_free_text_is_cut_with_a_visible_marker() -> None:
    ctx = full_context(summary="S" * 50_000, next_steps=["N" * 20_000, "second"])
    text = render(ctx, budget=8000)
    assert len(text) <= 8000
    assert re.search(r"\[cut: \d+ characters\]", text)
    back = parse(text)
    assert back.summary.startswith("S" * 100)
    assert back.next_steps[0].startswith("N" * 100)


def test_tiny_budget_is_still_respected() -> None:
    text = render(full_context(summary="x" * 5000), budget=200)
    assert len(text) <= 200


# --- secrets ------------------------------------------------------------------------------


def test_secrets_in_any_part_never_reach_the_output() -> None:
    ctx = full_context(
        summary=f"pushed with {GH}",
        notes=f"aws id {AWS_ID}",
        insights="db at postgres://admin:hunter2@db:5432/x",
        next_steps=["rotate password=hunter2"],
        branch=f"leak-{GH}",
        maintenance_runs=[
            {"command": "scan", "status": "ok", "results": {"token": "abc123def456", "found": [GH]}}
        ],
    )
    text = render(ctx)
    for secret in (GH, AWS_ID, "hunter2", "abc123def456"):
        assert secret not in text
    assert "[REDACTED:github-token]" in text and "[REDACTED:url-credentials]" in text
    assert not contains_secret(text)


@settings(max_examples=100, deadline=None)
@given(
    contexts(),
    st.sampled_from([GH, AWS_ID, "sk-ant-api03-" + "Zx8_Yw7-" * 8]),
    st.sampled_from(["summary", "notes", "insights"]),
)
def test_a_secret_in_free_text_never_survives_render(ctx: Context, secret: str, part: str) -> None:
    setattr(ctx, part, f"{getattr(ctx, part)}\nsee {secret} here")
    assert secret not in render(ctx)


# --- hand-edited and garbage files --------------------------------------------------------


def test_hand_edited_file_without_front_matter_gives_defaults_and_keeps_everything() -> None:
    text = (
        "# Session context: shop\n\n"
        "Some preface.\n\n"
        "## summary:\nWorked on checkout.\n\n"
        "## Next Steps\n* first\n1. second\n   continued\n\n"
        "## Open bugs\n- cart total is wrong\n"
    )
    ctx = parse(text)
    assert ctx.project == "shop" and ctx.kind == "pause"
    assert ctx.created == datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert ctx.summary == "Worked on checkout."
    assert ctx.next_steps == ["first", "second\n continued"]
    assert "Some preface." in ctx.notes
    assert "### Open bugs" in ctx.notes and "cart total is wrong" in ctx.notes


def test_damaged_front_matter_values_fall_back() -> None:
    ctx = parse("---\nproject: [1, 2\nkind: nap\ncreated: yesterday\nbranch: 123\n---\n")
    assert ctx.project == "[1, 2" and ctx.kind == "pause" and ctx.branch == "123"
    assert ctx.created.year == 1970


@pytest.mark.parametrize(
    "text",
    [
        "",
        "---",
        "---\n---",
        "\ufeff---\nkind: end\n",
        "## ",
        "##\n###\n####",
        "- \n  \n- x",
        '## Maintenance runs\n- : \n  "unterminated: 1\n- ... and 3 more',
        "[" * 5000,
        "---\nmaintenance: " + "[" * 100000 + "\n---",
        "\r\n## Summary\r\nx\r",
        "\x00\x1c\u2028",
    ],
)
def test_garbage_parses_without_raising(text: str) -> None:
    assert isinstance(parse(text), Context)


@settings(max_examples=300, deadline=None)
@given(
    st.text()
    | st.lists(
        st.sampled_from(
            [
                "---",
                "## Summary",
                "## Working state",
                "### Commits",
                "## Maintenance runs",
                "- a: 1",
                "  b: [",
                "- ",
                "kind: end",
                "created: 2024",
                "\n",
                "x",
                "# t",
            ]
        )
    ).map("\n".join)
)
def test_parse_never_raises(text: str) -> None:
    ctx = parse(text)
    assert ctx.kind in KINDS


# --- helpers ------------------------------------------------------------------------------


def test_summary_excerpt_reads_the_summary_only() -> None:
    text = render(full_context(summary="## looks like a heading\n" + "word " * 200))
    excerpt = summary_excerpt(text, limit=100)
    assert excerpt.startswith("## looks like a heading\nword")
    assert len(excerpt) <= 100 and excerpt.endswith("…")
    assert summary_excerpt(render(full_context(summary="short"))) == "short"
    assert summary_excerpt("no summary here") == ""


def test_context_file_names_are_safe_and_distinct() -> None:
    names = {context_file_name("../My Project!", "pause", CREATED) for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert re.fullmatch(r"My-Project-20240501-123015-pause-[0-9a-f]{6}\.md", name)


def test_printable_ascii_round_trips_through_front_matter() -> None:
    for value in [string.punctuation, " lead", "trail ", '"q"', "1", "null", "a\nb", "#x"]:
        ctx = full_context(project=value, branch=value, head=value)
        back = parse(render(ctx))
        assert (back.project, back.branch, back.head) == (value, value, value)


def test_build_takes_the_working_tree_from_a_status_and_caps_its_files() -> None:
    tree = Status("main", "a" * 40, False, ["x.py", "y.py"], ["new.txt"])
    ctx = build("compact", project="p", session_id="s", tree=tree, created=CREATED, max_files=1)
    assert (ctx.branch, ctx.head, ctx.dirty_files, ctx.untracked_files) == (
        "main",
        "a" * 40,
        ["x.py"],
        ["new.txt"],
    )
    outside = build("unended", project="p", session_id=None, tree=None, notes="n")
    assert outside.branch is None and outside.dirty_files == [] and outside.notes == "n"
