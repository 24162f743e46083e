"""Counting submissions per client and window, in the response's own transaction."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlmodel import Session, col

from survey.models import (
    RateLimitHit,
)


def count_hit(conn: sa.Connection, *, client_key: str, window_start: datetime) -> int:
    """Count one submission for a client in a window; returns the count so far.

    One statement (an upsert), in the transaction that stores the response:
    two workers counting at once both land, in any order.
    """
    row = conn.execute(
        _COUNT_HIT[conn.dialect.name],
        {"client_key": client_key, "window_start": window_start},
    ).one()
    return int(row[0])


_HITS = RateLimitHit.__table__  # type: ignore[attr-defined]
_COUNT_HIT = {
    name: dialect.insert(_HITS)
    .values(
        client_key=sa.bindparam("client_key"),
        window_start=sa.bindparam("window_start"),
        hits=1,
    )
    .on_conflict_do_update(
        index_elements=["client_key", "window_start"], set_={"hits": _HITS.c.hits + 1}
    )
    .returning(_HITS.c.hits)
    for name, dialect in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect))
}


def uncount_hit(conn: sa.Connection, *, client_key: str, window_start: datetime) -> None:
    """Take back one count (an attempt that turned out fine)."""
    conn.execute(
        sa.update(_HITS)
        .where(_HITS.c.client_key == client_key, _HITS.c.window_start == window_start)
        .values(
            hits=sa.func.max(_HITS.c.hits - 1, 0)
            if conn.dialect.name == "sqlite"
            else sa.func.greatest(_HITS.c.hits - 1, 0)
        )
    )


def purge_hits(session: Session, *, before: datetime) -> None:
    session.execute(sa.delete(RateLimitHit).where(col(RateLimitHit.window_start) < before))
