"""Alembic environment: the database URL comes from the product's settings.

`survey migrate` passes its settings in ``config.attributes``; a developer
running ``alembic`` by hand gets them from the environment (SURVEY_DATABASE_URL).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import survey.models  # noqa: F401 - registers the tables on SQLModel.metadata
from alembic import context
from survey.db import make_engine
from survey.settings import Settings

config = context.config
target_metadata = SQLModel.metadata


def _settings() -> Settings:
    settings = config.attributes.get("settings")
    return settings if isinstance(settings, Settings) else Settings()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_settings())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
