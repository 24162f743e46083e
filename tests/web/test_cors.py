"""CORS on the API addresses a blog's own script calls (survey.web.cors): every
answer there carries the headers for an allowed origin, whichever part of the
app made it, and nothing else gets them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from survey.db import Database
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import definition_from, load

RESTRICTED = """
slug: members-only
title: Members only
embed_origins: [https://alsc.example.org]
questions:
  - {key: a, type: yes_no, label: "A?", required: true}
"""
ALLOWED = {"Origin": "https://alsc.example.org"}
ACAO = "access-control-allow-origin"


def test_a_fresh_process_puts_cors_on_its_first_answer_even_a_bad_body(
    settings: Settings, database: Database
) -> None:
    """The survey is looked up before the body is read, so the headers are
    known even when the very first request of a process is malformed."""
    load(database, definition_from(RESTRICTED))
    with TestClient(create_app(settings)) as fresh:
        malformed = fresh.post(
            "/api/surveys/members-only/responses",
            content=b"[",
            headers=ALLOWED | {"content-type": "application/json"},
        )
    assert malformed.status_code == 422
    assert malformed.headers[ACAO] == "https://alsc.example.org"
    assert malformed.headers["vary"] == "Origin"


def test_errors_from_every_handler_carry_cors_for_an_allowed_origin(
    client: TestClient, database: Database
) -> None:
    load(database, definition_from(RESTRICTED))
    url = "/api/surveys/members-only/responses"
    not_json = client.post(url, content=b"a=1", headers=ALLOWED | {"content-type": "text/plain"})
    assert not_json.status_code == 415
    assert not_json.headers[ACAO] == "https://alsc.example.org"
    bad_key = client.post(
        url, json={"answers": {"a": "yes"}}, headers=ALLOWED | {"Idempotency-Key": "a b"}
    )
    assert bad_key.status_code == 422
    assert bad_key.headers[ACAO] == "https://alsc.example.org"
    evil = client.post(url, json={"answers": {}}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 422
    assert ACAO not in evil.headers
    assert evil.headers["vary"] == "Origin"


def test_only_the_two_browser_addresses_answer_cross_origin(client: TestClient) -> None:
    missing = client.get("/api/surveys/no-such-survey", headers={"Origin": "https://a.example"})
    assert missing.status_code == 404
    assert ACAO not in missing.headers
    export = client.get(
        "/api/surveys/libraries-abroad/responses.csv", headers={"Origin": "https://a.example"}
    )
    assert export.status_code == 401
    assert ACAO not in export.headers
    assert "vary" not in export.headers
    page = client.get("/s/libraries-abroad", headers={"Origin": "https://a.example"})
    assert ACAO not in page.headers
