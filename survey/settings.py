"""The one place configuration comes from.

Every setting is read from the environment (prefix ``SURVEY_``) into one
``Settings`` object, built by the caller and passed to ``create_app`` and the
CLI commands.  Nothing else in the package reads ``os.environ``, so tests can
build an app with any settings they like.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SURVEY_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///./survey.db",
        description="SQLAlchemy URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.",
    )
    definitions_dir: Path | None = Field(
        default=None,
        description="Folder whose *.yaml survey files `survey serve` loads at start.",
    )
    load_bundled_surveys: bool = Field(
        default=True, description="Load the surveys shipped with the package at start."
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite's synchronous pragma. NORMAL is faster but a power loss may "
        "undo the last commits (never corrupts the file).",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long a SQLite writer waits for the lock."
    )
    db_pool_size: int = Field(default=10, ge=1, description="PostgreSQL connections per worker.")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
