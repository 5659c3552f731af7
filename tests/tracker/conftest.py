"""Fixtures of the tracker's tests: a served database (``tracker``, fresh for each test, or
``shared`` by a module's tests), the fault-injecting service (``service``), the state paths."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_session.paths import Paths
from claude_session.tracker.outbox import close_connections
from claude_session.tracker.service.app import create_app
from helpers.tracker_service import (
    Service,
    Tracker,
    postgres_database,
    serve,
    tracker_service,
)


@pytest.fixture(autouse=True)
def _close_outboxes() -> Iterator[None]:
    """Each test's outbox connections closed after it (the process keeps them open)."""
    yield
    close_connections()


@pytest.fixture
def paths(isolated_home: Path) -> Paths:
    return Paths(isolated_home)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """The real service on a SQLite file, with ``Faults`` in front of it."""
    with tracker_service(tmp_path) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture
def tracker(database: str) -> Iterator[Tracker]:
    """The service on a fresh database, with alice's and bob's clients."""
    with serve(create_app(database)) as base:
        running = Tracker(database, base)
        try:
            yield running
        finally:
            running.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tracker]:
    """One served database for all the tests of a module (tests that add their own rows and
    never count all of them)."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('tracker') / 'tracker.db'}"
        else:
            url = stack.enter_context(postgres_database())
        running = Tracker(url, stack.enter_context(serve(create_app(url))))
        stack.callback(running.close)
        yield running
