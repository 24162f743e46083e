"""Delivering the outbox: webhook events, signed as Standard Webhooks asks,
retried with exponential backoff and jitter until they are delivered or
clearly refused.

One pass claims the due deliveries (a lease that expires if this process
dies), posts each one, and records the outcome.  ``survey serve`` runs a pass
every second (``SURVEY_DELIVERY=inline``); ``survey worker`` runs the same
loop in a process of its own.  Several of either, on several hosts of one
PostgreSQL, share the work without two making the same attempt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any

from survey import store
from survey.db import Database
from survey.fetch import FetchError, post
from survey.models import utcnow
from survey.settings import Settings
from survey.store.webhooks import DELIVERED, FAILED, PENDING

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 8  # over at least 2 hours: 1, 2, 4 ... 64 minutes apart
FIRST_WAIT = 60.0
LONGEST_WAIT = 2 * 3600.0
RETRIED_STATUSES = frozenset({408, 429})


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,<base64 HMAC-SHA256>`` of
    ``id.timestamp.body`` with the secret's key (the base64 after whsec_)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def body_of(claimed: store.Claimed, public_url: str | None = None) -> bytes:
    if claimed.format == "slack":
        text = slack_text(claimed.payload, public_url)
        return json.dumps({"text": text}, ensure_ascii=False).encode()
    return json.dumps(claimed.payload, ensure_ascii=False, separators=(",", ":")).encode()


def slack_text(payload: dict[str, Any], public_url: str | None = None) -> str:
    """A few lines Slack, Mattermost, Discord and Teams show as they are: the
    survey, a link to the response in the workspace, the first answers."""
    data = payload["data"]
    lines = [f"New response to {data['survey']} (#{data['response_id']})"]
    if public_url:
        base = public_url.rstrip("/")
        lines.append(f"{base}/admin/surveys/{data['survey']}/responses/{data['response_id']}")
    for key, value in list(data["answers"].items())[:5]:
        shown = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
        lines.append(f"• {key}: {shown[:200]}")
    return "\n".join(lines)


def wait_before(attempts: int, retry_after: str | None) -> float:
    """Seconds until the next attempt: 1, 2, 4 ... minutes (at most 2 hours)
    plus up to a quarter more at random, or the receiver's Retry-After (capped)."""
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), LONGEST_WAIT)
    ceiling: float = min(FIRST_WAIT * 2.0 ** (attempts - 1), LONGEST_WAIT)
    # At least the ceiling, so 8 attempts span at least 127 minutes.
    return ceiling + random.uniform(0, ceiling / 4)


def attempt(claimed: store.Claimed, settings: Settings) -> tuple[str, str, str | None]:
    """Post one delivery: (status, what happened, Retry-After) where status is
    DELIVERED, FAILED (no retry) or PENDING (retry later)."""
    if not claimed.url.startswith("https://") and not settings.webhook_allow_http:
        return (
            FAILED,
            "refused: only https:// addresses (SURVEY_WEBHOOK_ALLOW_HTTP=true allows http)",
            None,
        )
    body = body_of(claimed, settings.public_url)
    timestamp = int(time.time())
    headers = {"content-type": "application/json"}
    if claimed.format == "standard":
        headers |= {
            "webhook-id": claimed.event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(claimed.secret, claimed.event_id, timestamp, body),
        }
    started = time.monotonic()
    try:
        status, answer_headers, answer = post(
            claimed.url,
            body,
            headers,
            allow_private=settings.webhook_allow_private,
            timeout=TIMEOUT_SECONDS,
        )
    except FetchError as exc:
        refused = "refused" in str(exc)
        return (FAILED if refused else PENDING), str(exc)[:300], None
    took = f"{(time.monotonic() - started) * 1000:.0f} ms"
    excerpt = answer[:1024].decode("utf-8", "replace")
    result = f"HTTP {status} in {took}: {excerpt}"
    if 200 <= status < 300:
        return DELIVERED, result, None
    if status in RETRIED_STATUSES or status >= 500:
        return PENDING, result, answer_headers.get("retry-after")
    return FAILED, result, None


def deliver_due(database: Database, settings: Settings, *, limit: int = 20) -> int:
    """One pass: claim what is due, post it, record the outcomes.  Returns
    how many attempts were made."""
    now = utcnow()
    with database.engine.connect() as reading:
        if not store.anything_due(reading, now=now):
            return 0
    with database.write_connection() as conn:
        claimed = store.claim_due(conn, now=now, lease=LEASE, limit=limit)
    for item in claimed:
        status, result, retry_after = attempt(item, settings)
        attempts = item.attempts + 1
        if status == PENDING and attempts >= MAX_ATTEMPTS:
            status = FAILED
        when: datetime = utcnow() + timedelta(seconds=wait_before(attempts, retry_after))
        with database.write_connection() as conn:
            store.record_attempt(
                conn,
                delivery_id=item.id,
                status=status,
                attempts=attempts,
                next_attempt_at=when,
                result=f"{utcnow():%Y-%m-%d %H:%M:%S} UTC, attempt {attempts}: {result}",
            )
        if status != DELIVERED:
            log.warning("webhook delivery %s: %s (%s)", item.event_id, status, result[:200])
    return len(claimed)


async def deliver_periodically(database: Database, settings: Settings) -> None:
    """The inline worker of `survey serve`: a pass whenever the last one did
    something, else every second.  Posts run on a thread of their own, never
    on the database's few threads (a slow receiver must not slow the form)."""
    import asyncio

    while True:
        try:
            made = await asyncio.to_thread(deliver_due, database, settings)
        except Exception:  # a failed pass must never take the server down
            log.exception("delivering webhook events failed; will try again")
            made = 0
        if not made:
            await asyncio.sleep(1.0)


def work_forever(database: Database, settings: Settings) -> None:
    """`survey worker`: the same passes, in a process of its own."""
    while True:
        try:
            made = deliver_due(database, settings)
        except Exception:
            log.exception("delivering webhook events failed; will try again")
            made = 0
        if not made:
            time.sleep(1.0)
