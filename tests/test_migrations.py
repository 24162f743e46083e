"""The migrations are the only source of the schema: they must build exactly
what the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import survey.models  # noqa: F401 - the tables
from alembic import command
from survey.db import Database, alembic_config, make_engine, migrate
from survey.settings import Settings
from tests.helpers import create_postgres_database, drop_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("postgres_server_url")
    url, admin = create_postgres_database(server)
    yield url
    drop_postgres_database(admin, url)


def test_migrations_build_exactly_the_models(empty_database: str) -> None:
    settings = Settings(database_url=empty_database)
    migrate(settings)
    engine = make_engine(settings)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"survey", "survey_version", "response", "api_token", "alembic_version"} <= tables


def test_migrations_go_down_and_up_again(empty_database: str) -> None:
    settings = Settings(database_url=empty_database)
    migrate(settings)
    command.downgrade(alembic_config(settings), "base")
    engine = make_engine(settings)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate(settings)
    migrate(settings)  # a second run is a no-op


def test_sqlite_runs_in_wal_mode_with_the_safety_pragmas(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}")
    engine = make_engine(settings)
    with engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }
    engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "busy_timeout": 30000,
        "foreign_keys": 1,
        "synchronous": 2,
    }


def test_serve_warns_when_postgresql_could_lose_acknowledged_answers(
    postgres_server_url: str,
) -> None:
    url, admin = create_postgres_database(postgres_server_url)
    try:
        database = Database(Settings(database_url=url))
        assert database.durability_warnings() == []
        database.dispose()
        name = sa.make_url(url).database
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        database = Database(Settings(database_url=url))
        [warning] = database.durability_warnings()
        database.dispose()
        assert "synchronous_commit=off" in warning
    finally:
        drop_postgres_database(admin, url)


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    import stat

    path = tmp_path / "private.db"
    migrate(Settings(database_url=f"sqlite:///{path}"))
    for made in (path, *tmp_path.glob("private.db-*")):
        assert stat.S_IMODE(made.stat().st_mode) == 0o600, made
