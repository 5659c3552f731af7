"""Users racing for one record id on a tracker (redteam N43): what the race tests and
``bench/bench_tracker_race.py`` share.

own(user, session_id)    a record body whose every field says whose it is, with one
                         maintenance run (of ``run_id`` when given)
racing(clients, bodies)  POST ``bodies[n]`` with ``clients[n]``, all released at one barrier;
                         their statuses (-1: no answer)
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx

from helpers.records import START, body, record


def own(user: str, session_id: str, run_id: str | None = None) -> dict[str, Any]:
    from claude_session.models import MaintenanceRun

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


def racing(clients: list[httpx.Client], bodies: list[dict[str, Any]]) -> list[int]:
    gate = threading.Barrier(len(clients))
    statuses = [0] * len(clients)

    def post(n: int) -> None:
        gate.wait()
        try:
            statuses[n] = clients[n].post("/api/sessions", json=bodies[n]).status_code
        except httpx.HTTPError:
            statuses[n] = -1

    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses
