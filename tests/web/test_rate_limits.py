"""Rate limits through the real app, on SQLite and PostgreSQL: per client and
survey, kept in the database (no address stored), answered with 429 and
Retry-After, the form's answers kept; behind trusted proxies only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from survey.db import Database
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import definition_from, form_token, load, stored_answers

API = "/api/surveys/libraries-abroad/responses"
BODY = {"answers": {"visits_libraries": "often"}}


@pytest.fixture
def limited_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rate_limit": "3/minute", "trusted_proxies": "10.0.0.0/8"})


def client_for(settings: Settings, peer: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=(peer, 50000), follow_redirects=False) as client:
        yield client


@pytest.fixture
def limited(limited_settings: Settings, bundled: Any) -> Iterator[TestClient]:
    yield from client_for(limited_settings, "203.0.113.9")


def test_the_api_answers_429_with_retry_after(limited: TestClient, database: Database) -> None:
    for _ in range(3):
        assert limited.post(API, json=BODY).status_code == 201
    refused = limited.post(API, json=BODY)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "Too many responses" in refused.json()["detail"]
    assert len(stored_answers(database)) == 3
    # Another survey has its own budget.
    load(
        database,
        definition_from("slug: other\ntitle: O\nquestions: [{key: a, type: yes_no, label: A}]\n"),
    )
    assert (
        limited.post("/api/surveys/other/responses", json={"answers": {"a": "yes"}}).status_code
        == 201
    )


def test_no_address_is_stored(limited: TestClient, database: Database) -> None:
    limited.post(API, json=BODY)
    with database.session() as s:
        rows = s.execute(sa.text("SELECT client_key, hits FROM rate_limit_hit")).all()
    assert len(rows) == 1
    key, hits = rows[0]
    assert hits == 1
    assert len(key) == 64
    assert "203.0.113" not in key


def test_the_form_keeps_the_answers_when_limited(limited: TestClient, database: Database) -> None:
    path = "/s/libraries-abroad"
    answers = {"visits_libraries": "often", "lessons": "Reading dens in Halifax"}
    for _ in range(3):
        assert (
            limited.post(path, data={"_token": form_token(limited, path), **answers}).status_code
            == 303
        )
    refused = limited.post(path, data={"_token": form_token(limited, path), **answers})
    assert refused.status_code == 429
    assert refused.headers["retry-after"].isdigit()
    shown = BeautifulSoup(refused.text, "html.parser")
    assert "sent many times from here" in shown.select_one(".error-summary").get_text()
    assert shown.select_one("#lessons").get_text().strip() == "Reading dens in Halifax"
    assert len(stored_answers(database)) == 3


def test_behind_a_trusted_proxy_each_forwarded_client_counts_alone(
    limited_settings: Settings, bundled: Any, database: Database
) -> None:
    for proxy in client_for(limited_settings, "10.0.0.5"):
        for reader in ("198.51.100.1", "198.51.100.2"):
            for _ in range(3):
                sent = proxy.post(API, json=BODY, headers={"X-Forwarded-For": reader})
                assert sent.status_code == 201
        # A hop the reader added themselves, left of the real one, changes nothing.
        forged = proxy.post(API, json=BODY, headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.1"})
        assert forged.status_code == 429
    assert len(stored_answers(database)) == 6


def test_a_forged_header_from_anyone_else_changes_nothing(limited: TestClient) -> None:
    statuses = [
        limited.post(API, json=BODY, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
        for n in range(5)
    ]
    assert statuses == [201, 201, 201, 429, 429]
