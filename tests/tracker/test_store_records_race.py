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
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from claude_session.models import SessionRecord
from claude_session.paths import Paths
from claude_session.tracker.client import HttpTracker
from claude_session.tracker.delivery import Delivery
from claude_session.tracker.outbox import Outbox
from claude_session.tracker.service.app import create_api_key
from claude_session.tracker.store.database import create_engine
from claude_session.tracker.store.schema import maintenance_runs
from helpers.record_races import own, racing
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
            statuses = racing(clients, [own(user, session_id) for user in users])
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
            statuses = racing(
                clients, [own(u, s, run_id) for u, s in zip(users, sessions, strict=True)]
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
            same = own("alice", session_id)
            statuses = racing(clients, [same, same])
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
            assert clients[0].post("/api/sessions", json=own("alice", session_id)).is_success
            update = own("alice", session_id)
            update["summary"] = f"alice's update {n}"
            statuses = racing(clients, [update, own("bob", session_id)])
            assert statuses == [200, 409], statuses
            stored = clients[0].get(f"/api/sessions/{session_id}").json()
            assert stored["summary"] == f"alice's update {n}"
            assert [run["command"] for run in stored["maintenance_runs"]] == ["alice-cmd"]
            assert racers.runs_of(session_id) == 1
    finally:
        for client in clients:
            client.close()


def test_N43_the_losing_client_keeps_its_record_as_a_visible_dead_letter(
    racers: Racers, tmp_path: Path
) -> None:
    """The clients' side of a race: two users' outboxes deliver records of one new id at once.
    One is ``sent``; the other ``rejected`` with the tracker's 409 naming ``id``, kept in its
    outbox as a dead letter that ``status`` lists, never dropped as if stored."""
    users = USERS[:2]
    homes = {user: Paths(tmp_path / user) for user in users}
    for _ in range(RACES // 4):
        session_id = str(uuid.uuid4())
        outcomes = _delivering(racers, homes, session_id)
        assert sorted(outcomes.values()) == ["rejected", "sent"], outcomes
        loser = next(user for user, outcome in outcomes.items() if outcome == "rejected")
        letters = [d for d in Outbox(homes[loser].outbox_db).dead_letters() if d.id == session_id]
        assert [(d.state, d.field) for d in letters] == [("rejected", "id")]
        assert "HTTP 409" in (letters[0].error or "")


def _delivering(racers: Racers, homes: dict[str, Paths], session_id: str) -> dict[str, str]:
    """Each user's outbox delivers its own record of ``session_id``, all at one moment."""
    gate = threading.Barrier(len(homes))
    outcomes: dict[str, str] = {}

    def deliver(user: str) -> None:
        rec = SessionRecord.model_validate(own(user, session_id))
        tracker = HttpTracker(racers.base, racers.keys[user])
        try:
            gate.wait()
            outcomes[user] = Delivery(homes[user], tracker).deliver(rec).outcome
        finally:
            tracker.close()

    threads = [threading.Thread(target=deliver, args=(user,)) for user in homes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes
