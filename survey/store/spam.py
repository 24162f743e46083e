"""The spam folder: submissions held back (honeypot, too fast)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from survey.models import (
    SpamSubmission,
    utcnow,
)


def insert_spam(
    conn: sa.Connection,
    *,
    survey_id: int,
    reason: str,
    fields: dict[str, Any],
    source: str | None,
    submission_key: str | None = None,
) -> bool:
    """Hold a submission in the spam folder; False when the same rendered form
    (``submission_key``) is already there: a replayed token adds nothing."""
    table = SpamSubmission.__table__  # type: ignore[attr-defined]
    insert = (sqlite_insert if conn.dialect.name == "sqlite" else postgresql_insert)(table)
    result = conn.execute(
        insert.values(
            survey_id=survey_id,
            received_at=utcnow(),
            reason=reason,
            fields=fields,
            source=source,
            submission_key=submission_key,
        ).on_conflict_do_nothing(index_elements=["survey_id", "submission_key"])
    )
    return bool(result.rowcount)


def purge_spam(session: Session, *, before: datetime) -> int:
    """The spam folder's own retention, whatever each survey keeps."""
    result = session.execute(
        sa.delete(SpamSubmission).where(col(SpamSubmission.received_at) < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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


def delete_spam(session: Session, *, spam: SpamSubmission) -> None:
    session.delete(spam)
    session.flush()


def delete_all_spam(session: Session, *, survey_id: int) -> int:
    """Empty a survey's spam folder; how many submissions went."""
    result = session.execute(
        sa.delete(SpamSubmission).where(col(SpamSubmission.survey_id) == survey_id)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
