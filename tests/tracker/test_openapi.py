"""The tracker's OpenAPI 3.1 document, and schemathesis run from it against the running service
(uvicorn on 127.0.0.1) on SQLite and on PostgreSQL: no generated request, valid or not, may get a
5xx, and every answer must match the document (status code, content type, body schema)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from schemathesis import checks

from claude_session.tracker.service.app import create_api_key, create_app
from helpers.records import body, full_record
from helpers.tracker_service import postgres_database, serve

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[test]'")

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'tracker.db'}"
        else:
            url = stack.enter_context(postgres_database())
        key = create_api_key(url, "alice")
        base = stack.enter_context(serve(create_app(url)))
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as client:
            for _ in range(3):  # something to list and read back
                assert client.post("/api/sessions", json=body(full_record())).status_code == 201
        yield base, key


@pytest.fixture(scope="module")
def api_schema(running: tuple[str, str]) -> Any:
    base, _ = running
    return schemathesis.openapi.from_url(f"{base}/api/openapi.json")


def test_the_document_is_openapi_3_1_built_from_the_models(running: tuple[str, str]) -> None:
    base, _ = running
    doc = httpx.get(f"{base}/api/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {
        "/api/health",
        "/api/sessions",
        "/api/sessions/{session_id}",
        "/api/applications",
    }
    record = doc["components"]["schemas"]["SessionRecord"]
    assert set(record["required"]) == {"application_name", "started_at", "ended_at"}
    assert record["properties"]["tokens_input"]["maximum"] == 2**63 - 1
    assert "NUL" in doc["info"]["description"]


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_answers_every_generated_request_as_documented(
    case: Any, running: tuple[str, str]
) -> None:
    _, key = running
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
