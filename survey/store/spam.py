"""The spam folder: submissions held back (honeypot, too fast)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
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
