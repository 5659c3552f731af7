"""Finding records (``store/search.py`` through ``History.list_sessions``): the full-text
search (SQLite FTS5, PostgreSQL tsvector, both made by migration 0002) over summary, next steps,
accomplishments, branches and files, kept in step on update and delete, and the filters by
branch, machine, end mode and dates; input that looks like query syntax is only words."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

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
