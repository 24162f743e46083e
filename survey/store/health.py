"""The write probe behind /healthz: a database that answers may still refuse
every write (a full disk), and a health check should say so."""

from __future__ import annotations

import socket

import sqlalchemy as sa

from survey.models import HealthCheck, utcnow

HOST = socket.gethostname()[:255]


def probe_write(conn: sa.Connection) -> None:
    """Write this host's row (raises what the database raises when it cannot)."""
    table = HealthCheck.__table__  # type: ignore[attr-defined]
    now = utcnow()
    updated = conn.execute(table.update().where(table.c.host == HOST).values(checked_at=now))
    if updated.rowcount == 0:
        conn.execute(table.insert().values(host=HOST, checked_at=now))
