"""The seed's "Handoff Workflow: Claude Code to claude.ai" through ``Core`` on a real repository,
with the 1Password vault on the fake SDK client: end or pause with a hand-off, the answer pasted
into the item, start importing it once; and every 1Password failure leaving nothing lost."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from claude_session.base import context as ctxmod
from claude_session.config import Settings
from claude_session.core import handoff
from claude_session.core.facade import Core
from claude_session.core.project import resolve
from claude_session.edges import textout
from claude_session.edges.hooks import events as hooklib
from claude_session.models import PendingHandoff
from claude_session.paths import Paths
from claude_session.vault import op_sdk
from claude_session.vault.base import identity_tag
from claude_session.vault.onepassword import OnePasswordVault
from helpers.fake_onepassword import (
    OTHER_TOKEN,
    READS,
    TOO_BIG,
    VALID_TOKEN,
    FakeOnePassword,
)
from helpers.gitrepo import make_remote, make_repo
from helpers.handoff_world import ANSWER
from helpers.onepassword_vault import pass_rate_limit_wait


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = make_repo(tmp_path / "shop")
    make_remote(r, tmp_path / "remote.git")
    return r


@pytest.fixture
def fake() -> FakeOnePassword:
    return FakeOnePassword()


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    return Settings.from_env().replace(op_token=VALID_TOKEN)


@pytest.fixture
def core(settings: Settings, fake: FakeOnePassword) -> Callable[..., Core]:
    def make(use: Settings | None = None) -> Core:
        chosen = use or settings
        return Core(chosen, vault=OnePasswordVault(chosen, authenticate=fake.authenticate))

    return make


@contextmanager
def opened(make: Callable[..., Core], use: Settings | None = None) -> Iterator[Core]:
    with make(use) as c:
        yield c


def cache_entry(settings: Settings, repo: Path) -> dict[str, object]:
    data = json.loads(Paths(settings.home).handoff_cache.read_text())
    return dict(data["projects"][resolve(repo).key])


def hook_note(repo: Path) -> str | None:
    """What the SessionStart hook says, from its cache alone (no network on that path)."""
    return hooklib.handoff_note(hooklib.HookContext({"cwd": str(repo)}))


def pending_requests(settings: Settings) -> list[Path]:
    folder = Paths(settings.home).data / "pending-handoffs"
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def end_with_handoff(c: Core, repo: Path, sid: str = "s1") -> object:
    c.start(repo, session_id=sid)
    return c.end(
        repo,
        session_id=sid,
        summary="Parser done; CLI next.",
        accomplishments=["parser"],
        next_steps=["wire the CLI"],
        push=False,
        mode="handoff",
    )


# --- the round trip ---------------------------------------------------------------------------


def test_end_handoff_then_answer_then_start_imports_it_once(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    with opened(core) as c:
        ended = end_with_handoff(c, repo)
    title = ended.handoff_item  # type: ignore[attr-defined]
    assert title is not None and title.startswith("session-shop-")
    item = fake.item(title)
    fields = {f.title: f.value for f in item.fields}
    assert "Parser done; CLI next." in fields["context"] and fields["claude_ai_response"] == ""
    assert item.notes == ended.transfer_prompt  # type: ignore[attr-defined]
    assert "## Decisions" in item.notes and "- wire the CLI" in item.notes

    fake.user_edits(title, claude_ai_response=ANSWER)
    with opened(core) as c:
        started = c.start(repo, session_id="s2")
    assert started.imported_item == title and "1Password vault 'ClaudeSync'" in str(started.vault)
    insights = ctxmod.parse(started.context).insights
    assert "### Decisions" in insights and "- Keep SQLite for the local tracker" in insights
    assert "- Write the migration" in insights and "Here is the summary" not in insights
    assert cache_entry(settings, repo)["waiting"] is False

    with opened(core) as c:
        again = c.start(repo, session_id="s3")
    assert again.imported_item is None and "Keep SQLite" not in again.context


def test_pause_handoff_creates_the_item_and_returns_the_prompt(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    with opened(core) as c:
        c.start(repo, session_id="s1")
        paused = c.pause(
            repo,
            session_id="s1",
            summary="Halfway",
            next_steps=["finish"],
            note="Should the cache be per user?",
            handoff=True,
        )
    assert paused.handoff_item and paused.transfer_prompt
    assert "- Should the cache be per user?" in paused.transfer_prompt
    assert fake.item(paused.handoff_item).notes == paused.transfer_prompt
    assert not any("local vault" in w for w in paused.warnings)


def test_start_and_sync_tell_the_hook_an_answer_waits_and_status_only_looks(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """status sees the answer but writes nothing (its MCP tool is read-only); sync and start
    keep the hook's cache."""
    with opened(core) as c:
        title = end_with_handoff(c, repo).handoff_item  # type: ignore[attr-defined]
        assert c.status(repo).handoff_waiting is False
        assert cache_entry(settings, repo)["waiting"] is False
        fake.user_edits(title, claude_ai_response=ANSWER)
        status = c.status(repo)
    assert status.handoff_waiting is True and "ClaudeSync" in status.vault
    assert cache_entry(settings, repo)["waiting"] is False and hook_note(repo) is None
    with opened(core) as c:
        c.sync(repo)
    assert cache_entry(settings, repo) | {"checked_at": None} == {
        "waiting": True,
        "item": title,
        "checked_at": None,
    }
    assert title in str(hook_note(repo))
    with opened(core) as c:
        c.start(repo, session_id="s2", no_import=True)
        assert cache_entry(settings, repo)["waiting"] is True
        c.start(repo, session_id="s3")
    assert cache_entry(settings, repo)["waiting"] is False and hook_note(repo) is None


def test_import_handoff_by_named_item(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    with opened(core) as c:
        c.start(repo, session_id="s1")
        first = c.pause(repo, session_id="s1", summary="one", handoff=True).handoff_item
        second = c.pause(repo, session_id="s1", summary="two", handoff=True).handoff_item
        assert first and second and first != second
        fake.user_edits(
            first, claude_ai_response="## Decisions\n- from the first\n## Next steps\n- a"
        )
        fake.user_edits(
            second, claude_ai_response="## Decisions\n- from the second\n## Next steps\n- b"
        )
        result = c.import_handoff(repo, item=first, session_id="s1")
        assert result.status == "imported" and result.item == first
        assert "from the first" in Path(str(result.context_file)).read_text()
        pending = c.vault.pending_response(project="shop", repository=resolve(repo).repository)
        assert pending is not None and pending.title == second
        newest = c.import_handoff(repo, session_id="s1")
    assert newest.item == second
    assert "from the second" in Path(str(newest.context_file)).read_text()


def test_answer_without_the_shape_is_kept_whole(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    with opened(core) as c:
        title = end_with_handoff(c, repo).handoff_item  # type: ignore[attr-defined]
    fake.user_edits(title, claude_ai_response="We agreed to drop the cache entirely.")
    with opened(core) as c:
        started = c.start(repo, session_id="s2")
    assert "We agreed to drop the cache entirely." in ctxmod.parse(started.context).insights


def test_handoff_receive_stores_the_pasted_answer_in_1password(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    with opened(core) as c:
        title = end_with_handoff(c, repo).handoff_item  # type: ignore[attr-defined]
        received = c.handoff_receive(repo, ANSWER)
    assert received.item == title and "1Password" in received.vault
    assert {f.title: f.value for f in fake.item(title).fields}["claude_ai_response"] == ANSWER
    with opened(core) as c:
        assert c.start(repo, session_id="s2").imported_item == title


# --- failures: the message says what to do, nothing is lost -------------------------------------


def _network(fake: FakeOnePassword) -> None:
    fake.network_down()


def _rate(fake: FakeOnePassword) -> None:
    fake.rate_limited()


def _revoked(fake: FakeOnePassword) -> None:
    fake.revoke(VALID_TOKEN)


def _read_only(fake: FakeOnePassword) -> None:
    fake.read_only.add(fake.vault_id())


FAILURES = [
    ("network down", _network, "cannot be reached"),
    ("rate limited", _rate, "rate limit"),
    ("token expired or revoked", _revoked, "expired or was revoked"),
    ("vault without write access", _read_only, "may not write to the vault 'ClaudeSync'"),
]


@pytest.mark.parametrize(("case", "arrange", "phrase"), FAILURES, ids=[f[0] for f in FAILURES])
def test_failed_handoff_is_kept_and_created_by_the_next_start(
    repo: Path,
    fake: FakeOnePassword,
    core: Callable[..., Core],
    settings: Settings,
    case: str,
    arrange: Callable[[FakeOnePassword], None],
    phrase: str,
) -> None:
    arrange(fake)
    with opened(core) as c:
        ended = end_with_handoff(c, repo)
    assert ended.handoff_item is None  # type: ignore[attr-defined]
    warning = next(w for w in ended.warnings if "ClaudeSync item" in w)  # type: ignore[attr-defined]
    assert phrase in warning and "Nothing is lost" in warning
    assert "Parser done" in Path(ended.context_file).read_text()  # type: ignore[attr-defined]
    assert ended.transfer_prompt  # type: ignore[attr-defined]  # still there to paste by hand
    assert len(pending_requests(settings)) == 1 and fake.items == {}
    assert_no_token_on_disk(settings)

    with opened(core) as c:  # still failing: the request keeps waiting
        c.start(repo, session_id="s2")
    assert len(pending_requests(settings)) == 1

    fake.heal()
    if case == "rate limited":  # remembered (L4): commands wait until the wait has passed
        pass_rate_limit_wait(settings)
    with opened(core) as c:
        started = c.start(repo, session_id="s3")
    assert any("Created the delayed ClaudeSync item" in w for w in started.warnings)
    assert pending_requests(settings) == []
    [stored] = fake.items.values()
    fields = {f["title"]: f["value"] for f in stored["fields"]}
    assert "Parser done" in fields["context"] and stored["notes"] == ended.transfer_prompt  # type: ignore[attr-defined]
    with opened(core) as c:
        c.start(repo, session_id="s4")
        c.sync(repo)
    assert len(fake.items) == 1


@pytest.mark.parametrize(
    ("case", "use", "phrase"),
    [
        ("malformed token", "eyJ-not-a-token", "malformed"),
        ("no such account token", OTHER_TOKEN, "expired or was revoked"),
    ],
    ids=["malformed token", "rejected token"],
)
def test_bad_token_handoff_waits_for_a_good_token_then_sync_creates_it(
    repo: Path,
    fake: FakeOnePassword,
    core: Callable[..., Core],
    settings: Settings,
    case: str,
    use: str,
    phrase: str,
) -> None:
    bad = settings.replace(op_token=use)
    with opened(core, bad) as c:
        ended = end_with_handoff(c, repo)
    warning = next(w for w in ended.warnings if "ClaudeSync item" in w)  # type: ignore[attr-defined]
    assert phrase in warning and "OP_SERVICE_ACCOUNT_TOKEN" in warning and use not in warning
    assert len(pending_requests(settings)) == 1
    assert_no_token_on_disk(settings, use)
    with opened(core) as c:  # the user fixed the token
        synced = c.sync(repo)
    assert synced.retried_handoffs == 1 and len(fake.items) == 1


def test_missing_vault_handoff_waits_and_the_message_names_the_vault(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    elsewhere = settings.replace(vault_name="Team Sync")
    with opened(core, elsewhere) as c:
        ended = end_with_handoff(c, repo)
    warning = next(w for w in ended.warnings if "ClaudeSync item" in w)  # type: ignore[attr-defined]
    assert "'Team Sync'" in warning and "CLAUDE_SESSION_VAULT" in warning
    fake.add_vault("Team Sync")
    with opened(core, elsewhere) as c:
        c.sync(repo)
    assert [d["vaultId"] for d in fake.items.values()] == [fake.vault_id("Team Sync")]


def test_desktop_app_missing_handoff_waits(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    desktop = settings.replace(op_token=None, op_account="Acme")
    with opened(core, desktop) as c:
        ended = end_with_handoff(c, repo)
        status = c.status(repo)
    warning = next(w for w in ended.warnings if "ClaudeSync item" in w)  # type: ignore[attr-defined]
    assert "desktop app was not found" in warning and len(pending_requests(settings)) == 1
    assert "desktop app, account 'Acme'" in status.vault
    fake.desktop_app = True
    fake.desktop_accounts.add("Acme")
    with opened(core, desktop) as c:
        c.sync(repo)
    assert len(fake.items) == 1 and pending_requests(settings) == []


def test_answer_waiting_while_1password_is_down_is_imported_later(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    with opened(core) as c:
        title = end_with_handoff(c, repo).handoff_item  # type: ignore[attr-defined]
    fake.user_edits(title, claude_ai_response=ANSWER)
    fake.network_down()
    with opened(core) as c:
        status = c.status(repo)
        started = c.start(repo, session_id="s2")
    assert any("ClaudeSync not checked" in w and "cannot be reached" in w for w in status.warnings)
    assert started.status == "ready" and started.imported_item is None
    assert any("ClaudeSync check skipped" in w for w in started.warnings)
    fake.heal()
    with opened(core) as c:
        assert c.start(repo, session_id="s3").imported_item == title


def assert_no_token_on_disk(settings: Settings, token: str = VALID_TOKEN) -> None:
    for path in settings.home.rglob("*"):
        if path.is_file():
            assert token not in path.read_text(errors="replace"), path


# --- the transfer prompt ----------------------------------------------------------------------


def _context(**kw: object) -> str:
    from datetime import datetime, timezone

    base: dict[str, object] = {
        "project": "shop",
        "kind": "handoff",
        "created": datetime(2025, 3, 14, tzinfo=timezone.utc),
        "branch": "feature/x",
        "head": "0123456789abcdef",
    }
    return ctxmod.render(ctxmod.Context(**(base | kw)))  # type: ignore[arg-type]


def test_prompt_says_project_where_it_stands_questions_and_next_steps() -> None:
    from claude_session.core.handoff import transfer_prompt

    text = _context(
        summary="Parser works; CLI half done.",
        accomplishments=["parser"],
        next_steps=["finish the CLI", "write docs"],
        dirty_files=["cli.py"],
        notes="Should errors go to stderr?\nplain note",
        insights="### Open questions\n\n- keep sqlite?",
    )
    prompt = transfer_prompt(
        project="shop",
        branch="feature/x",
        repository="github.com/acme/shop",
        context_markdown=text,
        open_questions=["is 3.10 still needed?"],
    )
    assert "**shop** (github.com/acme/shop)" in prompt
    stands = prompt.split("## Where the work stands")[1].split("## Open questions")[0]
    assert "Parser works; CLI half done." in stands and "`feature/x`" in stands
    assert "`0123456789`" in stands and "1 uncommitted file(s)" in stands
    questions = prompt.split("## Open questions")[1].split("## Next steps")[0]
    assert [line[2:] for line in questions.splitlines() if line.startswith("- ")] == [
        "is 3.10 still needed?",
        "keep sqlite?",
        "Should errors go to stderr?",
    ]
    steps = prompt.split("## Next steps")[1].split("## Session context")[0]
    assert "- finish the CLI\n- write docs" in steps
    assert text.strip() in prompt
    assert prompt.rstrip().endswith("- <what Claude Code should do first when I return, in order>")


def test_an_answer_in_the_requested_shape_is_what_import_parses() -> None:
    from claude_session.core.handoff import RETURN_REQUEST

    template = RETURN_REQUEST[RETURN_REQUEST.index("## Decisions") :]
    answer = template.replace("<", "").replace(">", "")
    shaped = handoff.parse_return_summary(answer)
    assert shaped is not None and tuple(shaped) == handoff.RETURN_SECTIONS
    assert all(len(items) == 1 for items in shaped.values())
    nothing = "\n".join(f"## {name}\n- none" for name in handoff.RETURN_SECTIONS)
    assert handoff.parse_return_summary(nothing) == {n: [] for n in handoff.RETURN_SECTIONS}


def test_prompt_never_carries_a_secret() -> None:
    from claude_session.core.handoff import transfer_prompt

    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    prompt = transfer_prompt(
        project="shop",
        branch="main",
        repository=None,
        context_markdown=f"# raw\n\nused {secret}",
        open_questions=[f"rotate {secret}?"],
    )
    assert secret not in prompt and "REDACTED" in prompt


def test_prompt_lists_are_cut_with_a_count() -> None:
    from claude_session.core.handoff import DIGEST_ITEMS, transfer_prompt

    steps = [f"step {n}" for n in range(DIGEST_ITEMS + 5)]
    prompt = transfer_prompt(
        project="shop", branch=None, repository=None, context_markdown=_context(next_steps=steps)
    )
    digest = prompt.split("## Next steps")[1].split("## Session context")[0]
    assert f"step {DIGEST_ITEMS - 1}" in digest and f"step {DIGEST_ITEMS}\n" not in digest
    assert "and 5 more" in digest and "not a git checkout" in prompt


# --- issue 12: bounded time, errors told apart, pending hand-offs with their own time ---------


def bounded(settings: Settings, fake: FakeOnePassword, deadline: float = 0.3) -> Core:
    return Core(
        settings,
        vault=OnePasswordVault(settings, authenticate=fake.authenticate, deadline=deadline),
    )


def pending_data(settings: Settings) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in pending_requests(settings)]


def test_1password_that_never_answers_is_tried_once_per_command(
    repo: Path, fake: FakeOnePassword, settings: Settings
) -> None:
    fake.stall("*")
    with bounded(settings, fake) as c:
        c.start(repo, session_id="s1")
        assert fake.count("authenticate") == 1 and fake.count() == 1
        paused = c.pause(repo, session_id="s1", summary="half", handoff=True)
        assert fake.count() == 1  # it waits on the sign-in under way: none queued behind (L2)
        assert paused.handoff_item is None and paused.transfer_prompt
        warning = next(w for w in paused.warnings if "ClaudeSync item" in w)
        assert "did not answer" in warning and "Nothing is lost" in warning
        synced = c.sync(repo)
    assert fake.count() == 1  # sync: one wait, no second retry of the pending hand-off
    assert synced.retried_handoffs == 0
    assert sum("still unavailable" in w for w in synced.warnings) == 1
    assert len(pending_requests(settings)) == 1


def test_delayed_handoff_keeps_its_own_date_and_timestamp(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    fake.network_down()
    with opened(core) as c:
        c.start(repo, session_id="s1")
        c.pause(repo, session_id="s1", summary="monday's work", handoff=True)
    [path] = pending_requests(settings)
    request = json.loads(path.read_text())
    request["now"], request["title"] = "2025-03-10T17:00:00Z", "session-shop-2025-03-10"
    path.write_text(json.dumps(request))  # as if the outage lasted since Monday
    fake.heal()
    with opened(core) as c:
        synced = c.sync(repo)
    assert synced.retried_handoffs == 1
    [stored] = fake.items.values()
    fields = {f["title"]: f["value"] for f in stored["fields"]}
    assert stored["title"] == "session-shop-2025-03-10"
    assert fields["timestamp"].startswith("2025-03-10T17:00:00")
    assert fields["creation_id"] == request["id"]


def test_create_that_timed_out_is_found_not_made_twice(
    repo: Path, fake: FakeOnePassword, settings: Settings
) -> None:
    fake.answer_lost("items.create")
    with bounded(settings, fake) as c:
        c.start(repo, session_id="s1")
        paused = c.pause(repo, session_id="s1", summary="half", handoff=True)
    assert paused.handoff_item is None and len(fake.items) == 1
    assert len(pending_requests(settings)) == 1
    with bounded(settings, fake, deadline=5.0) as c:
        synced = c.sync(repo)
    assert synced.retried_handoffs == 1 and pending_requests(settings) == []
    assert len(fake.items) == 1 and fake.count("items.create") == 1


def test_refused_handoff_is_marked_failed_shown_in_status_and_blocks_nothing(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    fake.network_down()
    with opened(core) as c:
        c.start(repo, session_id="s1")
        c.pause(repo, session_id="s1", summary="first", handoff=True)
        c.pause(repo, session_id="s1", summary="second", handoff=True)
    assert len(pending_requests(settings)) == 2
    fake.heal()
    fake.fail("items.create", Exception(TOO_BIG), times=1)  # the oldest one is refused
    with opened(core) as c:
        synced = c.sync(repo)
        status = c.status(repo)
    assert synced.retried_handoffs == 1 and len(fake.items) == 1
    assert any("was refused" in w and "not retried" in w for w in synced.warnings)
    [failed] = [p for p in status.pending_handoffs]
    assert failed.state == "failed" and "item is too big" in str(failed.reason)
    text = textout.render_text("status", status.model_dump(mode="json"))
    assert "refused, not retried" in text and "item is too big" in text
    with opened(core) as c:  # never retried
        c.sync(repo)
    assert fake.count("items.create") == 2 and len(fake.items) == 1


def test_refused_at_pause_is_failed_at_once(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    fake.item_limit = 500  # the context is bigger than what the server takes
    with opened(core) as c:
        c.start(repo, session_id="s1")
        paused = c.pause(repo, session_id="s1", summary="x" * 600, handoff=True)
    assert paused.handoff_item is None
    assert any("was refused" in w for w in paused.warnings)
    [data] = pending_data(settings)
    assert data["state"] == "failed" and "too big" in str(data["reason"])


def test_waiting_handoff_is_listed_in_status(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    fake.network_down()
    with opened(core) as c:
        c.start(repo, session_id="s1")
        c.pause(repo, session_id="s1", summary="half", handoff=True)
        status = c.status(repo)
    [waiting] = status.pending_handoffs
    assert waiting.state == "pending" and waiting.title.startswith("session-shop-")
    text = textout.render_text("status", status.model_dump(mode="json"))
    assert "waiting for the vault" in text


def test_item_metadata_is_redacted_like_the_context(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "-b", f"feat/{secret}"], check=True)
    with opened(core) as c:
        c.start(repo, session_id="s1")
        paused = c.pause(repo, session_id="s1", summary="half", handoff=True)
    raw = fake.item(str(paused.handoff_item))
    fields = {f.title: f.value for f in raw.fields}
    assert secret not in json.dumps(fake.items) and "[REDACTED" in fields["branch"]


def test_answer_pasted_in_the_app_on_one_line_is_imported_with_its_sections(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    with opened(core) as c:
        title = end_with_handoff(c, repo).handoff_item  # type: ignore[attr-defined]
    fake.user_edits(title, claude_ai_response=ANSWER)  # the app flattens it
    assert "\n" not in {f.title: f.value for f in fake.item(title).fields}["claude_ai_response"]
    with opened(core) as c:
        started = c.start(repo, session_id="s2")
    insights = ctxmod.parse(started.context).insights
    for heading in ("### Decisions", "### Changes to make", "### Next steps"):
        assert heading in insights
    assert "- Write the migration" in insights and "- Run the benchmark" in insights


def test_calls_per_command_stay_few(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core]
) -> None:
    with opened(core) as c:
        for n in range(5):
            c.start(repo, session_id=f"s{n}")
            c.pause(repo, session_id=f"s{n}", summary=f"work {n}", handoff=True)
    fake.calls.clear()
    with opened(core) as c:
        c.start(repo, session_id="s9")
    reads = fake.count(*READS)
    assert reads <= 4, fake.calls  # vault found once per process; listing and items once
    fake.calls.clear()
    with opened(core) as c:
        c.status(repo)
    assert fake.count(*READS) <= 2, fake.calls


def test_a_crowded_vault_costs_each_command_the_same_few_calls(
    repo: Path, fake: FakeOnePassword, core: Callable[..., Core], settings: Settings
) -> None:
    """50 other projects' items (a few named like this one, in other repositories), each with an
    answer waiting: start, pause --handoff, import and sync each sign in, find the vault, list
    it once and read only this project's items."""
    others = set()
    crowd = OnePasswordVault(settings, authenticate=fake.authenticate)
    for n in range(50):
        other = crowd.create_item(
            PendingHandoff(
                project="shop" if n % 10 == 0 else f"app{n}",
                branch="main",
                session_id=f"o{n}",
                machine="elsewhere",
                repository=f"github.com/else/app{n}",
                context="# theirs",
            )
        )
        crowd.set_response(other.id, "## Decisions\n- theirs")
        others.add(other.id)
    costs: dict[str, list[str]] = {}

    def command(name: str, run: Callable[[Core], object]) -> None:
        op_sdk.forget(settings, fake.authenticate)  # a new process: signs in again
        fake.calls.clear()
        fake.read_ids.clear()
        with opened(core) as c:
            run(c)
        assert not others & set(fake.read_ids), f"{name} read other projects' items"
        assert set(fake.read_ids) <= mine(), name
        costs[name] = list(fake.calls)

    def mine() -> set[str]:
        return {i for i, d in fake.items.items() if i not in others}

    command("start", lambda c: c.start(repo, session_id="s1"))
    command(
        "pause --handoff", lambda c: c.pause(repo, session_id="s1", summary="half", handoff=True)
    )
    [title] = [d["title"] for i, d in fake.items.items() if i not in others]
    fake.user_edits(title, claude_ai_response=ANSWER)
    command("import", lambda c: c.import_handoff(repo, session_id="s1"))
    command("sync", lambda c: c.sync(repo))
    command("start again", lambda c: c.start(repo, session_id="s2"))
    for name, calls in costs.items():
        assert len(calls) <= 5, (name, calls)  # sign-in, vault, listing, then 1-2 calls
        assert calls.count("items.list") <= 2 and calls.count("items.get_all") <= 1, (name, calls)
        assert calls.count("items.get") == 0, (name, calls)
    assert fake.item(title).tags[-1] == identity_tag(resolve(repo).identity)
