"""The tracker's logs hold no secret and no value of a request (``service/logs.py``,
``store/database.py``; redteam T31's notes): the one-time sign-in link's token and query values
never reach uvicorn's access log, SQL parameters never reach an error's log lines. Real
``tracker serve`` processes; their whole standard error (access and error logs) is grepped."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx

from claude_session.tracker.service.app import create_api_key
from claude_session.tracker.service.logs import shown_path
from claude_session.tracker.store.database import create_engine
from helpers.records import body, record
from helpers.tracker_process import served_by_cli
from helpers.tracker_service import bearer

LINK = re.compile(r"/login/link/([A-Za-z0-9_-]+)")


def test_T31_the_sign_in_link_token_is_printed_once_and_never_logged(tmp_path: Path) -> None:
    """The link ``tracker serve`` prints for this machine's own history: used, reused, asked
    for with another case, a query, or mistyped. The access log names the page, hides
    the token; the token is in the log file only in the line that hands it to the person."""
    home = tmp_path / "home"
    log = tmp_path / "serve.log"
    env = {"CLAUDE_CONFIG_DIR": str(home), "CLAUDE_SESSION_TRACKER_DATABASE": ""}
    with served_by_cli(env=env, log=log) as base:
        (token,) = LINK.findall(log.read_text())
        with httpx.Client(base_url=base) as browser:
            assert browser.get(f"/login/link/{token}?from=mail").status_code == 303
            assert browser.get(f"/login/link/{token}").status_code == 401
            assert browser.get(f"/LOGIN/link/{token}").status_code == 404
            assert browser.get(f"/link/{token}").status_code == 404  # a mistyped link
            assert browser.get(f"/login/{token}").status_code in (404, 405)
    text = log.read_text()
    assert text.count(token) == 1, text
    banner = next(line for line in text.splitlines() if token in line)
    assert banner.startswith("This machine's own history: open http")
    assert text.count("/login/link/[hidden]") == 2 and text.count("/LOGIN/link/[hidden]") == 1
    assert "from=[hidden]" in text and "mail" not in text


def _refuse_session_rows(url: str) -> None:
    """Make the database fail every new record with a non-operational error (the service's
    500 path, which logs the exception and its traceback)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(
                    "CREATE TRIGGER refuse BEFORE INSERT ON claude_sessions "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            else:
                conn.exec_driver_sql(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
                )
                conn.exec_driver_sql(
                    "CREATE TRIGGER refuse BEFORE INSERT ON claude_sessions "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
    finally:
        engine.dispose()


def test_T31_sql_parameters_and_query_values_never_reach_the_logs(
    database: str, tmp_path: Path
) -> None:
    """A database error on a record's write: the service answers 500 and logs the error with
    its traceback; neither holds the record's values (its summary, its application), nor
    does the access line of a list query hold the values asked for, nor any key."""
    key = create_api_key(database, "alice")
    log = tmp_path / "serve.log"
    marker = f"summary-{uuid.uuid4().hex}"
    with served_by_cli("--database", database, log=log) as base:
        with httpx.Client(base_url=base, headers=bearer(key), timeout=30) as client:
            assert client.post("/api/sessions", json=body(record())).status_code == 201
            _refuse_session_rows(database)
            failed = client.post(
                "/api/sessions",
                json=body(record(summary=marker, application_name=f"app-{marker}")),
            )
            assert failed.status_code == 500
        with httpx.Client(base_url=base, headers=bearer(key), timeout=30) as client:
            # a new connection: uvicorn closes the one a request failed on
            listed = client.get("/api/sessions", params={"application": f"app-{marker}"})
            assert listed.status_code == 200
            assert client.get(f"/keys/{key}/revoke").status_code in (401, 404, 405)
    text = log.read_text()
    assert "refused by the test" in text  # the error itself is logged ...
    assert "parameters hidden" in text  # ... where SQLAlchemy would quote the values
    assert marker not in text and key not in text and key[8:16] not in text
    assert "/api/sessions?application=[hidden]" in text


def test_an_access_line_keeps_the_page_and_parameter_names() -> None:
    assert shown_path("/api/sessions?application=a&limit=5") == (
        "/api/sessions?application=[hidden]&limit=[hidden]"
    )
    assert shown_path("/sessions/x") == "/sessions/x"
    assert shown_path("/login/link/abc") == "/login/link/[hidden]"
    assert shown_path("/Login/Link/abc/def?x") == "/Login/Link/[hidden]?x=[hidden]"
    assert shown_path("/?") == "/?[hidden]"
    session = str(uuid.uuid4())
    assert shown_path(f"/sessions/{session}") == f"/sessions/{session}"
    assert shown_path("/link/" + "A" * 43) == "/link/[hidden]"
    assert shown_path("/keys/cst_" + "b" * 40 + "/revoke") == "/keys/[hidden]/revoke"
