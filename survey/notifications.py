"""Sending the mail outbox: each row becomes an email in its reader's
language (a new response, a daily digest, a webhook that paused itself),
sent over one SMTP connection per pass and retried like a webhook when the
server says "later"."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlmodel import Session

from survey import store
from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.i18n import N_
from survey.mail import Letter, Mailer, MailError, compose, unsubscribe_token
from survey.models import Response, Survey, utcnow
from survey.questions import BaseQuestion, stored_questions
from survey.settings import Settings
from survey.store.outbox import DELIVERED, FAILED, MAILS, MAX_ATTEMPTS, PENDING, wait_before

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
DIGEST_CHECK_SECONDS = 30.0
_next_digest_check = 0.0


def queue_digests_if_due(database: Database, settings: Settings) -> int:
    """Write the digests that are due (at most every 30 s per process)."""
    global _next_digest_check
    if time.monotonic() < _next_digest_check:
        return 0
    _next_digest_check = time.monotonic() + DIGEST_CHECK_SECONDS
    with database.write_connection() as conn:
        return store.queue_digests(conn, now=utcnow(), hour=settings.digest_hour)


def send_due(database: Database, settings: Settings, *, limit: int = 20) -> int:
    """One pass over the mail outbox; returns how many emails were tried."""
    assert settings.smtp_url
    assert settings.mail_from
    now = utcnow()
    with database.engine.connect() as reading:
        if not store.anything_due(reading, MAILS, now=now):
            return 0
    with database.write_connection() as conn:
        claimed = store.claim_mail(conn, now=now, lease=LEASE, limit=limit)
    if not claimed:
        return 0
    with database.begin(write=True) as session:  # made and kept if no server made it yet
        secret = store.signing_secret(session, configured=settings.secret_key)
    with Mailer(settings.smtp_url) as mailer:
        for mail in claimed:
            try:
                status, result = _send_one(database, settings, mailer, mail, secret)
            except Exception as exc:  # one bad row must not hold up the others
                log.exception("email %s could not be made", mail.id)
                status, result = PENDING, f"{type(exc).__name__}: {exc}"[:500]
            attempts = mail.attempts + 1
            if status == PENDING and attempts >= MAX_ATTEMPTS:
                status = FAILED
            wait = timedelta(seconds=wait_before(attempts))
            with database.write_connection() as conn:
                store.outbox.settle(
                    conn,
                    MAILS,
                    row_id=mail.id,
                    status=status,
                    attempts=attempts,
                    next_attempt_at=utcnow() + wait,
                    result=f"{utcnow():%Y-%m-%d %H:%M:%S} UTC, attempt {attempts}: {result}",
                )
    return len(claimed)


def _send_one(
    database: Database,
    settings: Settings,
    mailer: Mailer,
    mail: store.ClaimedMail,
    secret: str,
) -> tuple[str, str]:
    if mail.disabled:
        return DELIVERED, "nothing to send: the account was disabled"
    lang = mail.language or "en"
    with database.session() as session:
        letter = letter_for(session, mail, lang, settings.public_url, secret)
    if letter is None:
        return DELIVERED, "nothing to send: what it was about is gone"
    assert settings.mail_from
    message = compose(letter, to=mail.to, sender=settings.mail_from, lang=lang)
    try:
        mailer.send(message)
    except MailError as exc:
        log.warning("email %s to %s: %s", mail.id, mail.to, exc)
        return (FAILED if exc.lasting else PENDING), str(exc)[:500]
    return DELIVERED, "sent"


def letter_for(
    session: Session,
    mail: store.ClaimedMail,
    lang: str,
    public_url: str | None,
    secret: str,
) -> Letter | None:
    """What the email of one outbox row says, read now (so an erased
    response, a renamed survey or a new language shows as it is now)."""
    base = public_url.rstrip("/") if public_url else None
    if mail.kind == "digest":
        return _digest(session, mail, lang, base, secret)
    survey = session.get(Survey, mail.survey_id) if mail.survey_id else None
    if survey is None:
        return None
    definition = SurveyDefinition.model_validate(survey.definition).localized(lang)
    context: dict[str, Any] = {"title": definition.title, "slug": survey.slug, "base": base}
    if mail.kind == "paused":
        context |= {"url": mail.payload.get("url"), "webhook_id": mail.payload.get("webhook_id")}
        subject = N_("A webhook of “%(title)s” paused itself", title=definition.title)
        return Letter(subject.in_language(lang), "paused", context)
    response = session.get(Response, mail.response_id) if mail.response_id else None
    if response is None:
        return None  # erased or deleted since
    answers: list[tuple[str, str]] = []
    if definition.notify_with_answers:
        version = store.survey_versions(session, survey_id=survey.id or 0)
        stored = {v.id: v for v in version}.get(response.survey_version_id)
        questions: list[BaseQuestion] = list(definition.questions)
        known = {q.key for q in questions}
        if stored is not None:
            questions += [q for q in stored_questions(stored.questions) if q.key not in known]
        for question in questions:
            words = question.words(response.answers, lang)
            if words:
                answers.append((question.label, words))
    unsubscribe = _stop_link(base, secret, mail.user_id, str(survey.id))
    context |= {
        "response_id": response.id,
        "submitted_at": response.submitted_at,
        "source": response.source,
        "answers": answers,
        "with_answers": definition.notify_with_answers,
    }
    subject = N_("New response to “%(title)s”", title=definition.title)
    return Letter(subject.in_language(lang), "response", context, unsubscribe)


def _digest(
    session: Session, mail: store.ClaimedMail, lang: str, base: str | None, secret: str
) -> Letter | None:
    surveys = []
    for survey_id, count in mail.payload.get("surveys", []):
        survey = session.get(Survey, survey_id)
        if survey is None:
            continue
        title = SurveyDefinition.model_validate(survey.definition).localized(lang).title
        surveys.append({"title": title, "slug": survey.slug, "count": count})
    if not surveys:
        return None
    context = {
        "surveys": surveys,
        "since": datetime.fromisoformat(mail.payload["since"]),
        "until": datetime.fromisoformat(mail.payload["until"]),
        "base": base,
        "total": sum(s["count"] for s in surveys),
    }
    unsubscribe = _stop_link(base, secret, mail.user_id, "digest")
    subject = N_("Daily digest: new responses to your surveys")
    return Letter(subject.in_language(lang), "digest", context, unsubscribe)


def _stop_link(base: str | None, secret: str, user_id: int, what: str) -> str | None:
    if base is None:
        return None  # no address to link to: SURVEY_PUBLIC_URL is not set
    token = unsubscribe_token(secret, user_id=user_id, what=what)
    return f"{base}/admin/notifications/stop?t={quote(token)}"
