"""Drafts of the builder: what is being edited, saved one change at a time,
never two changes from the same revision."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from survey.models import Response, Survey, SurveyDraft, SurveyVersion, utcnow


class DraftChanged(Exception):
    """Someone saved the draft since this page was opened: nothing was saved."""

    def __init__(self, draft: SurveyDraft) -> None:
        super().__init__(draft.last_change)
        self.draft = draft


def get_draft(session: Session, *, slug: str) -> SurveyDraft | None:
    return session.exec(select(SurveyDraft).where(SurveyDraft.slug == slug)).first()


def list_new_drafts(session: Session) -> list[SurveyDraft]:
    """Drafts of surveys that were never published."""
    return list(
        session.exec(
            select(SurveyDraft)
            .where(col(SurveyDraft.survey_id).is_(None))
            .order_by(col(SurveyDraft.slug))
        ).all()
    )


def create_draft(
    session: Session,
    *,
    slug: str,
    survey_id: int | None,
    document: dict[str, Any],
    languages: list[str],
    change: str,
    actor: str,
) -> SurveyDraft:
    now = utcnow()
    draft = SurveyDraft(
        slug=slug,
        survey_id=survey_id,
        document=document,
        languages=languages,
        revision=1,
        last_change=change[:500],
        updated_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def save_draft(
    session: Session,
    *,
    draft: SurveyDraft,
    revision: int,
    document: dict[str, Any],
    languages: list[str],
    change: str,
    actor: str,
) -> int:
    """Save one change made from ``revision``; the new revision, or
    DraftChanged when the draft has moved on since (a single UPDATE that
    tests the revision, so two servers cannot both win)."""
    assert draft.id is not None
    updated = session.execute(
        sa.update(SurveyDraft)
        .where(col(SurveyDraft.id) == draft.id, col(SurveyDraft.revision) == revision)
        .values(
            document=document,
            languages=languages,
            revision=revision + 1,
            last_change=change[:500],
            updated_by=actor,
            updated_at=utcnow(),
        )
    )
    if not updated.rowcount:  # type: ignore[attr-defined]
        session.expire(draft)
        raise DraftChanged(draft)
    return revision + 1


def delete_draft(session: Session, *, draft: SurveyDraft) -> None:
    session.delete(draft)
    session.flush()


def answered_questions(session: Session, *, survey_id: int) -> dict[str, str]:
    """Key -> type of every question in a version that has responses: these
    keys keep their name and type (their answers are stored under them)."""
    answered_versions = (
        select(Response.survey_version_id).where(Response.survey_id == survey_id).distinct()
    )
    found: dict[str, str] = {}
    for questions in session.exec(
        select(SurveyVersion.questions)
        .where(col(SurveyVersion.id).in_(answered_versions))
        .order_by(col(SurveyVersion.version))
    ):
        for question in questions:
            found[str(question.get("key"))] = str(question.get("type"))
    return found


def mark_edited_in_browser(session: Session, *, survey: Survey) -> None:
    survey.edited_in_browser_at = utcnow()
    session.add(survey)
    session.flush()
