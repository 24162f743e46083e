"""Reference apps for the benchmarks: the least a FastAPI app can do for the
same job, measured in the same run as the product.

BENCH_REF selects one:
  page        a fixed HTML page of the product's size, from memory
  raw         an async endpoint inserting the JSON body into one table with the
              raw driver (sqlite3 or psycopg), in the same database
  session     the same insert through a SQLModel Session in a plain def route
              (the naive ORM way)
BENCH_DB is a SQLAlchemy-style URL; BENCH_PAGE_BYTES the page size.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

KIND = os.environ.get("BENCH_REF", "page")
DB = os.environ.get("BENCH_DB", "")
app = FastAPI()

if KIND == "page":
    PAGE = "<!doctype html><title>x</title>" + "x" * int(
        os.environ.get("BENCH_PAGE_BYTES", "18000")
    )

    @app.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

elif KIND == "raw" and DB.startswith("sqlite"):
    conn = sqlite3.connect(DB.removeprefix("sqlite:///"), isolation_level=None)
    for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=FULL"):
        conn.execute(f"PRAGMA {pragma}")

    @app.post("/insert", status_code=201)
    async def insert_sqlite(request: Request) -> JSONResponse:
        body = await request.body()
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(
            "INSERT INTO bench_raw (payload, created_at) VALUES (?, datetime('now')) RETURNING id",
            (json.dumps(json.loads(body)),),
        ).fetchone()
        conn.execute("COMMIT")
        return JSONResponse({"id": row[0]}, status_code=201)

elif KIND == "raw":
    import psycopg

    pg = psycopg.connect(DB.replace("postgresql+psycopg", "postgresql"))

    @app.post("/insert", status_code=201)
    async def insert_pg(request: Request) -> JSONResponse:
        body = await request.body()
        with pg.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_raw (payload, created_at) VALUES (%s, now()) RETURNING id",
                (json.dumps(json.loads(body)),),
            )
            new_id = cursor.fetchone()[0]  # type: ignore[index]
        pg.commit()
        return JSONResponse({"id": new_id}, status_code=201)

elif KIND == "session":
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from sqlmodel import Field, Session, SQLModel

    class BenchRaw(SQLModel, table=True):
        __tablename__ = "bench_raw"
        id: int | None = Field(default=None, primary_key=True)
        payload: str
        created_at: str

    engine = sa.create_engine(DB)
    if DB.startswith("sqlite"):

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=FULL"):
                dbapi_conn.execute(f"PRAGMA {pragma}")

    @app.post("/insert", status_code=201)
    def insert_session(body: dict[str, Any]) -> dict[str, Any]:
        with Session(engine) as session:
            row = BenchRaw(payload=json.dumps(body), created_at=datetime.now(UTC).isoformat())
            session.add(row)
            session.commit()
            return {"id": row.id}
