"""One logical session in the tracker (``store/history.py``): a record names the record it
continues, and the store walks the chain both ways for its owner only; SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from claude_session.errors import InvalidRecord
from claude_session.tracker.store.database import create_engine, migrate
from claude_session.tracker.store.storage import Store
from helpers.records import CHAIN, chain_records, record


def test_the_store_walks_a_chain_both_ways_for_its_owner(database: str) -> None:  # noqa: F811
    engine = create_engine(database)
    migrate(engine)
    store = Store(engine)
    alice, bob = store.auth.user("alice"), store.auth.user("bob")
    for item in chain_records():
        store.records.save(alice, item)
    for middle in CHAIN[:3]:
        assert [s.id for s in store.history.session_chain(alice, middle)] == CHAIN[:3]
    assert [s.id for s in store.history.session_chain(alice, CHAIN[3])] == [CHAIN[3]]
    assert store.history.session_chain(bob, CHAIN[1]) == []
    assert store.history.session_chain(alice, "not-a-uuid") == []
    assert store.history.get_session(alice, CHAIN[2]).continues == CHAIN[1]  # type: ignore[union-attr]
    with pytest.raises(InvalidRecord):
        store.records.save(alice, record(continues="not-a-uuid"))
    engine.dispose()


def test_a_loop_of_edited_rows_ends_the_walk(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    migrate(engine)
    store = Store(engine)
    alice = store.auth.user("alice")
    store.records.save(alice, record(id=CHAIN[0], continues=CHAIN[1]))
    store.records.save(alice, record(id=CHAIN[1], continues=CHAIN[0]))
    assert sorted(s.id for s in store.history.session_chain(alice, CHAIN[0])) == CHAIN[:2]
