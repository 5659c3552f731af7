"""Finding records (``store/search.py`` through ``History.list_sessions``): the full-text
search (SQLite FTS5, PostgreSQL tsvector, both made by migration 0002) over summary, next steps,
accomplishments, branches and files, kept in step on update and delete, and the filters by
branch, machine, end mode and dates; input that looks like query syntax is only words."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from claude_session.models import SessionRecord
from claude_session.tracker.store import listing
from claude_session.tracker.store.database import create_engine, migrate
from claude_session.tracker.store.schema import claude_sessions
from claude_session.tracker.store.search import Filters
from claude_session.tracker.store.storage import Store
from helpers.records import START, record


def test_text_search_and_filters_find_the_records_on_both_databases(database: str) -> None:
    engine = create_engine(database)
    migrate(engine)
    store = Store(engine)
    alice, bob = store.auth.user("alice"), store.auth.user("bob")
    parser = record(
        summary="Chunked bodies parsed in the HTTP parser",
        next_steps=["Fuzz the tokenizer"],
        ending_branch="feature/chunked",
        machine="laptop",
        end_mode="paused",
    )
    docs = record(
        summary="README rewritten",
        accomplishments=["Quick start section"],
        files_changed=["docs/install.md"],
        starting_branch="docs",
        ending_branch="docs",
        machine="desktop",
        started_at=START + timedelta(days=3),
        ended_at=START + timedelta(days=3, hours=1),
    )
    for item in (parser, docs):
        store.records.save(alice, item)
    store.records.save(bob, record(summary="Bob's chunked work"))

    def found(**given: object) -> list[str]:
        page = store.history.list_sessions(alice, filters=Filters(**given))  # type: ignore[arg-type]
        return sorted(s.id for s in page.sessions)

    assert found(text="chunked") == [parser.id]  # summary and branch; never bob's
    assert found(text="tokeniz") == [parser.id]  # a next step, by prefix
    assert found(text="quick START") == [docs.id]  # an accomplishment, any case
    assert found(text="install") == [docs.id]  # a changed file
    assert found(text="parser README") == []  # every word must match
    assert found(text='" OR * NEAR(') == []  # query syntax is not run
    assert found(text='chunked") OR ("docs') == []
    assert found(branch="docs") == [docs.id] and found(branch="feature/chunked") == [parser.id]
    assert found(machine="laptop") == [parser.id] and found(end_mode="paused") == [parser.id]
    assert found(since=START + timedelta(days=1)) == [docs.id]
    assert found(until=START + timedelta(days=1)) == [parser.id]
    assert found(text="readme", machine="laptop") == []
    page = store.history.list_sessions(alice, filters=Filters(text="chunked"))
    assert page.total == 1 and page.sessions[0].summary.startswith("Chunked")

    # kept in step: a resent record is found by its new text only; a deleted one is gone
    store.records.save(alice, parser.model_copy(update={"summary": "Gzip support"}))
    assert found(text="gzip") == [parser.id] and found(text="bodies") == []
    with engine.begin() as conn:
        conn.execute(sa.delete(claude_sessions).where(claude_sessions.c.id == docs.id))
    assert found(text="readme") == []
    engine.dispose()


# --- the ways a page is read (store/listing.py) -------------------------------------------------

WORDS = ["gzip", "parser", "invoice", "layout", "cache"]


def _tokens(r: SessionRecord) -> set[str]:
    text = " ".join(
        [
            r.summary or "",
            *r.accomplishments,
            *r.next_steps,
            r.starting_branch or "",
            r.ending_branch or "",
            *r.files_changed,
        ]
    )
    return set(re.findall(r"\w+", text.lower()))


def _wanted(r: SessionRecord, f: Filters) -> bool:
    if f.text is not None:
        terms = re.findall(r"\w+", f.text.lower())
        tokens = _tokens(r)
        if not all(t in tokens for t in terms[:-1]):
            return False
        if not any(token.startswith(terms[-1]) for token in tokens):
            return False
    if f.branch and f.branch not in (r.starting_branch, r.ending_branch):
        return False
    if f.machine and r.machine != f.machine or f.end_mode and r.end_mode != f.end_mode:
        return False
    if f.since is not None and r.started_at < f.since:
        return False
    return f.until is None or r.started_at < f.until


def test_every_way_of_reading_a_page_finds_what_a_plain_filter_finds(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a count limit of 5 and a window of 8 rows, each search is read the bounded way (at
    most 5 matches: their ids first), the newest-first way, and on SQLite the window's way and
    (a branch or dates holding at most NARROW rows) the narrowed way;
    walking its pages both ways gives exactly the matching records, newest first, and the
    total says "5, and more" past the limit. The records are saved out of time order (a
    rowid is not a time), some at one same time."""
    monkeypatch.setattr(listing, "COUNT_LIMIT", 5)
    monkeypatch.setattr(listing, "WINDOW", 8)
    engine = create_engine(database)
    migrate(engine)
    store = Store(engine)
    alice, bob = store.auth.user("alice"), store.auth.user("bob")
    rng = random.Random(27)
    made = []
    for n in rng.sample(range(60), 60):
        at = START + timedelta(hours=n // 2 * 2)  # two records share each time
        made.append(
            record(
                summary=" ".join(rng.choice(WORDS) for _ in range(3))
                + (" zyxxyz" if n == 7 else ""),
                next_steps=[rng.choice(WORDS)],
                starting_branch="hotfix" if n in (3, 40) else "main",
                ending_branch=rng.choice(["main", "feature/login", "docs", f"fix/{n}"]),
                machine=rng.choice(["laptop", "ci"]),
                end_mode=rng.choice(["standard", "paused"]),
                started_at=at,
                ended_at=at + timedelta(minutes=30),
            )
        )
    for item in made:
        store.records.save(alice, item)
    store.records.save(bob, record(summary="gzip zyxxyz by bob", ending_branch="fix/7"))
    with engine.connect() as conn:
        c = claude_sessions.c
        order = [
            str(i)
            for i in conn.execute(
                sa.select(c.id)
                .where(c.user_id == alice.id)
                .order_by(c.started_at.desc(), c.created_at.desc(), c.id.desc())
            ).scalars()
        ]
    by_id = {r.id: r for r in made}
    searches = [
        Filters(),
        Filters(text="gzip"),
        Filters(text="gzip pars"),
        Filters(text="zyxxyz"),
        Filters(text="nowhere"),
        Filters(branch="feature/login"),
        Filters(branch="fix/7"),
        Filters(branch="hotfix"),  # a starting branch only
        Filters(branch="main"),
        Filters(machine="ci", end_mode="paused"),
        Filters(since=START + timedelta(hours=20), until=START + timedelta(hours=40)),
        Filters(text="cache", branch="docs", since=START + timedelta(hours=10)),
        Filters(text="invoice", until=START + timedelta(hours=30)),
        Filters(text="gzip", branch="main"),
        Filters(text="gzip", branch="hotfix"),
        Filters(text="layout", since=START + timedelta(hours=50)),
        Filters(text="gzip", since=START + timedelta(hours=54)),  # fewer rows than the window
    ]
    for narrow in (2, 1000):  # a branch or dates narrow the text search first, or not
        monkeypatch.setattr(listing, "NARROW", narrow)
        for f in searches:
            wanted = [i for i in order if _wanted(by_id[i], f)]
            page = store.history.list_sessions(alice, filters=f, limit=4)
            assert (page.total, page.capped) == (min(len(wanted), 5), len(wanted) > 5), (f, narrow)
            seen = [s.id for s in page.sessions]
            while page.older:
                page = store.history.list_sessions(alice, filters=f, limit=4, after=page.last)
                seen += [s.id for s in page.sessions]
            assert seen == wanted, f
            back: list[str] = [s.id for s in page.sessions]
            while page.newer:
                page = store.history.list_sessions(alice, filters=f, limit=4, before=page.first)
                back = [s.id for s in page.sessions] + back
            assert back == wanted, f
