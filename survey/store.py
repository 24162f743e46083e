"""Every query and every write.  Functions here add and flush; they never commit:
the request (or CLI command) commits once, after everything is checked."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlmodel import Session, col, select

from survey.definitions import KEY_PATTERN, SurveyDefinition
from survey.models import (
    ApiToken,
    AppSecret,
    Response,
    SpamSubmission,
    Survey,
    SurveyVersion,
    utcnow,
)

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
            "submitted_at": utcnow(),
            "answers": answers,
            "source": source,
            "csv_cells": csv_cells,
            "submission_key": submission_key,
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
_FIND_SUBMISSION = sa.select(_RESPONSES.c.id, _RESPONSES.c.submitted_at).where(
    _RESPONSES.c.survey_id == sa.bindparam("survey_id"),
    _RESPONSES.c.submission_key == sa.bindparam("submission_key"),
)


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
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    batch_size: int = 2000,
) -> Iterator[Sequence[Any]]:
    """Rows for the CSV export, flattened by the database itself.

    Each row is (id, submitted_at as ISO text, version number, source, the
    stored CSV cells, then one value per key; a multiple choice comes already
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
                "(SELECT group_concat(CASE WHEN e.value = 'other' AND "  # noqa: S608
                f"json_extract(r.answers, '$.{other}') IS NOT NULL THEN 'other: ' || "
                f"json_extract(r.answers, '$.{other}') ELSE e.value END, '; ') "
                f"FROM json_each(r.answers, '$.{key}') AS e)"
            )
        else:
            cells.append(
                "(SELECT string_agg(CASE WHEN e.value = 'other' AND "  # noqa: S608
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

    conditions = [f"r.survey_id = {mark('survey_id')}"]
    params: dict[str, Any] = {"survey_id": survey_id}
    for column, op, name, value in (
        ("submitted_at", ">=", "since", since),
        ("submitted_at", "<", "until", until),
        ("source", "=", "source", source),
    ):
        if value is not None:
            conditions.append(f"r.{column} {op} {mark(name)}")
            if isinstance(value, datetime):
                value = value.astimezone(UTC)
                # SQLite keeps timestamps as text in SQLAlchemy's format.
                value = value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value
            params[name] = value
    params["current"] = current_version_id
    has_cells = f"r.csv_cells IS NOT NULL AND r.survey_version_id = {mark('current')}"
    cells = [f"CASE WHEN {has_cells} THEN NULL ELSE {cell} END" for cell in cells]
    query = (
        f"SELECT r.id, {when}, v.version, r.source, "  # noqa: S608 - keys match KEY_PATTERN
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
