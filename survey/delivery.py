"""Delivering the outbox: webhook events, signed as Standard Webhooks asks,
retried with exponential backoff and jitter until they are delivered or
clearly refused; then the emails (survey.notifications).

One pass claims the due deliveries (a lease that expires if this process
dies), posts each one, and records every attempt.  ``survey serve`` runs a
pass every second (``SURVEY_DELIVERY=inline``); ``survey worker`` runs the
same loop in a process of its own.  Several of either, on several hosts of
one PostgreSQL, share the work without two making the same attempt.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from survey import store
from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.fetch import FetchError, post
from survey.i18n import N_, Message
from survey.models import utcnow
from survey.notifications import queue_digests_if_due, send_due
from survey.settings import Settings
from survey.store.outbox import (
    DELIVERED,
    DELIVERIES,
    FAILED,
    MAX_ATTEMPTS,
    PENDING,
    wait_before,
)

_DELIVERIES = DELIVERIES

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
TIMEOUT_SECONDS = 10.0
RETRIED_STATUSES = frozenset({408, 429})


def url_problem(url: str, settings: Settings) -> Message | None:
    """Why a webhook cannot have this address (the form and the CLI), or None."""
    if len(url) > 2000:
        return N_("The address is longer than 2,000 characters.")
    whole = N_("Give the receiver's whole address, starting with https://")
    if any(char.isspace() or not char.isprintable() for char in url):
        return whole
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it (a port past 65535 raises)
    except ValueError:
        return whole
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return whole
    if parts.scheme == "http" and not settings.webhook_allow_http:
        return N_("Only https:// addresses (SURVEY_WEBHOOK_ALLOW_HTTP=true allows http)")
    return None


def sign(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,<base64 HMAC-SHA256>`` of
    ``id.timestamp.body`` with the secret's key (the base64 after whsec_)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def body_of(claimed: store.Claimed, public_url: str | None = None) -> bytes:
    if claimed.format == "slack":
        text = slack_text(claimed.payload, claimed.definition, public_url)
        return json.dumps({"text": text}, ensure_ascii=False).encode()
    return json.dumps(claimed.payload, ensure_ascii=False, separators=(",", ":")).encode()


def slack_text(
    payload: dict[str, Any], definition: dict[str, Any], public_url: str | None = None
) -> str:
    """A few lines Slack, Mattermost, Discord and Teams show as they are: the
    survey's title, a link to the response in the workspace, the first
    answers by their question (in the survey's own language)."""
    data = payload["data"]
    try:
        survey = SurveyDefinition.model_validate(definition)
    except ValueError:
        survey = None
    title = survey.title if survey else data["survey"]
    if data["response_id"] is None:
        lines = [f"Test event from “{title}”: this webhook works."]
    else:
        lines = [f"New response to “{title}” (#{data['response_id']})"]
    if public_url and data["response_id"] is not None:
        base = public_url.rstrip("/")
        lines.append(f"{base}/admin/surveys/{data['survey']}/responses/{data['response_id']}")
    answers = data["answers"]
    questions = survey.questions if survey else []
    shown = [(q.label, q.words(answers, survey.lang if survey else "en")) for q in questions]
    known = {key for q in questions for key in q.answer_keys()}
    shown += [(key, _plain(value)) for key, value in answers.items() if key not in known]
    for label, words in [(label, words) for label, words in shown if words][:5]:
        lines.append(f"• {label}: {words[:200]}")
    return "\n".join(lines)


def _plain(value: Any) -> str:
    return "; ".join(map(str, value)) if isinstance(value, list) else str(value)


def attempt(claimed: store.Claimed, settings: Settings) -> store.Attempt:
    """Post one delivery; the Attempt says whether it was delivered, is to be
    tried again (PENDING) or failed for good (FAILED)."""
    if not claimed.url.startswith("https://") and not settings.webhook_allow_http:
        return store.Attempt(
            FAILED,
            "refused",
            error="refused: only https:// addresses (SURVEY_WEBHOOK_ALLOW_HTTP=true allows http)",
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
    except ValueError as exc:  # an address http.client cannot use (stored before checks)
        if not isinstance(exc, FetchError):
            return store.Attempt(FAILED, "failed", error=f"not a usable address: {exc}"[:500])
        took = round((time.monotonic() - started) * 1000)
        if "refused" in str(exc):
            return store.Attempt(FAILED, "refused", error=str(exc)[:500])
        return store.Attempt(PENDING, "retry", error=str(exc)[:500], duration_ms=took)
    took = round((time.monotonic() - started) * 1000)
    excerpt = answer[:1024].decode("utf-8", "replace")
    if 200 <= status < 300:
        return store.Attempt(DELIVERED, "delivered", status, None, took, excerpt)
    if status in RETRIED_STATUSES or status >= 500:
        retry_after = answer_headers.get("retry-after")
        return store.Attempt(PENDING, "retry", status, None, took, excerpt, retry_after)
    return store.Attempt(FAILED, "failed", status, None, took, excerpt)


def deliver_due(
    database: Database, settings: Settings, *, limit: int = 20, only: int | None = None
) -> int:
    """One pass: claim what is due (or the one delivery ``only``), post it,
    record the outcomes.  Returns how many attempts were made.

    The claim lasts as long as posting everything claimed could take (each
    post at most 10 s), so no other worker takes a row this one still holds.
    Outcomes are recorded together, at most a second after they happen: one
    commit for many attempts, not one each (on SQLite, the write lock the
    forms need too)."""
    now = utcnow()
    if only is None:
        with database.engine.connect() as reading:
            if not store.anything_due(reading, _DELIVERIES, now=now):
                return 0
    lease = LEASE + timedelta(seconds=TIMEOUT_SECONDS * limit)
    with database.write_connection() as conn:
        claimed = store.claim_due(conn, now=now, lease=lease, limit=limit, only=only)
    done: list[tuple[store.Claimed, store.Attempt, int, datetime, datetime]] = []
    last = time.monotonic()
    for number, item in enumerate(claimed, start=1):
        try:
            tried = attempt(item, settings)
        except Exception as exc:  # one bad row must not hold up the others
            log.exception("webhook delivery %s could not be attempted", item.event_id)
            tried = store.Attempt(PENDING, "retry", error=f"{type(exc).__name__}: {exc}"[:500])
        attempts = item.attempts + 1
        if tried.status == PENDING and attempts >= MAX_ATTEMPTS:
            tried = dataclasses.replace(tried, status=FAILED, outcome="failed")
        when = utcnow() + timedelta(seconds=wait_before(attempts, tried.retry_after))
        done.append((item, tried, attempts, when, utcnow()))
        if tried.status != DELIVERED:
            log.warning(
                "webhook delivery %s: %s (%s)", item.event_id, tried.outcome, tried.describe()[:200]
            )
        if number == len(claimed) or time.monotonic() - last > 1.0:
            _record(database, settings, done)
            done, last = [], time.monotonic()
    return len(claimed)


def _record(
    database: Database,
    settings: Settings,
    done: list[tuple[store.Claimed, store.Attempt, int, datetime, datetime]],
) -> None:
    with database.write_connection() as conn:
        for item, tried, attempts, when, at in done:
            paused = store.record_attempt(
                conn, item, tried, attempts=attempts, next_attempt_at=when, now=at
            )
            if paused:
                log.warning("webhook %s paused itself after 3 days of failures", item.webhook_id)
                if settings.mail_on:
                    store.tell_admins(
                        conn,
                        survey_id=item.survey_id,
                        payload={"webhook_id": item.webhook_id, "url": item.url},
                    )


def one_pass(database: Database, settings: Settings) -> int:
    """Webhook deliveries, then emails (and the digests, once due)."""
    made = deliver_due(database, settings)
    if settings.mail_on:
        queue_digests_if_due(database, settings)
        made += send_due(database, settings)
    return made


async def deliver_periodically(database: Database, settings: Settings) -> None:
    """The inline worker of `survey serve`: a pass whenever the last one did
    something, else every second.  Posts run on a thread of their own, never
    on the database's few threads (a slow receiver must not slow the form)."""
    import asyncio

    while True:
        try:
            made = await asyncio.to_thread(one_pass, database, settings)
        except Exception:  # a failed pass must never take the server down
            log.exception("delivering webhook events or emails failed; will try again")
            made = 0
        if not made:
            await asyncio.sleep(1.0)


def work_forever(database: Database, settings: Settings) -> None:
    """`survey worker`: the same passes, in a process of its own."""
    while True:
        try:
            made = one_pass(database, settings)
        except Exception:
            log.exception("delivering webhook events or emails failed; will try again")
            made = 0
        if not made:
            time.sleep(1.0)
