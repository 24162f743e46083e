"""Surveys and their versions: loading a survey file, reading what is live."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from survey.definitions import SurveyDefinition
from survey.models import (
    Survey,
    SurveyVersion,
    utcnow,
)


@dataclass(frozen=True)
class LoadResult:
    slug: str
    version: int
    outcome: str  # "created", "new version", "updated" (same questions) or "unchanged"


def get_survey(session: Session, *, slug: str) -> Survey | None:
    return session.exec(select(Survey).where(Survey.slug == slug)).first()


def list_surveys(session: Session) -> list[Survey]:
    return list(session.exec(select(Survey).order_by(col(Survey.slug))).all())


def current_version(session: Session, *, survey: Survey) -> SurveyVersion:
    return session.exec(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.version == survey.current_version
        )
    ).one()


def get_version(session: Session, *, survey_id: int, version: int) -> SurveyVersion | None:
    return session.exec(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey_id, SurveyVersion.version == version
        )
    ).first()


def survey_versions(session: Session, *, survey_id: int) -> list[SurveyVersion]:
    """Every version of a survey, newest first."""
    return list(
        session.exec(
            select(SurveyVersion)
            .where(SurveyVersion.survey_id == survey_id)
            .order_by(col(SurveyVersion.version).desc())
        ).all()
    )


def load_definition(session: Session, *, definition: SurveyDefinition) -> LoadResult:
    """Create or update a survey from its file; new questions make a new version."""
    now = utcnow()
    document = definition.document()
    questions = definition.questions_json()
    survey = get_survey(session, slug=definition.slug)
    if survey is None:
        survey = Survey(
            slug=definition.slug,
            definition=document,
            current_version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(survey)
        session.flush()
        assert survey.id is not None
        session.add(
            SurveyVersion(survey_id=survey.id, version=1, questions=questions, created_at=now)
        )
        session.flush()
        return LoadResult(definition.slug, 1, "created")

    latest = current_version(session, survey=survey)
    outcome = "unchanged"
    if _canonical(latest.questions) != definition.questions_fingerprint():
        assert survey.id is not None
        survey.current_version = latest.version + 1
        session.add(
            SurveyVersion(
                survey_id=survey.id,
                version=survey.current_version,
                questions=questions,
                created_at=now,
            )
        )
        outcome = "new version"
    elif _canonical(_as_stored_now(survey.definition)) != _canonical(document):
        outcome = "updated"
    if outcome != "unchanged":
        survey.definition = document
        survey.updated_at = now
        session.add(survey)
        session.flush()
    return LoadResult(definition.slug, survey.current_version, outcome)


def _as_stored_now(document: dict[str, Any]) -> dict[str, Any]:
    """A stored survey document as this release writes it (older releases
    wrote every default out), so that reloading an unchanged file is
    "unchanged" after an upgrade too."""
    try:
        return SurveyDefinition.model_validate(document).document()
    except ValueError:
        return document


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False)
