"""The Sessions UI (``service/ui.py``) over real HTTP, as a browser without JavaScript sees it:
API keys made, rotated and revoked, runs grouped by type, pages by cursor, absurd cursors and
paths. (``test_ui_browser.py`` drives a real Chromium.)"""

from __future__ import annotations

import pytest

from claude_session.tracker.service.app import create_api_key
from helpers.records import body, record, runs
from helpers.tracker_service import Tracker, api_keys, bearer, many_sessions, signed_in, tracker_cli


def test_keys_are_made_rotated_and_revoked_in_the_ui(tracker: Tracker) -> None:
    key = create_api_key(tracker.url, "alice", "old laptop")
    with signed_in(tracker, key) as browser:
        page = browser.get("/keys")
        assert page.status_code == 200 and "old laptop" in page.text and key[:8] in page.text
        assert key not in page.text
        made = browser.post("/keys", data={"name": "new laptop"})
        assert made.status_code == 201
        new = made.text.split('id="new-key">')[1].split("<")[0]
        assert new.startswith("cst_") and "shown only this once" in made.text
        assert new not in browser.get("/keys").text  # shown only when made
        assert tracker.anonymous.get("/api/sessions", headers=bearer(new)).status_code == 200
        keys = api_keys(tracker.url, "alice")
        new_id = next(k.id for k in keys if k.name == "new laptop")
        rotated = browser.post(f"/keys/{new_id}/rotate")
        newer = rotated.text.split('id="new-key">')[1].split("<")[0]
        assert rotated.status_code == 201 and newer != new
        assert tracker.anonymous.get("/api/sessions", headers=bearer(new)).status_code == 401
        newer_id = next(
            k.id
            for k in api_keys(tracker.url, "alice")
            if k.name == "new laptop" and k.revoked_at is None
        )
        assert browser.post(f"/keys/{newer_id}/revoke").status_code == 303
        assert tracker.anonymous.get("/api/sessions", headers=bearer(newer)).status_code == 401
        assert "revoked" in browser.get("/keys").text


def test_revoking_a_key_signs_out_the_browsers_opened_with_it(
    tracker: Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    laptop = create_api_key(tracker.url, "alice", "laptop")
    phone = create_api_key(tracker.url, "alice", "phone")
    with (
        signed_in(tracker, laptop) as first,
        signed_in(tracker, laptop) as second,
        signed_in(tracker, phone) as other,
    ):
        assert first.get("/").status_code == 200 and second.get("/").status_code == 200
        code, _, _ = tracker_cli(capsys, "token", "revoke", laptop[:8], "--database", tracker.url)
        assert code == 0
        for browser in (first, second):  # the next request goes to the log-in page
            gone = browser.get("/keys")
            assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        assert other.get("/").status_code == 200  # opened with another key: still in
        phone_id = next(k.id for k in api_keys(tracker.url, "alice") if k.name == "phone")
        # Revoked from the UI, by the browser signed in with it: signed out too.
        assert other.post(f"/keys/{phone_id}/revoke").status_code == 303
        assert other.get("/keys").status_code == 303


def test_rotating_a_key_keeps_the_rotating_browser_and_signs_out_the_others(
    tracker: Tracker,
) -> None:
    key = create_api_key(tracker.url, "alice", "laptop")
    key_id = next(k.id for k in api_keys(tracker.url, "alice") if k.name == "laptop")
    with signed_in(tracker, key) as mine, signed_in(tracker, key) as elsewhere:
        rotated = mine.post(f"/keys/{key_id}/rotate")
        assert rotated.status_code == 201 and 'id="new-key">' in rotated.text
        assert mine.get("/keys").status_code == 200
        assert elsewhere.get("/keys").status_code == 303


def test_another_users_key_cannot_be_revoked_from_the_ui(tracker: Tracker) -> None:
    bobs = create_api_key(tracker.url, "bob", "bob's")
    bob_id = next(k.id for k in api_keys(tracker.url, "bob") if k.name == "bob's")
    with signed_in(tracker, create_api_key(tracker.url, "alice")) as browser:
        assert browser.post(f"/keys/{bob_id}/revoke").status_code == 404
        assert browser.post(f"/keys/{bob_id}/rotate").status_code == 404
        assert browser.post("/keys/not-a-uuid/revoke").status_code == 404
        assert "bob's" not in browser.get("/keys").text
    assert tracker.anonymous.get("/api/sessions", headers=bearer(bobs)).status_code == 200


def test_the_ui_groups_runs_by_type(tracker: Tracker) -> None:
    key = create_api_key(tracker.url, "carol")
    rec = record(maintenance_runs=runs("npm audit", "security-scan", "npm audit --json"))
    assert (
        tracker.anonymous.post("/api/sessions", json=body(rec), headers=bearer(key)).status_code
        == 201
    )
    with signed_in(tracker, key) as browser:
        page = browser.get(f"/sessions/{rec.id}").text
        groups = page.split('<h3 class="run-type">')[1:]
        assert [g.split(" <")[0] for g in groups] == ["npm audit", "security-scan"]
        assert "2 runs" in groups[0] and "1 run<" in groups[1]
        overview = browser.get("/").text.split('id="run-types"')[1].split("</section>")[0]
        assert "npm audit" in overview and "security-scan" in overview
        assert ">2<" in overview  # two npm audit runs


def test_the_ui_pages_older_and_newer_by_cursor(tracker: Tracker) -> None:
    import re

    from claude_session.tracker.service import ui

    newest_first = many_sessions(tracker, ui.PAGE_SIZE * 2 + 7)
    key = create_api_key(tracker.url, "alice")
    with signed_in(tracker, key) as browser:
        pages, url = [], "/"
        while url:
            html = browser.get(url).text
            pages.append(re.findall(r'href="/sessions/([0-9a-f-]{36})"', html)[::2])
            older = re.search(r'href="\?after=([^"]+)" rel="next"', html)
            url = f"/?after={older.group(1)}" if older else ""
        assert [len(p) for p in pages] == [ui.PAGE_SIZE, ui.PAGE_SIZE, 7]
        assert [i for p in pages for i in p] == newest_first
        newer = re.search(r'href="\?before=([^"]+)" rel="prev"', html)
        assert newer is not None
        back = browser.get(f"/?before={newer.group(1)}").text
        assert re.findall(r'href="/sessions/([0-9a-f-]{36})"', back)[::2] == pages[1]


@pytest.mark.parametrize(
    "value",
    [
        "99999999999999999999999",
        "²",
        "0",
        "-1",
        "x",
        "%00",
        "eyJhIjoxfQ",
        "W1tdXQ",
        "WyIxOTcwIiwiMTk3MCIsIngiXQ",
        "A" * 5000,
    ],
)
@pytest.mark.parametrize("name", ["after", "before"])
def test_absurd_ui_page_cursors_are_400_pages_naming_them(
    shared: Tracker, name: str, value: str
) -> None:
    with signed_in(shared) as browser:
        answer = browser.get(f"/?{name}={value}")
        assert answer.status_code == 400, answer.text
        assert name in answer.text and "text/html" in answer.headers["content-type"]


def test_ui_paths_with_nul_or_junk_are_404_pages(shared: Tracker) -> None:
    with signed_in(shared) as browser:
        for path in (
            "/sessions/a%00b",
            "/applications/%00",
            "/sessions/" + "9" * 5000,
            "/applications/x'%20OR%201=1",
        ):
            answer = browser.get(path)
            assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]


def test_the_list_searches_filters_exports_and_shows_outcomes_and_chains(
    tracker: Tracker,
) -> None:
    from datetime import timedelta

    from helpers.records import START

    first = record(
        summary="Headers parsed",
        next_steps=["Parse bodies"],
        end_mode="paused",
        commits_count=2,
        cost_usd=0.5,
        tokens_input=100,
    )
    second = record(
        summary="Bodies parsed",
        continues=first.id,
        commits_count=1,
        cost_usd=None,
        tokens_input=50,
        started_at=START + timedelta(hours=2),
        ended_at=START + timedelta(hours=3),
        duration_minutes=60,
    )
    for item in (first, second):
        assert tracker.alice.post("/api/sessions", json=body(item)).status_code == 201
    key = create_api_key(tracker.url, "alice")
    with signed_in(tracker, key) as browser:
        listed = browser.get("/").text
        assert "Next: Parse bodies" in listed and "$0.50" in listed and "unknown" in listed
        assert f'href="/sessions/{first.id}" title="continues' in listed  # the chain mark
        found = browser.get("/", params={"q": "headers"}).text
        assert "1 session found" in found and "Headers parsed" in found
        assert "Bodies parsed" not in found
        assert 'value="headers"' in found  # the form keeps what was searched
        assert "Bodies parsed" in browser.get("/", params={"end_mode": "standard"}).text
        assert "No session matches" in browser.get("/", params={"machine": "nowhere"}).text
        assert browser.get("/", params={"since": "yesterday"}).status_code == 400
        exported = browser.get("/export.csv", params={"q": "headers"})  # one: "bodies" is in both
        assert exported.status_code == 200 and exported.text.count("\n") == 2
        assert first.id in exported.text
        chain = browser.get(f"/sessions/{second.id}").text
        assert "Headers parsed" in chain and "Bodies parsed" in chain  # every part's summary
        assert "3 commits" in chain and "1 part(s) of unknown cost" in chain
