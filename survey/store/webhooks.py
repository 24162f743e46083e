"""Webhooks: adding and removing them, claiming their deliveries from the
outbox, every attempt's record, pausing (by hand, or by itself after 3 days
of failures), test events and redelivery."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from survey.export.common import format_time
from survey.models import (
    Response,
    Survey,
    SurveyVersion,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
    utcnow,
)
from survey.store import outbox
from survey.store.outbox import DELIVERED, PENDING

_DELIVERIES = outbox.DELIVERIES
_HOOKS = Webhook.__table__  # type: ignore[attr-defined]
_ATTEMPTS = WebhookAttempt.__table__  # type: ignore[attr-defined]
_SURVEYS = Survey.__table__  # type: ignore[attr-defined]
_RESPONSES = Response.__table__  # type: ignore[attr-defined]
_VERSIONS = SurveyVersion.__table__  # type: ignore[attr-defined]
# A webhook whose deliveries have failed this long, with none delivered, pauses itself.
PAUSE_AFTER = timedelta(days=3)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def add_webhook(session: Session, *, survey_id: int, url: str, format: str) -> Webhook:
    webhook = Webhook(
        survey_id=survey_id, url=url, format=format, secret=new_secret(), created_at=utcnow()
    )
    session.add(webhook)
    session.flush()
    return webhook


def list_webhooks(session: Session, *, survey_id: int | None = None) -> list[tuple[Webhook, str]]:
    """Every webhook (or one survey's) with its survey's slug."""
    query = select(Webhook, Survey.slug).join(Survey, col(Survey.id) == Webhook.survey_id)
    if survey_id is not None:
        query = query.where(Webhook.survey_id == survey_id)
    rows = session.exec(query.order_by(col(Webhook.id))).all()
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
class Claimed:
    id: int
    webhook_id: int
    survey_id: int
    event_id: str
    payload: dict[str, Any]
    attempts: int
    url: str
    format: str
    secret: str
    definition: dict[str, Any]  # the survey's, for the chat format's title and labels


def claim_due(
    conn: sa.Connection,
    *,
    now: datetime,
    lease: timedelta,
    limit: int = 20,
    only: int | None = None,
) -> list[Claimed]:
    """Deliveries due now to webhooks that are not paused, claimed for
    ``lease`` (see outbox.claim); or just the delivery ``only``, paused or
    not (an admin's test event or redelivery, sent at once)."""
    hooks = _HOOKS
    active = sa.select(hooks.c.id).where(hooks.c.paused_at.is_(None))
    where = [_DELIVERIES.c.webhook_id.in_(active) if only is None else _DELIVERIES.c.id == only]
    ids = outbox.claim(conn, _DELIVERIES, now=now, lease=lease, limit=limit, where=where)
    if not ids:
        return []
    d, r, v = _DELIVERIES.c, _RESPONSES.c, _VERSIONS.c
    rows = conn.execute(
        sa.select(
            d.id,
            d.webhook_id,
            hooks.c.survey_id,
            d.event_id,
            d.attempts,
            d.created_at,
            d.response_id,
            hooks.c.url,
            hooks.c.format,
            hooks.c.secret,
            _SURVEYS.c.slug,
            _SURVEYS.c.definition,
            _SURVEYS.c.current_version,
            r.answers,
            r.submitted_at,
            r.source,
            r.language,
            v.version,
        )
        .select_from(
            _DELIVERIES.join(hooks)
            .join(_SURVEYS)
            .outerjoin(_RESPONSES, r.id == d.response_id)
            .outerjoin(_VERSIONS, v.id == r.survey_version_id)
        )
        .where(d.id.in_(ids))
        .order_by(d.id)
    ).all()
    return [
        Claimed(
            id=int(row.id),
            webhook_id=int(row.webhook_id),
            survey_id=int(row.survey_id),
            event_id=str(row.event_id),
            payload=event_body(row),
            attempts=int(row.attempts),
            url=str(row.url),
            format=str(row.format),
            secret=str(row.secret),
            definition=dict(row.definition),
        )
        for row in rows
    ]


def event_body(row: Any) -> dict[str, Any]:
    """The event, as Standard Webhooks has it: built when it is sent from the
    stored response and the delivery's own creation time, so every attempt of
    one event sends the very same body (and nothing is stored twice)."""
    if row.response_id is None:  # a test event: no response, no answers
        return {
            "type": "webhook.test",
            "timestamp": format_time(row.created_at),
            "data": {
                "survey": row.slug,
                "survey_version": row.current_version,
                "response_id": None,
                "submitted_at": format_time(row.created_at),
                "source": None,
                "language": None,
                "answers": {},
            },
        }
    return {
        "type": "response.created",
        "timestamp": format_time(row.created_at),
        "data": {
            "survey": row.slug,
            "survey_version": row.version,
            "response_id": row.response_id,
            "submitted_at": format_time(row.submitted_at),
            "source": row.source,
            "language": row.language,
            "answers": dict(row.answers),
        },
    }


@dataclass(frozen=True)
class Attempt:
    """What one try at a delivery came to."""

    status: str  # the delivery's: DELIVERED, PENDING (retry later) or FAILED
    outcome: str  # delivered, retry, failed, refused
    status_code: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    answer: str | None = None
    retry_after: str | None = None

    def describe(self) -> str:
        if self.status_code is not None:
            took = f" in {self.duration_ms} ms" if self.duration_ms is not None else ""
            return f"HTTP {self.status_code}{took}: {self.answer or ''}"
        return self.error or self.outcome


def record_attempt(
    conn: sa.Connection,
    claimed: Claimed,
    tried: Attempt,
    *,
    attempts: int,
    next_attempt_at: datetime,
    now: datetime,
) -> bool:
    """The attempt's line, the delivery's new state (its claim ends), and the
    webhook's failing streak.  Returns True when this failure paused the
    webhook (failing for PAUSE_AFTER with nothing delivered): the caller
    tells the admins, in this same transaction."""
    conn.execute(
        sa.insert(_ATTEMPTS).values(
            delivery_id=claimed.id,
            webhook_id=claimed.webhook_id,
            attempted_at=now,
            outcome=tried.outcome,
            status_code=tried.status_code,
            error=(tried.error or None) and tried.error[:500],
            duration_ms=tried.duration_ms,
            answer=(tried.answer or None) and tried.answer[:1024],
        )
    )
    outbox.settle(
        conn,
        _DELIVERIES,
        row_id=claimed.id,
        status=tried.status,
        attempts=attempts,
        next_attempt_at=next_attempt_at,
        result=f"{now:%Y-%m-%d %H:%M:%S} UTC, attempt {attempts}: {tried.describe()}",
    )
    hook = _HOOKS.c
    if tried.status == DELIVERED:
        conn.execute(
            sa.update(_HOOKS).where(hook.id == claimed.webhook_id).values(failing_since=None)
        )
        return False
    conn.execute(
        sa.update(_HOOKS)
        .where(hook.id == claimed.webhook_id, hook.failing_since.is_(None))
        .values(failing_since=now)
    )
    paused = conn.execute(
        sa.update(_HOOKS)
        .where(
            hook.id == claimed.webhook_id,
            hook.paused_at.is_(None),
            hook.failing_since <= now - PAUSE_AFTER,
        )
        .values(paused_at=now, paused_reason="failing")
    )
    return bool(paused.rowcount)


def get_webhook(session: Session, *, webhook_id: int) -> tuple[Webhook, Survey] | None:
    row = session.exec(
        select(Webhook, Survey)
        .join(Survey, col(Survey.id) == Webhook.survey_id)
        .where(Webhook.id == webhook_id)
    ).first()
    return (row[0], row[1]) if row else None


def set_paused(session: Session, *, webhook: Webhook, paused: bool) -> None:
    """Pause by hand (events keep being written and wait), or resume: what
    waited is delivered, starting now."""
    now = utcnow()
    if paused:
        webhook.paused_at, webhook.paused_reason = now, "admin"
    else:
        webhook.paused_at = webhook.paused_reason = webhook.failing_since = None
        session.execute(
            sa.update(WebhookDelivery)
            .where(
                col(WebhookDelivery.webhook_id) == webhook.id,
                col(WebhookDelivery.status) == PENDING,
            )
            .values(next_attempt_at=now)
        )
    session.add(webhook)
    session.flush()


def recent_attempts(session: Session, *, webhook_id: int, limit: int = 50) -> list[Any]:
    """The latest attempts, newest first, with their delivery's event id and response."""
    return list(
        session.connection()
        .execute(
            sa.select(
                _ATTEMPTS,
                _DELIVERIES.c.event_id,
                _DELIVERIES.c.response_id,
                _DELIVERIES.c.status.label("delivery_status"),
            )
            .select_from(_ATTEMPTS.join(_DELIVERIES))
            .where(_ATTEMPTS.c.webhook_id == webhook_id)
            .order_by(_ATTEMPTS.c.id.desc())
            .limit(limit)
        )
        .all()
    )


def attempts_of(session: Session, *, delivery_id: int) -> list[WebhookAttempt]:
    return list(
        session.exec(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(col(WebhookAttempt.id))
        ).all()
    )


def redeliver(session: Session, *, webhook_id: int, delivery_id: int) -> bool:
    """Send an event again (same webhook-id, a fresh run of retries)."""
    done = session.execute(
        sa.update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == delivery_id,
            col(WebhookDelivery.webhook_id) == webhook_id,
        )
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), claimed_until=None)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def add_test_event(session: Session, *, webhook: Webhook) -> int:
    """A ``webhook.test`` event for this webhook alone, carrying no answers."""
    now = utcnow()
    delivery = WebhookDelivery(
        webhook_id=webhook.id or 0,
        response_id=None,
        event_id=outbox.new_event_id(),
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    assert delivery.id is not None
    return delivery.id


def deliveries_of(session: Session, *, response_id: int) -> list[WebhookDelivery]:
    return list(
        session.exec(
            select(WebhookDelivery).where(col(WebhookDelivery.response_id) == response_id)
        ).all()
    )
