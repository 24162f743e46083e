"""schemathesis against the app's own OpenAPI schema, in process: every
operation, no 500, and every response matches the schema (status codes,
content types, bodies).

(schemathesis' pytest plugin does not run on this pytest yet, so the test
walks the operations itself and runs one hypothesis test per operation.)"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from survey.definitions import SurveyDefinition
from survey.settings import Settings
from survey.web.app import create_app


def fuzz(operation: Any, token: str) -> None:
    # oEmbed answers format=xml with 501, as its specification asks: a
    # deliberate 5xx, so only a 500 counts as a failure there.
    excluded = [schemathesis.checks.not_a_server_error] if operation.path == "/oembed" else []

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"}, excluded_checks=excluded
        )
        assert response.status_code != 500

    check()


def test_every_operation_answers_within_its_schema(
    database_url: str, bundled: SurveyDefinition, token: str
) -> None:
    app = create_app(Settings(database_url=database_url, min_fill_seconds=0))
    checked = []
    with TestClient(app):  # runs the lifespan (form-token key, caches)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()
            fuzz(operation, token)
            checked.append(operation.label)
    assert "POST /api/surveys/{slug}/responses" in checked
    assert "GET /api/surveys/{slug}/responses.csv" in checked
    assert "POST /s/{slug}" in checked  # the form is fuzzed too
    assert "GET /s/{slug}" in checked
    assert len(checked) >= 5
