"""Email notifications: each staff member's choice per survey, the digests
due, the admins told of a webhook that paused itself, and the mail outbox's
rows as the sender reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from survey.models import MailOutbox, NotificationChoice, Response, StaffUser, utcnow
from survey.store import outbox

MODES = ("each", "daily", "off")
_CHOICES = NotificationChoice.__table__  # type: ignore[attr-defined]
_USERS = StaffUser.__table__  # type: ignore[attr-defined]
_RESPONSES = Response.__table__  # type: ignore[attr-defined]


def choices_of(session: Session, *, user_id: int) -> dict[int, str]:
    """survey id -> "each" or "daily" (a survey not named: nothing)."""
    rows = session.exec(
        select(NotificationChoice).where(NotificationChoice.staff_user_id == user_id)
    ).all()
    return {row.survey_id: row.mode for row in rows}


def set_choice(session: Session, *, user_id: int, survey_id: int, mode: str) -> bool:
    """Set one choice; returns whether it changed."""
    assert mode in MODES
    row = session.get(NotificationChoice, (user_id, survey_id))
    if (row.mode if row else "off") == mode:
        return False
    if mode == "off":
        session.delete(row)
    elif row is None:
        session.add(NotificationChoice(staff_user_id=user_id, survey_id=survey_id, mode=mode))
    else:
        row.mode = mode
        session.add(row)
    session.flush()
    return True


def stop_digest(session: Session, *, user_id: int) -> int:
    """Every daily digest choice of this person, off (the digest's own link)."""
    done = session.execute(
        sa.delete(NotificationChoice).where(
            col(NotificationChoice.staff_user_id) == user_id,
            col(NotificationChoice.mode) == "daily",
        )
    )
    return int(done.rowcount)  # type: ignore[attr-defined]


def remember_language(session: Session, *, user: StaffUser, lang: str) -> None:
    if user.language != lang:
        user.language = lang
        session.add(user)


def last_digest_time(now: datetime, hour: int) -> datetime:
    """The latest moment, at or before ``now``, when digests were due."""
    due = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return due if due <= now else due - timedelta(days=1)


def queue_digests(conn: sa.Connection, *, now: datetime, hour: int) -> int:
    """A digest row for each person whose daily digest is due and who has
    new responses in a survey they chose "daily" for: counted from the end of
    their last digest's period to the digest time.  Moving their mark and
    writing the row happen together, and only for the worker whose
    conditional update wins, so two workers never send the same digest.
    Nothing new: the mark moves, no email.  Returns how many rows."""
    due = last_digest_time(now, hour)
    daily = sa.select(_CHOICES.c.staff_user_id).where(_CHOICES.c.mode == "daily")
    people = conn.execute(
        sa.select(_USERS.c.id, _USERS.c.digest_sent_at).where(
            _USERS.c.disabled_at.is_(None),
            _USERS.c.id.in_(daily),
            sa.or_(_USERS.c.digest_sent_at.is_(None), _USERS.c.digest_sent_at < due),
        )
    ).all()
    written = 0
    for user_id, sent in people:
        moved = conn.execute(
            sa.update(_USERS)
            .where(_USERS.c.id == user_id, _USERS.c.digest_sent_at.is_not_distinct_from(sent))
            .values(digest_sent_at=due)
        )
        if not moved.rowcount:
            continue  # another worker took it
        since = sent or due - timedelta(days=1)
        counts = conn.execute(
            sa.select(_RESPONSES.c.survey_id, sa.func.count())
            .where(
                _RESPONSES.c.survey_id.in_(
                    sa.select(_CHOICES.c.survey_id).where(
                        _CHOICES.c.staff_user_id == user_id, _CHOICES.c.mode == "daily"
                    )
                ),
                _RESPONSES.c.submitted_at >= since,
                _RESPONSES.c.submitted_at < due,
            )
            .group_by(_RESPONSES.c.survey_id)
            .order_by(_RESPONSES.c.survey_id)
        ).all()
        if not counts:
            continue
        payload = {
            "since": since.isoformat(),
            "until": due.isoformat(),
            "surveys": [[int(survey), int(count)] for survey, count in counts],
        }
        _insert(conn, kind="digest", user_id=int(user_id), payload=payload, now=utcnow())
        written += 1
    return written


def tell_admins(conn: sa.Connection, *, survey_id: int, payload: dict[str, Any]) -> int:
    """An email to every active admin (a webhook paused itself)."""
    admins = conn.execute(
        sa.select(_USERS.c.id).where(_USERS.c.role == "admin", _USERS.c.disabled_at.is_(None))
    ).scalars()
    count = 0
    for user_id in admins:
        _insert(
            conn,
            kind="paused",
            user_id=int(user_id),
            payload=payload,
            now=utcnow(),
            survey_id=survey_id,
        )
        count += 1
    return count


def _insert(
    conn: sa.Connection,
    *,
    kind: str,
    user_id: int,
    payload: dict[str, Any],
    now: datetime,
    survey_id: int | None = None,
) -> None:
    conn.execute(
        sa.insert(outbox.MAILS).values(
            kind=kind,
            staff_user_id=user_id,
            survey_id=survey_id,
            response_id=None,
            payload=payload,
            status=outbox.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


@dataclass(frozen=True)
class ClaimedMail:
    id: int
    kind: str
    attempts: int
    user_id: int
    to: str
    language: str | None
    survey_id: int | None
    response_id: int | None
    payload: dict[str, Any]
    disabled: bool = False  # the account was disabled since: nothing is sent


def claim_mail(
    conn: sa.Connection, *, now: datetime, lease: timedelta, limit: int = 20
) -> list[ClaimedMail]:
    ids = outbox.claim(conn, outbox.MAILS, now=now, lease=lease, limit=limit)
    if not ids:
        return []
    mails = outbox.MAILS.c
    rows = conn.execute(
        sa.select(
            mails.id,
            mails.kind,
            mails.attempts,
            _USERS.c.id,
            _USERS.c.email,
            _USERS.c.language,
            mails.survey_id,
            mails.response_id,
            mails.payload,
            _USERS.c.disabled_at,
        )
        .select_from(outbox.MAILS.join(_USERS))
        .where(mails.id.in_(ids))
        .order_by(mails.id)
    ).all()
    return [
        ClaimedMail(*row[:8], payload=dict(row[8]), disabled=row[9] is not None) for row in rows
    ]


def mails_of(session: Session, *, user_id: int) -> list[MailOutbox]:
    return list(
        session.exec(
            select(MailOutbox)
            .where(MailOutbox.staff_user_id == user_id)
            .order_by(col(MailOutbox.id))
        ).all()
    )
