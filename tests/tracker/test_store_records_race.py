"""Record ids are one space for every user, also when users race for one (``store/records.py``,
redteam N43): exactly one post wins a new session id or maintenance-run id, with everything it
carries; every other gets 409 and nothing of it is stored; a 2xx always means stored for that
user. Real ``tracker serve --workers 2`` processes on SQLite and on PostgreSQL; the posts of a
race leave their threads at one barrier, over connections opened before it.
``bench/bench_tracker_race.py`` runs hundreds of these races and prints the counts.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from claude_session.models import MaintenanceRun
from claude_session.tracker.service.app import create_api_key
from claude_session.tracker.store.database import create_engine
from claude_session.tracker.store.schema import maintenance_runs
from helpers.records import START, body, record
from helpers.tracker_process import served_by_cli
from helpers.tracker_service import bearer, postgres_database

RACES = 24
USERS = ("alice", "bob", "carol")


@dataclass
class Racers:
    base: str
    url: str
    keys: dict[str, str]

    def clients(self, users: tuple[str, ...]) -> list[httpx.Client]:
        """One warm connection per user (opened before the race, so the posts leave at once)."""
        made = []
        for user in users:
            client = httpx.Client(base_url=self.base, headers=bearer(self.keys[user]), timeout=60)
            assert client.get("/api/health").status_code == 200
            made.append(client)
        return made

    def runs_of(self, session_id: str) -> int:
        """Maintenance runs stored for the session, counted in the database."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                query = sa.select(sa.func.count()).where(
                    maintenance_runs.c.session_id == session_id
                )
                return int(conn.execute(query).scalar_one())
        finally:
            engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def racers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Racers]:
    """``tracker serve --workers 2`` on a fresh database, with a key for each user."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('race') / 'tracker.db'}"
        yield from _served(url)
    else:
        with postgres_database() as url:
            yield from _served(url)


def _served(url: str) -> Iterator[Racers]:
    keys = {user: create_api_key(url, user) for user in USERS}
    with served_by_cli("--workers", "2", "--database", url) as base:
        yield Racers(base, url, keys)


def _racing(clients: list[httpx.Client], bodies: list[dict[str, Any]]) -> list[int]:
    """POST ``bodies[n]`` with ``clients[n]``, all released at one moment; their statuses."""
    gate = threading.Barrier(len(clients))
    statuses = [0] * len(clients)

    def post(n: int) -> None:
        gate.wait()
        statuses[n] = clients[n].post("/api/sessions", json=bodies[n]).status_code

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _own(user: str, session_id: str, run_id: str | None = None) -> dict[str, Any]:
    """A record of ``user`` with one maintenance run, every field saying whose it is."""
    run = MaintenanceRun(
        id=run_id or str(uuid.uuid4()),
        command=f"{user}-cmd",
        status="ok",
        notes=f"{user}'s run",
        run_at=START,
    )
    return body(
        record(
            id=session_id,
            application_name=f"{user}-app",
            repository_url=f"github.com/{user}/app",
            summary=f"{user}'s summary",
            maintenance_runs=[run],
        )
    )


@pytest.mark.parametrize("users", [USERS[:2], USERS])
def test_N43_users_racing_for_a_new_session_id_never_mix_their_data(
    racers: Racers, users: tuple[str, ...]
) -> None:
    """redteam N43: two (or three) users post the same new session id at one moment. Exactly
    one gets 2xx and the session holds its record and only its run; every other gets 409,
    reads 404 for the id, and nothing of its post is stored."""
    clients = racers.clients(users)
    try:
        for _ in range(RACES):
            session_id = str(uuid.uuid4())
            statuses = _racing(clients, [_own(user, session_id) for user in users])
            won = [n for n, status in enumerate(statuses) if status in (200, 201)]
            assert len(won) == 1, statuses
            assert sorted(statuses) == [201] + [409] * (len(users) - 1), statuses
            winner = users[won[0]]
            stored = clients[won[0]].get(f"/api/sessions/{session_id}").json()
            assert stored["summary"] == f"{winner}'s summary"
            assert stored["application_name"] == f"{winner}-app"
            assert [run["command"] for run in stored["maintenance_runs"]] == [f"{winner}-cmd"]
            assert racers.runs_of(session_id) == 1
            for n, client in enumerate(clients):
                if n != won[0]:
                    assert client.get(f"/api/sessions/{session_id}").status_code == 404
    finally:
        for client in clients:
            client.close()


def test_N43_users_racing_for_one_maintenance_run_id_one_wins_the_rest_get_409(
    racers: Racers,
) -> None:
    """redteam N43, maintenance runs: two users post their own new sessions at one moment,
    each with a run of the same new id. One post is stored whole; the other gets 409 and its
    session is not stored either (a 2xx would mean its run was stored)."""
    users = USERS[:2]
    clients = racers.clients(users)
    try:
        for _ in range(RACES):
            run_id = str(uuid.uuid4())
            sessions = [str(uuid.uuid4()) for _ in users]
            statuses = _racing(
                clients, [_own(u, s, run_id) for u, s in zip(users, sessions, strict=True)]
            )
            assert sorted(statuses) == [201, 409], statuses
            won = statuses.index(201)
            lost = 1 - won
            stored = clients[won].get(f"/api/sessions/{sessions[won]}").json()
            assert [run["id"] for run in stored["maintenance_runs"]] == [run_id]
            assert clients[lost].get(f"/api/sessions/{sessions[lost]}").status_code == 404
            assert racers.runs_of(sessions[won]) == 1 and racers.runs_of(sessions[lost]) == 0
    finally:
        for client in clients:
            client.close()


def test_N43_one_user_sending_one_record_twice_at_once_stores_it_once(racers: Racers) -> None:
    """The same user's outbox drained by two processes at once (redteam N50's case): both get
    2xx, one of them 201, and the session holds one copy of its runs, never two."""
    clients = racers.clients(("alice", "alice"))
    try:
        for _ in range(RACES // 2):
            session_id = str(uuid.uuid4())
            same = _own("alice", session_id)
            statuses = _racing(clients, [same, same])
            assert sorted(statuses) in ([200, 201], [201, 201]), statuses
            stored = clients[0].get(f"/api/sessions/{session_id}").json()
            assert [run["command"] for run in stored["maintenance_runs"]] == ["alice-cmd"]
            assert racers.runs_of(session_id) == 1
    finally:
        for client in clients:
            client.close()


def test_N43_a_stored_id_stays_its_owners_when_others_race_to_update_it(racers: Racers) -> None:
    """An id already stored: the owner's update and another user's post race. The owner's
    update is taken (2xx), the other gets 409, and the record is the owner's new one."""
    users = USERS[:2]
    clients = racers.clients(users)
    try:
        for n in range(RACES // 2):
            session_id = str(uuid.uuid4())
            assert clients[0].post("/api/sessions", json=_own("alice", session_id)).is_success
            update = _own("alice", session_id)
            update["summary"] = f"alice's update {n}"
            statuses = _racing(clients, [update, _own("bob", session_id)])
            assert statuses == [200, 409], statuses
            stored = clients[0].get(f"/api/sessions/{session_id}").json()
            assert stored["summary"] == f"alice's update {n}"
            assert [run["command"] for run in stored["maintenance_runs"]] == ["alice-cmd"]
            assert racers.runs_of(session_id) == 1
    finally:
        for client in clients:
            client.close()
