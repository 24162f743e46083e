"""The outbox: what a stored response must cause (webhook deliveries, emails
to the staff who asked for one per response) is written in the transaction
that stores the response, and claimed later by one worker at a time."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect

from survey.models import (
    MailOutbox,
    NotificationChoice,
    StaffUser,
    Webhook,
    WebhookDelivery,
    utcnow,
)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# Retries, for webhook events and emails alike: 8 attempts over at least 2 hours.
MAX_ATTEMPTS = 8
FIRST_WAIT = 60.0
LONGEST_WAIT = 2 * 3600.0
DELIVERIES = WebhookDelivery.__table__  # type: ignore[attr-defined]
MAILS = MailOutbox.__table__  # type: ignore[attr-defined]
_HOOKS = Webhook.__table__  # type: ignore[attr-defined]
_CHOICES = NotificationChoice.__table__  # type: ignore[attr-defined]
_USERS = StaffUser.__table__  # type: ignore[attr-defined]
_INSERT_DELIVERY = {
    name: dialect.insert(DELIVERIES).on_conflict_do_nothing(
        index_elements=["webhook_id", "response_id"]
    )
    for name, dialect in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect))
}
_INSERT_MAIL = {
    name: dialect.insert(MAILS).on_conflict_do_nothing(
        index_elements=["staff_user_id", "response_id"]
    )
    for name, dialect in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect))
}


@dataclass(frozen=True)
class StoredResponse:
    """A response just stored: what its outbox rows need (the rest is read
    from the response when they are sent)."""

    id: int
    survey_id: int


def enqueue(conn: sa.Connection, stored: Sequence[StoredResponse], *, mail: bool = False) -> int:
    """One delivery per response and webhook of its survey (a paused webhook's
    wait until it is resumed), and with ``mail`` one email per response and
    staff member who asked for each, in the caller's transaction (the one
    that stored the responses).  A response already enqueued (a form sent
    twice) gets no second delivery and no second email.  Returns how many
    rows were asked for."""
    if not stored:
        return 0
    surveys = {row.survey_id for row in stored}
    # First who is to be told (most surveys: nobody; one small query, then done).
    wanted: sa.Select[Any] | sa.CompoundSelect[Any] = sa.select(
        sa.literal("hook"), _HOOKS.c.id, _HOOKS.c.survey_id
    ).where(_HOOKS.c.survey_id.in_(surveys))
    if mail:
        wanted = sa.union_all(
            wanted,
            sa.select(sa.literal("mail"), _CHOICES.c.staff_user_id, _CHOICES.c.survey_id)
            .select_from(_CHOICES.join(_USERS))
            .where(
                _CHOICES.c.survey_id.in_(surveys),
                _CHOICES.c.mode == "each",
                _USERS.c.disabled_at.is_(None),
            ),
        )
    targets = conn.execute(wanted).all()
    if not targets:
        return 0
    now = utcnow()
    hooks = [(int(i), int(s)) for kind, i, s in targets if kind == "hook"]
    mails = [
        {
            "kind": "response",
            "staff_user_id": int(user),
            "survey_id": response.survey_id,
            "response_id": response.id,
            **_fresh(now),
        }
        for kind, user, survey in targets
        if kind == "mail"
        for response in stored
        if response.survey_id == survey
    ]
    if mails:
        conn.execute(_INSERT_MAIL[conn.dialect.name], mails)
    if not hooks:
        return len(mails)
    # The event's body is built when it is sent, from the stored response
    # (store.webhooks.event_body): the row here is small, and the answers are
    # not written twice.
    rows = [
        {
            "webhook_id": hook_id,
            "response_id": response.id,
            "event_id": new_event_id(),
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_until": None,
            "last_result": None,
            "created_at": now,
        }
        for response in stored
        for hook_id, hook_survey in hooks
        if hook_survey == response.survey_id
    ]
    if rows:
        conn.execute(_INSERT_DELIVERY[conn.dialect.name], rows)
    return len(rows) + len(mails)


def wait_before(attempts: int, retry_after: str | None = None) -> float:
    """Seconds until the next attempt: 1, 2, 4 ... minutes (at most 2 hours)
    plus up to a quarter more at random, or the receiver's Retry-After (capped)."""
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), LONGEST_WAIT)
    ceiling: float = min(FIRST_WAIT * 2.0 ** (attempts - 1), LONGEST_WAIT)
    # At least the ceiling, so 8 attempts span at least 127 minutes.
    return ceiling + random.uniform(0, ceiling / 4)


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _fresh(now: datetime) -> dict[str, Any]:
    return {
        "payload": {},
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "created_at": now,
    }


def anything_due(conn: sa.Connection, table: sa.Table, *, now: datetime) -> bool:
    """A cheap read before claiming: most passes find nothing to do, and a
    claim is a write (on SQLite, the one write lock)."""
    found = conn.execute(
        sa.select(table.c.id)
        .where(table.c.status == PENDING, table.c.next_attempt_at <= now)
        .limit(1)
    ).first()
    return found is not None


def claim(
    conn: sa.Connection,
    table: sa.Table,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    where: Sequence[sa.ColumnElement[bool]] = (),
) -> list[int]:
    """Rows of ``table`` due now that no live claim holds, claimed for
    ``lease`` (a claimer that dies lets them go when it ends).  On PostgreSQL
    they are picked with FOR UPDATE SKIP LOCKED, so workers on several hosts
    never claim the same one; SQLite's write transactions take turns anyway."""
    due = (
        sa.select(table.c.id)
        .where(
            table.c.status == PENDING,
            table.c.next_attempt_at <= now,
            sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
            *where,
        )
        .order_by(table.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [int(i) for i in conn.execute(due).scalars()]
    if ids:
        conn.execute(sa.update(table).where(table.c.id.in_(ids)).values(claimed_until=now + lease))
    return ids


def settle(
    conn: sa.Connection,
    table: sa.Table,
    *,
    row_id: int,
    status: str,
    attempts: int,
    next_attempt_at: datetime,
    result: str,
) -> None:
    """The outcome of one attempt; the claim ends with it."""
    conn.execute(
        sa.update(table)
        .where(table.c.id == row_id)
        .values(
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            claimed_until=None,
            last_result=result[:1200],
        )
    )
