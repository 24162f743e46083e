"""Fixtures shared by the whole suite.

Every storage test runs twice: on SQLite (a file made by the migrations) and on
PostgreSQL (a database created for this test run on the server named by
SURVEY_TEST_POSTGRES_URL).  Where that variable is unset the PostgreSQL half
skips with a reason, unless SURVEY_REQUIRE_POSTGRES=1 makes it fail.
The schema is always built by the migrations, never by create_all.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import Session

from survey import store
from survey.db import Database, migrate
from survey.definitions import SurveyDefinition, load_file
from survey.settings import Settings
from survey.web.app import create_app
from tests.helpers import (
    BUNDLED,
    Inbox,
    Receiver,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    load,
)

TABLES = (
    "webhook_attempt",
    "mail_outbox",
    "notification_choice",
    "webhook_delivery",
    "webhook",
    "response",
    "survey_draft",
    "survey_version",
    "survey",
    "api_token",
    "spam_submission",
    "staff_session",
    "staff_user",
    "audit_event",
    "rate_limit_hit",
)


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("SURVEY_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (SURVEY_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = os.environ.get("SURVEY_TEST_POSTGRES_URL")
    if not url:
        _postgres_unavailable("SURVEY_TEST_POSTGRES_URL is not set")
    assert url is not None
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except sa.exc.OperationalError as exc:
        _postgres_unavailable(f"cannot connect to {url}: {exc.orig}")
    return url


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server_url: str) -> Iterator[str]:
    url, admin = create_postgres_database(postgres_server_url)
    migrate(Settings(database_url=url))
    yield url
    drop_postgres_database(admin, url)


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "survey.db"
    migrate(Settings(database_url=f"sqlite:///{path}"))
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite_template")
        path = tmp_path / "survey.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("migrated_postgres")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Tests load new versions and expect the very next request to see them.
    # Tests send forms the moment they get them: the bots' speed, so the
    # minimum fill time is off except where a test is about it.
    return Settings(
        database_url=database_url,
        definition_cache_seconds=0,
        min_fill_seconds=0,
        sign_in_failure_delay_seconds=0,
        # Tests send many answers from one address; test_ratelimit turns it on.
        rate_limit="off",
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings)
    yield db
    db.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.session() as s:
        yield s


@pytest.fixture
def bundled(database: Database) -> SurveyDefinition:
    definition = load_file(BUNDLED)
    load(database, definition)
    return definition


@pytest.fixture
def client(settings: Settings, bundled: SurveyDefinition) -> Iterator[TestClient]:
    with TestClient(create_app(settings), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def token(database: Database) -> str:
    with database.begin(write=True) as s:
        _, plain = store.create_token(s, name="tests")
    return plain


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        # The password is URL-quoted in the address, as operators write it.
        yield inbox, f"smtp://mailer:p%40ss%20word@127.0.0.1:{port}?tls=off"
    finally:
        controller.stop()
