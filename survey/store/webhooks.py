"""Webhooks and their outbox: deliveries written in the transaction that
stores each response, claimed by one worker at a time, and their results."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlmodel import Session, col, select

from survey.export.common import format_time
from survey.models import Survey, SurveyVersion, Webhook, WebhookDelivery, utcnow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
_DELIVERIES = WebhookDelivery.__table__  # type: ignore[attr-defined]
_INSERT_DELIVERY = {
    name: dialect.insert(_DELIVERIES).on_conflict_do_nothing(
        index_elements=["webhook_id", "response_id"]
    )
    for name, dialect in (("sqlite", sqlite_dialect), ("postgresql", postgresql_dialect))
}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def add_webhook(session: Session, *, survey_id: int, url: str, format: str) -> Webhook:
    webhook = Webhook(
        survey_id=survey_id, url=url, format=format, secret=new_secret(), created_at=utcnow()
    )
    session.add(webhook)
    session.flush()
    return webhook


def list_webhooks(session: Session) -> list[tuple[Webhook, str]]:
    """Every webhook with its survey's slug."""
    rows = session.exec(
        select(Webhook, Survey.slug)
        .join(Survey, col(Survey.id) == Webhook.survey_id)
        .order_by(col(Webhook.id))
    ).all()
    return [(webhook, str(slug)) for webhook, slug in rows]


def remove_webhook(session: Session, *, webhook_id: int) -> bool:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        return False
    session.execute(sa.delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == webhook_id))
    session.delete(webhook)
    session.flush()
    return True


def delivery_counts(session: Session, *, webhook_id: int) -> dict[str, int]:
    rows = session.exec(
        select(WebhookDelivery.status, sa.func.count())
        .where(WebhookDelivery.webhook_id == webhook_id)
        .group_by(WebhookDelivery.status)
    ).all()
    return {str(status): int(count) for status, count in rows}


@dataclass(frozen=True)
class StoredResponse:
    """A response just stored, as its deliveries need it."""

    id: int
    survey_id: int
    survey_version_id: int
    submitted_at: datetime
    answers: dict[str, Any]
    source: str | None
    language: str | None


def enqueue(conn: sa.Connection, stored: Sequence[StoredResponse]) -> int:
    """One delivery per response and active webhook of its survey, in the
    caller's transaction (the one that stored the responses).  A response
    already enqueued (a form sent twice) gets nothing new.  Returns how many."""
    if not stored:
        return 0
    hooks_table = Webhook.__table__  # type: ignore[attr-defined]
    # First the webhooks (most surveys have none: one small query, then done).
    hooks = conn.execute(
        sa.select(hooks_table.c.id, hooks_table.c.survey_id).where(
            hooks_table.c.survey_id.in_({row.survey_id for row in stored}),
            hooks_table.c.paused_at.is_(None),
        )
    ).all()
    if not hooks:
        return 0
    versions = SurveyVersion.__table__  # type: ignore[attr-defined]
    surveys = Survey.__table__  # type: ignore[attr-defined]
    found = conn.execute(
        sa.select(versions.c.id, versions.c.version, surveys.c.slug)
        .select_from(versions.join(surveys))
        .where(versions.c.id.in_({row.survey_version_id for row in stored}))
    ).all()
    by_version = {int(v): (int(number), str(slug)) for v, number, slug in found}
    now = utcnow()
    rows = []
    for response in stored:
        version, slug = by_version[response.survey_version_id]
        body = {
            "type": "response.created",
            "timestamp": format_time(now),
            "data": {
                "survey": slug,
                "survey_version": version,
                "response_id": response.id,
                "submitted_at": format_time(response.submitted_at),
                "source": response.source,
                "language": response.language,
                "answers": response.answers,
            },
        }
        for hook_id, hook_survey in hooks:
            if hook_survey == response.survey_id:
                rows.append(
                    {
                        "webhook_id": hook_id,
                        "response_id": response.id,
                        "event_id": f"msg_{uuid.uuid4().hex}",
                        "payload": body,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "claimed_until": None,
                        "last_result": None,
                        "created_at": now,
                    }
                )
    if rows:
        conn.execute(_INSERT_DELIVERY[conn.dialect.name], rows)
    return len(rows)


@dataclass(frozen=True)
class Claimed:
    id: int
    event_id: str
    payload: dict[str, Any]
    attempts: int
    url: str
    format: str
    secret: str


def anything_due(conn: sa.Connection, *, now: datetime) -> bool:
    """A cheap read before claiming: most passes find nothing to do, and a
    claim is a write (on SQLite, the one write lock)."""
    found = conn.execute(
        sa.select(_DELIVERIES.c.id)
        .where(_DELIVERIES.c.status == PENDING, _DELIVERIES.c.next_attempt_at <= now)
        .limit(1)
    ).first()
    return found is not None


def claim_due(
    conn: sa.Connection, *, now: datetime, lease: timedelta, limit: int = 20
) -> list[Claimed]:
    """Deliveries due now that no live claim holds, claimed for ``lease``.
    On PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED, so
    workers on several hosts never claim the same one; SQLite's write
    transactions take turns anyway."""
    due = (
        sa.select(_DELIVERIES.c.id)
        .where(
            _DELIVERIES.c.status == PENDING,
            _DELIVERIES.c.next_attempt_at <= now,
            sa.or_(_DELIVERIES.c.claimed_until.is_(None), _DELIVERIES.c.claimed_until < now),
        )
        .order_by(_DELIVERIES.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = [int(i) for i in conn.execute(due).scalars()]
    if not ids:
        return []
    conn.execute(
        sa.update(_DELIVERIES).where(_DELIVERIES.c.id.in_(ids)).values(claimed_until=now + lease)
    )
    hooks = Webhook.__table__  # type: ignore[attr-defined]
    rows = conn.execute(
        sa.select(
            _DELIVERIES.c.id,
            _DELIVERIES.c.event_id,
            _DELIVERIES.c.payload,
            _DELIVERIES.c.attempts,
            hooks.c.url,
            hooks.c.format,
            hooks.c.secret,
        )
        .select_from(_DELIVERIES.join(hooks))
        .where(_DELIVERIES.c.id.in_(ids))
        .order_by(_DELIVERIES.c.id)
    ).all()
    return [Claimed(int(r[0]), str(r[1]), dict(r[2]), int(r[3]), *map(str, r[4:])) for r in rows]


def record_attempt(
    conn: sa.Connection,
    *,
    delivery_id: int,
    status: str,
    attempts: int,
    next_attempt_at: datetime,
    result: str,
) -> None:
    """The outcome of one attempt; the claim ends with it."""
    conn.execute(
        sa.update(_DELIVERIES)
        .where(_DELIVERIES.c.id == delivery_id)
        .values(
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            claimed_until=None,
            last_result=result[:1200],
        )
    )


def deliveries_of(session: Session, *, response_id: int) -> list[WebhookDelivery]:
    return list(
        session.exec(
            select(WebhookDelivery).where(col(WebhookDelivery.response_id) == response_id)
        ).all()
    )
