"""Nothing blocks the outbox, whatever a name's size or script (redteam N44, C1): the texts a
tracker index holds (an application's repository URL and name) are bounded in bytes of UTF-8
(``limits.KEY_TEXT_BYTES``) on both databases; a longer one is a 422 naming the field, never a
503 with Retry-After; the client cuts by bytes, not characters (``sanitize``); and a record the
tracker refuses for good is a dead letter at once while every later record is delivered.
The tracker is the real service on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import random
import string
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from claude_session.base.clock import now
from claude_session.config import Settings
from claude_session.core.facade import Core
from claude_session.errors import InvalidRecord
from claude_session.paths import Paths
from claude_session.tracker.client import HttpTracker
from claude_session.tracker.delivery import Delivery
from claude_session.tracker.outbox import Outbox
from claude_session.tracker.sanitize import sanitize_record
from claude_session.tracker.store.database import create_engine, migrate, translated
from claude_session.tracker.store.limits import KEY_TEXT_BYTES, check_keys
from claude_session.tracker.store.schema import applications, users
from helpers.gitrepo import make_repo
from helpers.records import body, record
from helpers.tracker_service import Tracker, post, postgres_database, serve

CJK = "例" * 1_000  # 3,000 bytes
EMOJI = "🦊" * 1_000  # 4,000 bytes
NOISE = "".join(random.Random(44).choices(string.ascii_letters + string.digits, k=3_000))


def _url(path: str) -> str:
    return f"https://example.com/{path}"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("repository_url", _url(CJK)),
        ("repository_url", _url(EMOJI)),
        ("repository_url", _url(NOISE)),
        ("repository_url", _url("a" * KEY_TEXT_BYTES)),
        ("application_name", "n" * 4_000),
        ("application_name", "名" * 700),  # 700 characters, 2,100 bytes
    ],
)
def test_N44_an_index_key_past_its_bytes_is_a_422_naming_the_field(
    tracker: Tracker, field: str, value: str
) -> None:
    """redteam N44: PostgreSQL answered 503 "database unavailable" with Retry-After (its index
    row limit, 2,704 bytes), so the client waited on the record for ever. Now both databases
    answer 422 naming the field, with no Retry-After, and store nothing."""
    data = body(record(repository_url=None) if field == "application_name" else record())
    data[field] = value
    answer = post(tracker.alice, data)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field and "bytes" in answer.json()["error"]
    assert "retry-after" not in answer.headers
    assert tracker.alice.get(f"/api/sessions/{data['id']}").status_code == 404
    assert tracker.count("applications") == 0


@pytest.mark.parametrize("unit", ["a", "é", "例", "🦊"])
def test_N44_an_index_key_of_exactly_the_bytes_is_stored_and_read_back(
    tracker: Tracker, unit: str
) -> None:
    """The bound is bytes: as many characters of any width as fit in ``KEY_TEXT_BYTES``."""
    name = unit * (KEY_TEXT_BYTES // len(unit.encode()))
    rec = record(repository_url=None, application_name=name)
    assert post(tracker.alice, body(rec)).status_code == 201
    assert tracker.alice.get(f"/api/sessions/{rec.id}").json()["application_name"] == name
    rec = record(repository_url=name)
    assert post(tracker.alice, body(rec)).status_code == 201


def test_N44_a_program_limit_of_postgresql_is_the_records_fault_not_the_database_down() -> None:
    """Behind the check, the database's own refusal: an index row PostgreSQL cannot hold
    (SQLSTATE 54000) is InvalidRecord naming the field, which the API answers with 422 — not
    StorageUnavailable (503, Retry-After) as an OperationalError was before."""
    with postgres_database() as url:
        engine = create_engine(url)
        try:
            migrate(engine)
            user = str(uuid.uuid4())
            with pytest.raises(InvalidRecord) as refused, translated(engine), engine.begin() as c:
                c.execute(users.insert().values(id=user, name="eve", created_at=now()))
                c.execute(
                    applications.insert().values(
                        id=str(uuid.uuid4()),
                        name="x",
                        user_id=user,
                        repository_url=_url(NOISE),
                        created_at=now(),
                    )
                )
        finally:
            engine.dispose()
    assert refused.value.field == "repository_url"
    assert NOISE not in str(refused.value)  # the driver's reason, never the values


@pytest.mark.parametrize("value", [_url(CJK), _url(EMOJI), _url(NOISE), "é" * 3_000, "a🦊" * 900])
@pytest.mark.parametrize("field", ["repository_url", "application_name"])
def test_C1_the_client_cuts_index_keys_by_bytes_not_characters(field: str, value: str) -> None:
    """redteam N44: the client cut at 1,000 characters, which is 3,000 bytes of CJK. Now the
    cut is in bytes, on a character boundary, says so, and passes the server's check."""
    rec = record(**{field: value})
    clean, changes = sanitize_record(rec)
    kept = getattr(clean, field)
    assert len(kept.encode("utf-8")) <= KEY_TEXT_BYTES
    assert kept.endswith("cut]") and value.startswith(kept.split(" … [")[0])
    assert any(field in change and "long texts cut" in change for change in changes)
    check_keys(clean)
    assert sanitize_record(clean) == (clean, [])  # idempotent


def test_C1_short_fields_are_cut_by_bytes_too() -> None:
    rec = record(machine="機" * 1_000, starting_branch="🦊" * 400, claude_session_id="é" * 900)
    clean, _ = sanitize_record(rec)
    for value in (clean.machine, clean.starting_branch, clean.claude_session_id):
        assert value is not None and len(value.encode()) <= 1_000


def _settings(home: Path, url: str, key: str) -> Settings:
    return Settings.from_env(
        {
            "CLAUDE_CONFIG_DIR": str(home),
            "CLAUDE_SESSION_TRACKER_URL": url,
            "CLAUDE_SESSION_TRACKER_TOKEN": key,
        }
    )


def test_C1_a_record_postgresql_cannot_index_is_a_dead_letter_at_once_and_the_rest_arrive(
    isolated_home: Path, tmp_path: Path
) -> None:
    """redteam C1 (b): a record with a ~3 kB origin URL, queued as an older client queued it
    (not cut), then two ends of another project and an unended session's spooled record. The
    first sync sends the three and keeps the poison as refused, naming the field; nothing
    waits on it and no back-off follows."""
    from claude_session.tracker.service.app import create_api_key, create_app

    with postgres_database() as database:
        key = create_api_key(database, "eve")
        with serve(create_app(database)) as url:
            paths = Paths(isolated_home)
            poison = record(repository_url=_url(CJK))
            Outbox(paths.outbox_db).put(poison)
            repo = make_repo(tmp_path / "other")
            with Core(_settings(isolated_home, url, key)) as core:
                ended = []
                for n in range(2):
                    core.start(repo, session_id=f"s{n}")
                    ended.append(core.end(repo, session_id=f"s{n}", summary="ok", push=False))
                spooled = record(summary="unended")
                (paths.spool).mkdir(parents=True, exist_ok=True)
                (paths.spool / f"{spooled.id}.json").write_text(json.dumps(body(spooled)))
                synced = core.sync()
                status = core.status(repo)
            assert synced.remaining == 1 and synced.rejected == 1, synced
            (letter,) = Outbox(paths.outbox_db).dead_letters()
            assert letter.id == poison.id and letter.field == "repository_url"
            assert "HTTP 422" in (letter.error or ""), letter.error
            assert Delivery(paths, HttpTracker(url, key))._backing_off() is None
            assert status.outbox["pending"] == 0
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
                listed = {s["id"] for s in c.get("/api/sessions").json()["sessions"]}
            assert listed == {e.record.id for e in ended} | {spooled.id}
            engine = create_engine(database)
            try:
                with engine.connect() as conn:
                    urls = conn.execute(sa.select(applications.c.repository_url)).scalars()
                    assert sorted(map(str, urls)) == [repo.as_uri(), "github.com/acme/widgets"]
            finally:
                engine.dispose()
