"""Users racing for one record id on the tracker (redteam N43), counted over hundreds of races.

``tracker serve --workers N`` runs on SQLite and, when one answers on 127.0.0.1:5432 (database
``test``), on a throwaway PostgreSQL database. Each race releases two or more users' POSTs at
one barrier, over warm connections: the same new session id (each record with its own
maintenance run), or new sessions sharing one new maintenance-run id. Printed per database and
kind: races, races with exactly one 2xx and the rest 409 (the goal: all of them), races with
more than one 2xx (the N43 failure: 39 of 60 on PostgreSQL before the fix), stored sessions
holding a run of another user, 2xx answers whose post was not stored, and answers that were
neither 2xx nor 409.

    python3 bench/bench_tracker_race.py [--races N] [--users N] [--server-workers N] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import httpx  # noqa: E402
from bench_tracker import postgres, service  # noqa: E402
from figures import figure  # noqa: E402

from claude_session.tracker.service.app import create_api_key  # noqa: E402
from helpers.record_races import own, racing  # noqa: E402


def judge(statuses: list[int], clients: list[httpx.Client], session_ids: list[str]) -> Counter[str]:
    """What one race came to; ``session_ids[n]``: the session user n posted."""
    seen: Counter[str] = Counter(races=1)
    won = [n for n, status in enumerate(statuses) if status in (200, 201)]
    if len(won) == 1 and all(s == 409 for n, s in enumerate(statuses) if n != won[0]):
        seen["one winner"] += 1
    if len(won) > 1:
        seen["more than one 2xx"] += 1
    seen["neither 2xx nor 409"] += sum(1 for s in statuses if s not in (200, 201, 409))
    for n in won:
        answer = clients[n].get(f"/api/sessions/{session_ids[n]}")
        if answer.status_code == 404:
            seen["2xx not stored"] += 1
            continue
        stored = answer.json()
        users = {run["command"].removesuffix("-cmd") for run in stored["maintenance_runs"]}
        if users != {stored["application_name"].removesuffix("-app")}:
            seen["foreign run stored"] += 1
    return seen


def run(label: str, url: str, args: argparse.Namespace) -> None:
    users = [f"user{n}" for n in range(args.users)]
    keys = {user: create_api_key(url, user) for user in users}
    with service(url, args.server_workers) as base:
        clients = [
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys[u]}"}, timeout=60)
            for u in users
        ]
        try:
            for kind in ("session id", "run id"):
                seen: Counter[str] = Counter()
                for _ in range(args.races):
                    if kind == "session id":
                        sid = str(uuid.uuid4())
                        ids = [sid] * len(users)
                        bodies = [own(user, sid) for user in users]
                    else:
                        run_id = str(uuid.uuid4())
                        ids = [str(uuid.uuid4()) for _ in users]
                        bodies = [own(u, s, run_id) for u, s in zip(users, ids, strict=True)]
                    seen += judge(racing(clients, bodies), clients, ids)
                print(
                    f"{label:10} {kind:10} {args.users} users, {args.server_workers} workers: "
                    f"{seen['races']} races, {seen['one winner']} with one winner and the rest "
                    f"409, {seen['more than one 2xx']} with more than one 2xx, "
                    f"{seen['foreign run stored']} holding another user's run, "
                    f"{seen['2xx not stored']} answered 2xx to a post not stored, "
                    f"{seen['neither 2xx nor 409']} answers neither 2xx nor 409"
                )
                figure(
                    f"tracker races for one new {kind} ({label}): more than one 2xx",
                    seen["more than one 2xx"] + seen["foreign run stored"] + seen["2xx not stored"],
                    "races",
                    goal=0,
                    issue=25,
                )
        finally:
            for client in clients:
                client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--races", type=int, default=300)
    parser.add_argument("--users", type=int, default=2)
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="20 races per kind (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.races = 20
    with tempfile.TemporaryDirectory(prefix="cs-bench-race-") as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'tracker.db'}", args)
    with postgres() as url:
        if url is None:
            print("PostgreSQL: none on 127.0.0.1:5432, skipped")
        else:
            run("PostgreSQL", url, args)


if __name__ == "__main__":
    main()
