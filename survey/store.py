"""Every query and every write.  Functions here add and flush; they never commit:
the request (or CLI command) commits once, after everything is checked."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlmodel import Session, col, select

from survey.definitions import KEY_PATTERN, SurveyDefinition
from survey.filters import TEXT_TYPES, ResponseFilter
from survey.models import (
    ApiToken,
    AppSecret,
    AuditEvent,
    JSONDocument,
    RateLimitHit,
    Response,
    SpamSubmission,
    StaffSession,
    StaffUser,
    Survey,
    SurveyVersion,
    UTCDateTime,
    utcnow,
)

_NO_FILTER = ResponseFilter()
TOKEN_PREFIX = "rs_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot


@dataclass(frozen=True)
class LoadResult:
    slug: str
    version: int
    outcome: str  # "created", "new version", "updated" (same questions) or "unchanged"


def get_survey(session: Session, *, slug: str) -> Survey | None:
    return session.exec(select(Survey).where(Survey.slug == slug)).first()


def list_surveys(session: Session) -> list[Survey]:
    return list(session.exec(select(Survey).order_by(col(Survey.slug))).all())


def current_version(session: Session, *, survey: Survey) -> SurveyVersion:
    return session.exec(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.version == survey.current_version
        )
    ).one()


def survey_versions(session: Session, *, survey_id: int) -> list[SurveyVersion]:
    """Every version of a survey, newest first."""
    return list(
        session.exec(
            select(SurveyVersion)
            .where(SurveyVersion.survey_id == survey_id)
            .order_by(col(SurveyVersion.version).desc())
        ).all()
    )


def load_definition(session: Session, *, definition: SurveyDefinition) -> LoadResult:
    """Create or update a survey from its file; new questions make a new version."""
    now = utcnow()
    document = definition.model_dump(mode="json")
    questions = definition.questions_json()
    survey = get_survey(session, slug=definition.slug)
    if survey is None:
        survey = Survey(
            slug=definition.slug,
            definition=document,
            current_version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(survey)
        session.flush()
        assert survey.id is not None
        session.add(
            SurveyVersion(survey_id=survey.id, version=1, questions=questions, created_at=now)
        )
        session.flush()
        return LoadResult(definition.slug, 1, "created")

    latest = current_version(session, survey=survey)
    outcome = "unchanged"
    if _canonical(latest.questions) != _canonical(questions):
        assert survey.id is not None
        survey.current_version = latest.version + 1
        session.add(
            SurveyVersion(
                survey_id=survey.id,
                version=survey.current_version,
                questions=questions,
                created_at=now,
            )
        )
        outcome = "new version"
    elif _canonical(survey.definition) != _canonical(document):
        outcome = "updated"
    if outcome != "unchanged":
        survey.definition = document
        survey.updated_at = now
        session.add(survey)
        session.flush()
    return LoadResult(definition.slug, survey.current_version, outcome)


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def insert_response(
    conn: sa.Connection,
    *,
    survey_id: int,
    survey_version_id: int,
    answers: dict[str, Any],
    source: str | None = None,
    csv_cells: str | None = None,
    submission_key: str | None = None,
    language: str | None = None,
    submitted_at: datetime | None = None,
) -> tuple[int, datetime]:
    """The hot path's write: one INSERT on a plain connection, returning the new
    id and time (the ORM's unit of work costs several times more per row).

    A response whose ``submission_key`` is already stored for the survey (the
    same form sent twice, a retried Idempotency-Key) stores nothing new: the
    id and time of the first one come back instead.
    """
    row = conn.execute(
        _INSERT_RESPONSE[conn.dialect.name],
        {
            "survey_id": survey_id,
            "survey_version_id": survey_version_id,
            "submitted_at": submitted_at or utcnow(),
            "answers": answers,
            "source": source,
            "csv_cells": csv_cells,
            "submission_key": submission_key,
            "language": language,
        },
    ).first()
    if row is None:
        row = conn.execute(
            _FIND_SUBMISSION, {"survey_id": survey_id, "submission_key": submission_key}
        ).one()
    return int(row[0]), row[1]


# Built once: the same statement objects hit SQLAlchemy's compiled cache at once.
_RESPONSES = Response.__table__  # type: ignore[attr-defined]
_INSERT_RESPONSE = {
    name: dialect.insert(_RESPONSES)
    .on_conflict_do_nothing(index_elements=["survey_id", "submission_key"])
    .returning(_RESPONSES.c.id, _RESPONSES.c.submitted_at)
    for name, dialect in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect))
}
_INSERT_COLUMNS = (
    "survey_id",
    "survey_version_id",
    "submitted_at",
    "answers",
    "source",
    "csv_cells",
    "submission_key",
    "language",
)
_PG_INSERT_SQL = str(
    _INSERT_RESPONSE["postgresql"].compile(
        dialect=postgresql_dialect.psycopg.dialect(),  # type: ignore[no-untyped-call]
        column_keys=list(_INSERT_COLUMNS),
    )
)


def insert_responses(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[tuple[int, datetime]]:
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
                found = conn.execute(
                    _FIND_SUBMISSION,
                    {"survey_id": row["survey_id"], "submission_key": row["submission_key"]},
                ).one()
            results.append((int(found[0]), found[1]))
            cursor.nextset()
    return results


_FIND_SUBMISSION = sa.select(_RESPONSES.c.id, _RESPONSES.c.submitted_at).where(
    _RESPONSES.c.survey_id == sa.bindparam("survey_id"),
    _RESPONSES.c.submission_key == sa.bindparam("submission_key"),
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


def purge_hits(session: Session, *, before: datetime) -> None:
    session.execute(sa.delete(RateLimitHit).where(col(RateLimitHit.window_start) < before))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str) -> tuple[ApiToken, str]:
    """A new API token; the plain token is returned once and only its hash is kept."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_token(plain), created_at=utcnow())
    session.add(token)
    session.flush()
    return token, plain


def find_active_token(session: Session, *, plain: str) -> ApiToken | None:
    return session.exec(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(plain), col(ApiToken.revoked_at).is_(None)
        )
    ).first()


def app_secret(session: Session, *, name: str) -> str:
    """A random secret made once and kept, so every worker and host shares it.

    Two processes starting together may both try to create it; the primary key
    lets exactly one win and both read the winner's value.
    """
    existing = session.get(AppSecret, name)
    if existing is not None:
        return existing.value
    candidate = secrets.token_urlsafe(48)
    try:
        with session.begin_nested():
            session.add(AppSecret(name=name, value=candidate, created_at=utcnow()))
    except sa.exc.IntegrityError:
        pass
    stored = session.get(AppSecret, name, populate_existing=True)
    assert stored is not None
    return stored.value


def insert_spam(
    conn: sa.Connection,
    *,
    survey_id: int,
    reason: str,
    fields: dict[str, Any],
    source: str | None,
) -> None:
    table = SpamSubmission.__table__  # type: ignore[attr-defined]
    conn.execute(
        sa.insert(table).values(
            survey_id=survey_id,
            received_at=utcnow(),
            reason=reason,
            fields=fields,
            source=source,
        )
    )


def purge_expired(session: Session, *, now: datetime) -> dict[str, int]:
    """Delete responses (and spam) older than each survey's retention_days.

    Real deletion, not a flag; safe to run from several processes at once.
    """
    deleted: dict[str, int] = {}
    for survey in list_surveys(session):
        days = survey.definition.get("retention_days")
        if not days:
            continue
        cutoff = now - timedelta(days=int(days))
        result = session.execute(
            sa.delete(Response).where(
                col(Response.survey_id) == survey.id, col(Response.submitted_at) < cutoff
            )
        )
        session.execute(
            sa.delete(SpamSubmission).where(
                col(SpamSubmission.survey_id) == survey.id,
                col(SpamSubmission.received_at) < cutoff,
            )
        )
        deleted[survey.slug] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return deleted


def list_spam(session: Session, *, survey_id: int, limit: int = 200) -> list[SpamSubmission]:
    """The spam folder, newest first."""
    return list(
        session.exec(
            select(SpamSubmission)
            .where(SpamSubmission.survey_id == survey_id)
            .order_by(col(SpamSubmission.id).desc())
            .limit(limit)
        ).all()
    )


def get_spam(session: Session, *, survey_id: int, spam_id: int) -> SpamSubmission | None:
    spam = session.get(SpamSubmission, spam_id)
    return spam if spam is not None and spam.survey_id == survey_id else None


def count_spam(session: Session, *, survey_id: int) -> dict[str, int]:
    """How many submissions went to the spam folder, by reason."""
    rows = session.exec(
        select(SpamSubmission.reason, sa.func.count())
        .where(SpamSubmission.survey_id == survey_id)
        .group_by(SpamSubmission.reason)
    ).all()
    return {reason: int(count) for reason, count in rows}


def iter_export_rows(
    conn: sa.Connection,
    *,
    survey_id: int,
    keys: list[tuple[str, bool]],  # (key, is a multiple choice)
    current_version_id: int,
    where: ResponseFilter = _NO_FILTER,
    types: dict[str, str] | None = None,
    batch_size: int = 2000,
) -> Iterator[Sequence[Any]]:
    """Rows for the CSV export, flattened by the database itself.

    Each row is (id, submitted_at as ISO text, version number, source,
    language, the stored CSV cells, then one value per key; a multiple choice comes already
    joined as "a; other: text").  A row of the current version that has its
    cells needs nothing more, so its per-key values are not even extracted
    (NULL); other rows get the values and no cells.  Pulling the
    answers out of the JSON document in SQL (json_extract, ->>) and reading
    plain tuples keeps Python's work per row to formatting a few cells: that
    is what makes a million-row export take seconds rather than a minute.
    Keys are checked against KEY_PATTERN when a survey is loaded, so they can
    be written into the query.
    """
    sqlite = conn.dialect.name == "sqlite"
    cells = []
    for key, is_list in keys:
        assert re.fullmatch(KEY_PATTERN, key), key
        other = f"{key}_other"
        if not is_list:
            cells.append(
                f"json_extract(r.answers, '$.{key}')" if sqlite else f"r.answers ->> '{key}'"
            )
        elif sqlite:
            # A multiple choice becomes "a; b; other: <text>" in the database too.
            cells.append(
                "(SELECT group_concat(CASE WHEN e.value = 'other' AND "
                f"json_extract(r.answers, '$.{other}') IS NOT NULL THEN 'other: ' || "
                f"json_extract(r.answers, '$.{other}') ELSE e.value END, '; ') "
                f"FROM json_each(r.answers, '$.{key}') AS e)"
            )
        else:
            cells.append(
                "(SELECT string_agg(CASE WHEN e.value = 'other' AND "
                f"r.answers ? '{other}' THEN 'other: ' || (r.answers ->> '{other}') "
                "ELSE e.value END, '; ' ORDER BY e.n) FROM jsonb_array_elements_text("
                f"CASE WHEN jsonb_typeof(r.answers -> '{key}') = 'array' "
                f"THEN r.answers -> '{key}' END) WITH ORDINALITY AS e(value, n))"
            )
    when = (
        "strftime('%Y-%m-%dT%H:%M:%SZ', r.submitted_at)"
        if sqlite
        else "to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    )
    # The driver's own cursor: plain tuples, no per-row work by SQLAlchemy (a
    # third of the time at a million rows).  PostgreSQL gets a named, server-side
    # cursor so that memory stays flat; SQLite's cursor is lazy already.

    def mark(name: str) -> str:
        return f":{name}" if sqlite else f"%({name})s"

    conditions, params = filter_sql(where, types=types or {}, sqlite=sqlite, mark=mark)
    conditions.insert(0, f"r.survey_id = {mark('survey_id')}")
    params["survey_id"] = survey_id
    params["current"] = current_version_id
    has_cells = f"r.csv_cells IS NOT NULL AND r.survey_version_id = {mark('current')}"
    cells = [f"CASE WHEN {has_cells} THEN NULL ELSE {cell} END" for cell in cells]
    query = (
        f"SELECT r.id, {when}, v.version, r.source, r.language, "
        f"CASE WHEN {has_cells} THEN r.csv_cells END, {', '.join(cells)} "
        "FROM response r JOIN survey_version v ON v.id = r.survey_version_id "
        f"WHERE {' AND '.join(conditions)} ORDER BY r.id"
    )
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor() if sqlite else dbapi.cursor(name="survey_export")
    try:
        cursor.execute(query, params)
        while rows := cursor.fetchmany(batch_size):
            yield from rows
    finally:
        cursor.close()


# --- Filters: the SQL for a ResponseFilter, shared by every staff query -------


def _answer(key: str, *, sqlite: bool, alias: str = "r") -> str:
    """A stored answer as text (NULL when missing); keys match KEY_PATTERN."""
    assert re.fullmatch(KEY_PATTERN, key), key
    if sqlite:
        return f"CAST(json_extract({alias}.answers, '$.{key}') AS TEXT)"
    return f"({alias}.answers ->> '{key}')"


def _search_keys(types: dict[str, str]) -> list[str]:
    keys = [key for key, kind in types.items() if kind in TEXT_TYPES]
    keys += [f"{key}_other" for key, kind in types.items() if kind == "multiple_choice"]
    return keys


def filter_sql(
    where: ResponseFilter,
    *,
    types: dict[str, str],
    sqlite: bool,
    mark: Callable[[str], str] = lambda name: f":{name}",
    alias: str = "r",
) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions and their parameters for a filter.

    ``types`` maps each question key the survey ever had to its type; filter
    keys are checked against the survey's questions before they get here and
    match KEY_PATTERN, so they can be written into the SQL.  No ``%`` appears,
    so the text works for the DB-API cursor and for ``sa.text`` alike.
    """
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for column, op, name, value in (
        ("submitted_at", ">=", "since", where.since),
        ("submitted_at", "<", "until", where.until),
        ("source", "=", "source", where.source),
    ):
        if value is not None:
            conditions.append(f"{alias}.{column} {op} {mark(name)}")
            params[name] = (
                _bind_time(value, sqlite=sqlite) if isinstance(value, datetime) else value
            )
    for number, (key, value) in enumerate(where.answers):
        name = f"answer_{number}"
        params[name] = value
        if types.get(key) != "multiple_choice":
            conditions.append(f"{_answer(key, sqlite=sqlite, alias=alias)} = {mark(name)}")
        elif sqlite:
            conditions.append(
                f"EXISTS (SELECT 1 FROM json_each({alias}.answers, '$.{key}') AS e "
                f"WHERE e.value = {mark(name)})"
            )
        else:
            conditions.append(
                f"(jsonb_typeof({alias}.answers -> '{key}') = 'array' AND "
                f"{alias}.answers -> '{key}' @> jsonb_build_array(CAST({mark(name)} AS text)))"
            )
    if where.search:
        keys = _search_keys(types)
        if sqlite and where.search.isascii():
            # SQLite's own LIKE folds ASCII case in C, without calling back
            # into Python for every answer of every row.
            escaped = re.sub(r"([%_!])", r"!\1", where.search)
            params["search"] = f"%{escaped}%"
            found = [
                f"{_answer(k, sqlite=True, alias=alias)} LIKE {mark('search')} ESCAPE '!'"
                for k in keys
            ]
        elif sqlite:
            params["search"] = where.search.casefold()
            found = [
                f"instr(casefold({_answer(k, sqlite=True, alias=alias)}), {mark('search')}) > 0"
                for k in keys
            ]
        else:
            params["search"] = where.search
            found = [
                f"strpos(lower({_answer(k, sqlite=False, alias=alias)}), "
                f"lower({mark('search')})) > 0"
                for k in keys
            ]
        conditions.append(f"({' OR '.join(found)})" if found else "1 = 0")
    return conditions, params


def _bind_time(value: datetime, *, sqlite: bool) -> Any:
    value = value.astimezone(UTC)
    # SQLite keeps timestamps as text in SQLAlchemy's format.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value


def _where(
    conn: sa.Connection, survey_id: int, where: ResponseFilter, types: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    conditions, params = filter_sql(where, types=types, sqlite=conn.dialect.name == "sqlite")
    params["survey_id"] = survey_id
    return " AND ".join(["r.survey_id = :survey_id", *conditions]), params


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
    conn: sa.Connection, *, survey_id: int, where: ResponseFilter, types: dict[str, str]
) -> Iterator[AnswerRow]:
    """Every matching response, oldest first, answers as stored (streamed)."""
    condition, params = _where(conn, survey_id, where, types)
    yield from _answer_rows(conn, f"{_ROW_COLUMNS}WHERE {condition} ORDER BY r.id", params)


def page_of_responses(
    conn: sa.Connection,
    *,
    survey_id: int,
    where: ResponseFilter,
    types: dict[str, str],
    before: int | None = None,
    after: int | None = None,
    size: int = 50,
) -> tuple[list[AnswerRow], bool]:
    """A page of matching responses, newest first, and whether there are more.

    Keyset pagination on the id: ``before`` gives the page of older
    responses, ``after`` the page of newer ones.  The database walks the
    primary key from the cursor, so a page far back costs what the first does.
    """
    condition, params = _where(conn, survey_id, where, types)
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


def count_responses(
    conn: sa.Connection, *, survey_id: int, where: ResponseFilter, types: dict[str, str]
) -> int:
    condition, params = _where(conn, survey_id, where, types)
    query = f"SELECT count(*) FROM response r WHERE {condition}"
    return int(conn.execute(sa.text(query), params).scalar_one())


def get_response(conn: sa.Connection, *, survey_id: int, response_id: int) -> AnswerRow | None:
    query = f"{_ROW_COLUMNS}WHERE r.survey_id = :survey_id AND r.id = :response_id"
    rows = list(_answer_rows(conn, query, {"survey_id": survey_id, "response_id": response_id}))
    return rows[0] if rows else None


def delete_response(session: Session, *, survey_id: int, response_id: int) -> bool:
    """Really delete one response; False when there was none."""
    result = session.execute(
        sa.delete(Response).where(
            col(Response.survey_id) == survey_id, col(Response.id) == response_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- Summaries ----------------------------------------------------------------


def answer_groups(
    conn: sa.Connection,
    *,
    survey_id: int,
    where: ResponseFilter,
    types: dict[str, str],
    group_keys: list[str],
    count_keys: list[str],
) -> list[tuple[Any, ...]]:
    """One pass over the matching responses for the summary.

    Rows are grouped by the answers to ``group_keys`` together (each as text;
    a multiple choice as its JSON array), so one scan yields every choice
    question's counts: a handful of distinct combinations, not one row per
    response.  Each row is (value per group key..., responses, then per
    ``count_keys`` key how many of them answered it).  Pulling answers out of
    the JSON is what the time goes on, so each is pulled once per row.
    """
    sqlite = conn.dialect.name == "sqlite"
    condition, params = _where(conn, survey_id, where, types)
    values = [_answer(key, sqlite=sqlite) for key in group_keys]
    sums = [
        f"coalesce(sum(CASE WHEN {_answer(key, sqlite=sqlite)} <> '' THEN 1 ELSE 0 END), 0)"
        for key in count_keys
    ]
    query = f"SELECT {', '.join([*values, 'count(*)', *sums])} FROM response r WHERE {condition}"
    if values:
        query += f" GROUP BY {', '.join(str(n) for n in range(1, len(values) + 1))}"
    return [tuple(row) for row in conn.execute(sa.text(query), params)]


def latest_answers(
    conn: sa.Connection,
    *,
    survey_id: int,
    where: ResponseFilter,
    types: dict[str, str],
    key: str,
    limit: int = 5,
) -> list[tuple[int, str]]:
    """The newest non-empty answers to a question, as (response id, text)."""
    value = _answer(key, sqlite=conn.dialect.name == "sqlite")
    condition, params = _where(conn, survey_id, where, types)
    params["limit"] = limit
    query = (
        f"SELECT r.id, {value} FROM response r "
        f"WHERE {condition} AND {value} <> '' ORDER BY r.id DESC LIMIT :limit"
    )
    return [(int(i), str(text)) for i, text in conn.execute(sa.text(query), params)]


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


# --- Erasure by email address ---------------------------------------------------


def _email_keys(session: Session) -> dict[int, list[str]]:
    """Per survey id, the keys of every email question any version asked."""
    keys: dict[int, list[str]] = {}
    for version in session.exec(select(SurveyVersion)):
        for question in version.questions:
            if question.get("type") == "email":
                found = keys.setdefault(version.survey_id, [])
                if question["key"] not in found:
                    found.append(question["key"])
    return keys


def _email_matches(session: Session, email: str) -> tuple[str, str, dict[str, Any]]:
    """Conditions on responses (r) and spam (s) for everything sent with this email."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    params: dict[str, Any] = {"email": email.strip().casefold() if sqlite else email.strip()}
    fold = "casefold({})" if sqlite else "lower({})"
    target = ":email" if sqlite else "lower(:email)"
    responses, spam = [], []
    for survey_id, keys in sorted(_email_keys(session).items()):
        params[f"survey_{survey_id}"] = survey_id
        for key in keys:
            answer = fold.format(_answer(key, sqlite=sqlite))
            responses.append(f"(r.survey_id = :survey_{survey_id} AND {answer} = {target})")
            sent = (
                f"json_each(s.fields, '$.{key}') AS e"
                if sqlite
                else f"jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.fields -> '{key}') "
                f"= 'array' THEN s.fields -> '{key}' END) AS e(value)"
            )
            spam.append(
                f"(s.survey_id = :survey_{survey_id} AND EXISTS (SELECT 1 FROM {sent} "
                f"WHERE {fold.format('e.value')} = {target}))"
            )
    return " OR ".join(responses) or "1 = 0", " OR ".join(spam) or "1 = 0", params


def count_by_email(session: Session, *, email: str) -> dict[str, int]:
    """Per survey slug, how many responses were sent with this email address."""
    responses, _spam, params = _email_matches(session, email)
    query = (
        "SELECT v.slug, count(*) FROM response r JOIN survey v ON v.id = r.survey_id "
        f"WHERE {responses} GROUP BY v.slug ORDER BY v.slug"
    )
    return {slug: int(n) for slug, n in session.execute(sa.text(query), params)}


def erase_by_email(session: Session, *, email: str) -> tuple[int, int]:
    """Delete every response (and held spam) sent with this email address.

    Matched case-insensitively against every email question of every survey
    and version.  Returns (responses deleted, spam submissions deleted).
    """
    responses, spam, params = _email_matches(session, email)
    deleted = session.execute(
        sa.text(f"DELETE FROM response AS r WHERE {responses}"),
        params,
    )
    deleted_spam = session.execute(
        sa.text(f"DELETE FROM spam_submission AS s WHERE {spam}"),
        params,
    )
    return int(deleted.rowcount or 0), int(deleted_spam.rowcount or 0)  # type: ignore[attr-defined]


# --- Staff accounts, sessions, the audit trail ---------------------------------


def create_user(session: Session, *, email: str, password_hash: str, role: str) -> StaffUser:
    user = StaffUser(
        email=email.strip().lower(), password_hash=password_hash, role=role, created_at=utcnow()
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, *, email: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.email == email.strip().lower())).first()


def list_users(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).order_by(col(StaffUser.email))).all())


def disable_user(session: Session, *, user: StaffUser) -> None:
    """Disable an account and sign it out everywhere at once."""
    user.disabled_at = user.disabled_at or utcnow()
    session.add(user)
    session.execute(sa.delete(StaffSession).where(col(StaffSession.user_id) == user.id))
    session.flush()


def enable_user(session: Session, *, user: StaffUser) -> None:
    user.disabled_at = None
    session.add(user)
    session.flush()


def create_session(
    session: Session, *, user: StaffUser, lifetime: timedelta
) -> tuple[StaffSession, str]:
    """A new signed-in session; the plain token goes into the cookie only."""
    assert user.id is not None
    plain = secrets.token_urlsafe(32)
    now = utcnow()
    staff_session = StaffSession(
        token_hash=hash_token(plain),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    user.last_sign_in_at = now
    session.add_all([staff_session, user])
    session.flush()
    return staff_session, plain


def find_session(
    session: Session, *, plain: str, now: datetime
) -> tuple[StaffSession, StaffUser] | None:
    """The live session for a cookie's token, with its (enabled) user."""
    row = session.exec(
        select(StaffSession, StaffUser)
        .join(StaffUser, col(StaffUser.id) == StaffSession.user_id)
        .where(
            StaffSession.token_hash == hash_token(plain),
            StaffSession.expires_at > now,
            col(StaffUser.disabled_at).is_(None),
        )
    ).first()
    return None if row is None else (row[0], row[1])


def end_session(session: Session, *, staff_session_id: int) -> None:
    session.execute(sa.delete(StaffSession).where(col(StaffSession.id) == staff_session_id))


def purge_sessions(session: Session, *, now: datetime) -> None:
    session.execute(sa.delete(StaffSession).where(col(StaffSession.expires_at) <= now))


def record(
    session: Session,
    *,
    action: str,
    actor: str | None,
    client: str | None = None,
    survey_slug: str | None = None,
    **detail: Any,
) -> None:
    """One line of the audit trail, in the same transaction as what it records."""
    session.add(
        AuditEvent(
            at=utcnow(),
            actor=actor,
            action=action,
            survey_slug=survey_slug,
            client=client,
            detail=detail,
        )
    )
    session.flush()


def recent_failures(
    session: Session, *, since: datetime, email: str, client: str | None
) -> tuple[int, int]:
    """Failed sign-ins since a moment: for this account, and from this client."""
    failed = (
        select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "sign_in_failed", AuditEvent.at >= since)
    )
    for_account = session.exec(failed.where(AuditEvent.actor == email.strip().lower())).one()
    from_client = session.exec(failed.where(AuditEvent.client == client)).one() if client else 0
    return int(for_account), int(from_client)


def audit_page(
    session: Session, *, before: int | None = None, size: int = 100
) -> tuple[list[AuditEvent], bool]:
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(size + 1)
    if before is not None:
        query = query.where(col(AuditEvent.id) < before)
    events = list(session.exec(query).all())
    return events[:size], len(events) > size


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.id).desc())).all())


def revoke_token(session: Session, *, token_id: int) -> ApiToken | None:
    token = session.get(ApiToken, token_id)
    if token is None:
        return None
    token.revoked_at = token.revoked_at or utcnow()
    session.add(token)
    session.flush()
    return token
