"""retention_days: responses past it are really deleted, by `survey purge` and
by the server on its own."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from survey.cli import main
from survey.db import Database
from survey.models import Response
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import add_response, definition_from, load, stored_answers

KEPT_30_DAYS = (
    "slug: short-lived\ntitle: Short lived\nretention_days: 30\n"
    "questions: [{key: a, type: short_text, label: A}]\n"
)
KEPT_FOREVER = "slug: forever\ntitle: Forever\nquestions: [{key: a, type: short_text, label: A}]\n"


def age(database: Database, response_id: int, days: int) -> None:
    with database.begin(write=True) as session:
        session.execute(
            sa.update(Response)
            .where(sa.column("id") == response_id)
            .values(submitted_at=datetime.now(UTC) - timedelta(days=days))
        )


def test_survey_purge_deletes_only_what_is_past_retention(
    database: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load(database, definition_from(KEPT_30_DAYS))
    load(database, definition_from(KEPT_FOREVER))
    old = add_response(database, slug="short-lived", answers={"a": "old"})
    add_response(database, slug="short-lived", answers={"a": "recent"})
    ancient = add_response(database, slug="forever", answers={"a": "ancient"})
    age(database, old, 40)
    age(database, ancient, 4000)
    monkeypatch.setenv("SURVEY_DATABASE_URL", database_url)
    assert main(["purge"]) == 0
    assert "short-lived: deleted 1 responses past retention" in capsys.readouterr().out
    assert sorted(a["a"] for a in stored_answers(database)) == ["ancient", "recent"]


def test_the_server_purges_on_its_own(database: Database, database_url: str) -> None:
    load(database, definition_from(KEPT_30_DAYS))
    old = add_response(database, slug="short-lived", answers={"a": "old"})
    age(database, old, 31)
    settings = Settings(database_url=database_url, purge_interval_seconds=3600)
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 10
        while stored_answers(database) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert stored_answers(database) == []
