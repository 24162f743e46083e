"""Deleting what must go: responses past retention, everything sent with an email address."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from survey.models import (
    AuditEvent,
    Response,
    SpamSubmission,
    SurveyVersion,
)
from survey.questions import stored_questions
from survey.questions.cells import answer_sql
from survey.store.surveys import list_surveys


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


def _email_keys(session: Session) -> dict[int, list[str]]:
    """Per survey id, the keys of every email question any version asked."""
    keys: dict[int, list[str]] = {}
    for version in session.exec(select(SurveyVersion)):
        for question in stored_questions(version.questions):
            if question.holds_email:
                found = keys.setdefault(version.survey_id, [])
                if question.key not in found:
                    found.append(question.key)
    return keys


def _email_matches(session: Session, email: str) -> tuple[str, str, dict[str, Any]]:
    """Conditions on responses (r) and spam (s) for everything sent with this email."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    params: dict[str, Any] = {"email": email.strip().casefold() if sqlite else email.strip()}
    fold = "casefold({})" if sqlite else "lower({})"
    target = ":email" if sqlite else "lower(:email)"
    responses, spam = [], []
    for survey_id, keys in sorted(_email_keys(session).items()):
        params[f"survey_{survey_id}"] = survey_id
        for key in keys:
            answer = fold.format(answer_sql((key,), sqlite=sqlite))
            responses.append(f"(r.survey_id = :survey_{survey_id} AND {answer} = {target})")
            sent = (
                f"json_each(s.fields, '$.{key}') AS e"
                if sqlite
                else f"jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.fields -> '{key}') "
                f"= 'array' THEN s.fields -> '{key}' END) AS e(value)"
            )
            spam.append(
                f"(s.survey_id = :survey_{survey_id} AND EXISTS (SELECT 1 FROM {sent} "
                f"WHERE {fold.format('e.value')} = {target}))"
            )
    return " OR ".join(responses) or "1 = 0", " OR ".join(spam) or "1 = 0", params


def count_by_email(session: Session, *, email: str) -> dict[str, int]:
    """Per survey slug, how many responses were sent with this email address."""
    responses, _spam, params = _email_matches(session, email)
    query = (
        "SELECT v.slug, count(*) FROM response r JOIN survey v ON v.id = r.survey_id "
        f"WHERE {responses} GROUP BY v.slug ORDER BY v.slug"
    )
    return {slug: int(n) for slug, n in session.execute(sa.text(query), params)}


def erase_by_email(session: Session, *, email: str) -> tuple[int, int]:
    """Delete every response (and held spam) sent with this email address.

    Matched case-insensitively against every email question of every survey
    and version.  Returns (responses deleted, spam submissions deleted).
    """
    responses, spam, params = _email_matches(session, email)
    deleted = session.execute(
        sa.text(f"DELETE FROM response AS r WHERE {responses}"),
        params,
    )
    deleted_spam = session.execute(
        sa.text(f"DELETE FROM spam_submission AS s WHERE {spam}"),
        params,
    )
    _scrub_audit(session, email)
    return int(deleted.rowcount or 0), int(deleted_spam.rowcount or 0)  # type: ignore[attr-defined]


ERASED = "[erased]"


def _scrub_audit(session: Session, email: str) -> None:
    """The address out of the audit trail too (a staff search for it before a
    download is kept there): every mention becomes ``[erased]``."""
    needle = email.strip().casefold()
    if not needle:
        return
    for event in session.exec(select(AuditEvent)):
        detail = _without(event.detail, needle)
        actor = ERASED if (event.actor or "").casefold() == needle else event.actor
        if detail != event.detail or actor != event.actor:
            event.detail, event.actor = detail, actor
            session.add(event)
    session.flush()


def _without(value: Any, needle: str) -> Any:
    if isinstance(value, str):
        return re.sub(re.escape(needle), ERASED, value, flags=re.IGNORECASE)
    if isinstance(value, dict):
        return {key: _without(item, needle) for key, item in value.items()}
    if isinstance(value, list):
        return [_without(item, needle) for item in value]
    return value
