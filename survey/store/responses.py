"""Responses: the one INSERT every path that stores a response goes through
(``insert_response``/``insert_responses``, used by ``ResponseWriter`` and the
spam restore), and the staff pages' reads of them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Required, TypedDict, Unpack

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlmodel import Session, col

from survey.filters import ResponseFilter
from survey.models import (
    JSONDocument,
    Response,
    UTCDateTime,
    utcnow,
)
from survey.store.filters import where_sql


class NewResponse(TypedDict, total=False):
    """A response about to be stored: its fields, named once for every path
    that stores one (the form, the JSON API, the spam restore)."""

    survey_id: Required[int]
    survey_version_id: Required[int]
    answers: Required[dict[str, Any]]
    source: str | None
    csv_cells: str | None
    # One per rendered form (form:<id>), per Idempotency-Key (key:<key>), per
    # restored spam submission (spam:<id>): the same one twice stores nothing.
    submission_key: str | None
    language: str | None
    submitted_at: datetime | None


class KeyReused(Exception):
    """A client's Idempotency-Key already stored with different answers: a
    retry is the same request again; this is a second one under an old key."""


def _first_of(conn: sa.Connection, row: NewResponse) -> tuple[int, datetime]:
    """The stored response with this row's submission key (a duplicate)."""
    found = conn.execute(
        _FIND_SUBMISSION,
        {"survey_id": row["survey_id"], "submission_key": row.get("submission_key")},
    ).one()
    key = row.get("submission_key") or ""
    if key.startswith("key:") and found[2] != row["answers"]:
        raise KeyReused(key.removeprefix("key:"))
    return int(found[0]), found[1]


def insert_response(conn: sa.Connection, **row: Unpack[NewResponse]) -> tuple[int, datetime]:
    """The hot path's write: one INSERT on a plain connection, returning the new
    id and time (the ORM's unit of work costs several times more per row).

    A response whose ``submission_key`` is already stored for the survey (the
    same form sent twice, a retried Idempotency-Key) stores nothing new: the
    id and time of the first one come back instead.  An Idempotency-Key sent
    again with other answers raises KeyReused.
    """
    stored = conn.execute(
        _INSERT_RESPONSE[conn.dialect.name],
        {
            **dict.fromkeys(_INSERT_COLUMNS),
            **row,
            "submitted_at": row.get("submitted_at") or utcnow(),
        },
    ).first()
    if stored is None:
        return _first_of(conn, row)
    return int(stored[0]), stored[1]


class SurveyFull(Exception):
    """The survey already has its ``max_responses``: nothing was stored."""


def insert_capped(
    conn: sa.Connection, cap: int, **row: Unpack[NewResponse]
) -> tuple[int, datetime]:
    """``insert_response`` for a survey that takes at most ``cap`` responses.

    The count and the INSERT are in the caller's write transaction, and on
    PostgreSQL the survey's row is locked first (``FOR UPDATE``), so two
    servers storing at the same moment take turns and never store more than
    ``cap``.  SQLite's write transactions already take turns (BEGIN
    IMMEDIATE).  A form sent again after the survey filled up still gets its
    first response back.  Raises SurveyFull.
    """
    survey_id = row["survey_id"]
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_SURVEY, {"survey_id": survey_id})
    stored = conn.execute(_COUNT_STORED, {"survey_id": survey_id}).scalar_one()
    if stored < cap:
        return insert_response(conn, **row)
    if (
        row.get("submission_key")
        and conn.execute(
            _FIND_SUBMISSION,
            {"survey_id": survey_id, "submission_key": row.get("submission_key")},
        ).first()
    ):
        return _first_of(conn, row)
    raise SurveyFull


def stored_count(conn: sa.Connection, *, survey_id: int) -> int:
    """How many responses a survey has stored (its ``max_responses`` counts these)."""
    return int(conn.execute(_COUNT_STORED, {"survey_id": survey_id}).scalar_one())


# Built once: the same statement objects hit SQLAlchemy's compiled cache at once.
_RESPONSES = Response.__table__  # type: ignore[attr-defined]
_INSERT_RESPONSE = {
    name: dialect.insert(_RESPONSES)
    .on_conflict_do_nothing(index_elements=["survey_id", "submission_key"])
    .returning(_RESPONSES.c.id, _RESPONSES.c.submitted_at)
    for name, dialect in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect))
}
_INSERT_COLUMNS = tuple(NewResponse.__annotations__)
_PG_INSERT_SQL = str(
    _INSERT_RESPONSE["postgresql"].compile(
        dialect=postgresql_dialect.psycopg.dialect(),  # type: ignore[no-untyped-call]
        column_keys=list(_INSERT_COLUMNS),
    )
)


def insert_responses(
    conn: sa.Connection, rows: Sequence[NewResponse]
) -> list[tuple[int, datetime]]:
    """Several responses in the current transaction, in order.

    On PostgreSQL they go in one pipeline (psycopg's ``executemany`` with
    ``returning``): one round trip for the batch instead of one per row, which
    is what a group commit's writer otherwise waits on.  Elsewhere, and for a
    single row, one INSERT after another (SQLite is in-process anyway).
    """
    if conn.dialect.name != "postgresql" or len(rows) < 2:
        return [insert_response(conn, **row) for row in rows]
    import psycopg
    from psycopg.types.json import Jsonb

    now = utcnow()
    params = [
        {
            **dict.fromkeys(_INSERT_COLUMNS),
            **row,
            "answers": Jsonb(row["answers"]),
            "submitted_at": row.get("submitted_at") or now,
        }
        for row in rows
    ]
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, psycopg.Connection)
    results = []
    with dbapi.cursor() as cursor:
        cursor.executemany(_PG_INSERT_SQL, params, returning=True)
        for row in rows:
            found = cursor.fetchone()
            if found is None:  # a duplicate: the first one's id and time
                results.append(_first_of(conn, row))
            else:
                results.append((int(found[0]), found[1]))
            cursor.nextset()
    return results


_FIND_SUBMISSION = sa.select(
    _RESPONSES.c.id, _RESPONSES.c.submitted_at, _RESPONSES.c.answers
).where(
    _RESPONSES.c.survey_id == sa.bindparam("survey_id"),
    _RESPONSES.c.submission_key == sa.bindparam("submission_key"),
)


_LOCK_SURVEY = sa.text("SELECT id FROM survey WHERE id = :survey_id FOR UPDATE")
_COUNT_STORED = sa.text("SELECT count(*) FROM response WHERE survey_id = :survey_id")


@dataclass(frozen=True)
class AnswerRow:
    id: int
    submitted_at: datetime
    version: int
    source: str | None
    answers: dict[str, Any]
    language: str | None = None


def _answer_rows(conn: sa.Connection, query: str, params: dict[str, Any]) -> Iterator[AnswerRow]:
    statement = sa.text(query).columns(submitted_at=UTCDateTime(), answers=JSONDocument)
    result = conn.execution_options(stream_results=True, yield_per=1000).execute(statement, params)
    for row in result:
        yield AnswerRow(
            row.id, row.submitted_at, row.version, row.source, row.answers, row.language
        )


_ROW_COLUMNS = (
    "SELECT r.id AS id, r.submitted_at AS submitted_at, v.version AS version, "
    "r.source AS source, r.answers AS answers, r.language AS language "
    "FROM response r JOIN survey_version v ON v.id = r.survey_version_id "
)


def iter_answer_rows(
    conn: sa.Connection, *, survey_id: int, where: ResponseFilter
) -> Iterator[AnswerRow]:
    """Every matching response, oldest first, answers as stored (streamed)."""
    condition, params = where_sql(conn, survey_id, where)
    yield from _answer_rows(conn, f"{_ROW_COLUMNS}WHERE {condition} ORDER BY r.id", params)


def page_of_responses(
    conn: sa.Connection,
    *,
    survey_id: int,
    where: ResponseFilter,
    before: int | None = None,
    after: int | None = None,
    size: int = 50,
) -> tuple[list[AnswerRow], bool]:
    """A page of matching responses, newest first, and whether there are more.

    Keyset pagination on the id: ``before`` gives the page of older
    responses, ``after`` the page of newer ones.  The database walks the
    primary key from the cursor, so a page far back costs what the first does.
    """
    condition, params = where_sql(conn, survey_id, where)
    params["size"] = size + 1
    if after is not None:
        params["after"] = after
        query = f"{_ROW_COLUMNS}WHERE {condition} AND r.id > :after ORDER BY r.id LIMIT :size"
        rows = list(_answer_rows(conn, query, params))
        more = len(rows) > size
        return list(reversed(rows[:size])), more
    if before is not None:
        params["before"] = before
        condition += " AND r.id < :before"
    query = f"{_ROW_COLUMNS}WHERE {condition} ORDER BY r.id DESC LIMIT :size"
    rows = list(_answer_rows(conn, query, params))
    return rows[:size], len(rows) > size


def count_responses(conn: sa.Connection, *, survey_id: int, where: ResponseFilter) -> int:
    condition, params = where_sql(conn, survey_id, where)
    query = f"SELECT count(*) FROM response r WHERE {condition}"
    return int(conn.execute(sa.text(query), params).scalar_one())


def get_response(conn: sa.Connection, *, survey_id: int, response_id: int) -> AnswerRow | None:
    query = f"{_ROW_COLUMNS}WHERE r.survey_id = :survey_id AND r.id = :response_id"
    rows = list(_answer_rows(conn, query, {"survey_id": survey_id, "response_id": response_id}))
    return rows[0] if rows else None


def neighbours(
    conn: sa.Connection, *, survey_id: int, response_id: int
) -> tuple[int | None, int | None]:
    """The ids of the next newer and the next older response of the survey."""
    newer, older = conn.execute(_NEIGHBOURS, {"survey_id": survey_id, "id": response_id}).one()
    return newer, older


_NEIGHBOURS = sa.text(
    "SELECT (SELECT min(id) FROM response WHERE survey_id = :survey_id AND id > :id), "
    "(SELECT max(id) FROM response WHERE survey_id = :survey_id AND id < :id)"
)


def set_featured(session: Session, *, survey_id: int, response_id: int, featured: bool) -> bool:
    """Feature a response's words on the public results page, or stop; False
    when there is no such response."""
    result = session.execute(
        sa.update(Response)
        .where(col(Response.survey_id) == survey_id, col(Response.id) == response_id)
        .values(featured_at=utcnow() if featured else None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def featured_answers(
    conn: sa.Connection, *, survey_id: int, limit: int = 50
) -> list[tuple[int, dict[str, Any]]]:
    """The featured responses, most recently featured first, as (id, answers)."""
    rows = conn.execute(
        sa.select(_RESPONSES.c.id, _RESPONSES.c.answers)
        .where(_RESPONSES.c.survey_id == survey_id, _RESPONSES.c.featured_at.is_not(None))
        .order_by(_RESPONSES.c.featured_at.desc())
        .limit(limit)
    )
    return [(int(i), dict(answers)) for i, answers in rows]


def is_featured(conn: sa.Connection, *, response_id: int) -> bool:
    found = conn.execute(
        sa.select(_RESPONSES.c.featured_at).where(_RESPONSES.c.id == response_id)
    ).scalar()
    return found is not None


def delete_response(session: Session, *, survey_id: int, response_id: int) -> bool:
    """Really delete one response; False when there was none."""
    result = session.execute(
        sa.delete(Response).where(
            col(Response.survey_id) == survey_id, col(Response.id) == response_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SurveyCounts:
    total: int
    last_week: int
    last_response_at: datetime | None


def survey_counts(session: Session, *, now: datetime) -> dict[int, SurveyCounts]:
    """Per survey id: responses in all, in the last 7 days, and the newest one's time."""
    week_ago = now - timedelta(days=7)
    rows = session.execute(
        sa.select(
            col(Response.survey_id),
            sa.func.count(),
            sa.func.coalesce(
                sa.func.sum(sa.case((col(Response.submitted_at) >= week_ago, 1), else_=0)), 0
            ),
            sa.func.max(col(Response.submitted_at)).label("last"),
        ).group_by(col(Response.survey_id))
    ).all()
    counts = {}
    for survey_id, total, last_week, last in rows:
        if isinstance(last, str):  # SQLite's max() of a timestamp is its stored text
            last = datetime.fromisoformat(last).replace(tzinfo=UTC)
        counts[int(survey_id)] = SurveyCounts(int(total), int(last_week), last)
    return counts
