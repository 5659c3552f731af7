"""The tracker's database as one object, ``Store``: what both the tracker service and the
plugin's local tracker use, for SQLite and PostgreSQL alike.

    store.auth       users, API keys, browser sessions, failed log-ins (``auth.py``)
    store.records    writing session records and their runs (``records.py``)
    store.history    reading them: pages, one session, chains, applications, totals
                     (``history.py``)

The tables are in ``schema.py``, engines, column types and migrations in ``database.py``, what a
column can hold in ``limits.py``.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from claude_session.tracker.store.auth import Auth
from claude_session.tracker.store.history import History
from claude_session.tracker.store.records import Records


class Store:
    """Users, keys and session records in one database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, secret: str | None = None) -> None:
        self.engine = engine
        self.auth = Auth(engine, secret)
        self.records = Records(engine)
        self.history = History(engine)
