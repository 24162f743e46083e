"""Engines, sessions and migrations for the configured database.

SQLite is the embedded default and gets the pragmas that make several worker
processes on one file safe: WAL (readers never block the writer), a busy
timeout (writers wait for the lock instead of failing), foreign keys, and
``synchronous`` from the settings.  Write transactions on SQLite start with
``BEGIN IMMEDIATE``: a transaction that first reads and later writes would
otherwise fail at once with SQLITE_BUSY when another process committed in
between, and that would lose a submission.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from survey.resources import migrations_dir
from survey.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

T = TypeVar("T")

# Execution option that asks for BEGIN IMMEDIATE on SQLite; ignored elsewhere.
IMMEDIATE = "survey_begin_immediate"

# What the database raises when it is away or cannot write (down, connection
# lost, disk full, locked too long, no connection free): answered 503 with
# Retry-After, not 500, and logged as one line.
STORAGE_ERRORS: tuple[type[Exception], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
)


def one_line(exc: BaseException) -> str:
    """A database error as one short log line (the driver's message, no SQL)."""
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split())
    return f"{type(cause).__name__}: {text[:300]}"


class Database:
    """One engine per settings, and the two ways to open a session on it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = make_engine(settings)
        self._write_engine = self.engine.execution_options(**{IMMEDIATE: True})
        # SQLite has one writer at a time, and a writer that finds the lock taken
        # sleeps in milliseconds: one thread per process keeps a process's own
        # writes from ever waiting on each other.
        self._threads = 1 if settings.is_sqlite else settings.db_pool_size
        self._limiter: anyio.CapacityLimiter | None = None

    def session(self, *, write: bool = False) -> Session:
        # expire_on_commit=False: rows read before the commit stay usable for the
        # response (the thank-you page, the 201 body) without another query.
        return Session(self._write_engine if write else self.engine, expire_on_commit=False)

    @contextmanager
    def begin(self, *, write: bool = False) -> Iterator[Session]:
        """A session that commits once at the end, or rolls back on error."""
        with self.session(write=write) as session:
            yield session
            session.commit()

    @contextmanager
    def write_connection(self) -> Iterator[sa.Connection]:
        """One short write transaction on a plain connection (no ORM session),
        for the hot path that stores a response; commits at the end."""
        with self._write_engine.begin() as conn:
            yield conn

    async def run(self, function: Callable[[], T]) -> T:
        """Run blocking database work off the event loop, on a few threads only.

        FastAPI's default pool has 40 threads; on two cores, 40 threads fighting
        over the GIL and over a handful of connections cost more than the
        queries.  SQLite takes one writer at a time anyway.
        """
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._threads)
        return await anyio.to_thread.run_sync(function, limiter=self._limiter)

    def durability_warnings(self) -> list[str]:
        """What in the database's own settings could lose acknowledged answers."""
        if self.engine.dialect.name != "postgresql":
            return []
        warnings = []
        with self.engine.connect() as conn:
            for setting in ("fsync", "synchronous_commit"):
                value = conn.exec_driver_sql(f"SHOW {setting}").scalar_one()
                if value == "off":
                    warnings.append(
                        f"PostgreSQL has {setting}=off: a crash can lose responses the "
                        "server has already acknowledged"
                    )
        return warnings

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            log.warning("database ping failed: %s", one_line(exc))
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(settings: Settings) -> Engine:
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        _create_private(url.database)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        _configure_sqlite(engine, settings)
        return engine
    return sa.create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
    )


def _create_private(path: str | None) -> None:
    """A new SQLite file readable by its owner only (0600): it holds the
    answers and the signing secret.  SQLite gives its -wal and -shm files the
    same mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _configure_sqlite(engine: Engine, settings: Settings) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (the
        # documented pysqlite recipe), so that BEGIN IMMEDIATE can be chosen.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={settings.sqlite_synchronous}")
        cursor.close()
        # SQLite's lower() folds ASCII only; the staff search must find "ÉTÉ"
        # when asked for "été", as PostgreSQL's lower() does.
        dbapi_conn.create_function("casefold", 1, _casefold, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


# Alembic is imported only where migrations run: it is a tenth of a second of
# start-up that `survey export` and the other short commands do not need.
def alembic_config(settings: Settings) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = settings.database_url
    config.attributes["settings"] = settings
    return config


def migrate(settings: Settings) -> None:
    """Bring the schema up to date; the migrations are the only source of it."""
    from alembic import command

    command.upgrade(alembic_config(settings), "head")
