"""Dependencies shared by the routes: the database session, and the survey a
URL names, with its parsed definition cached per process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from survey import store
from survey.db import Database
from survey.definitions import SurveyDefinition
from survey.models import Survey

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    """One session per request.  The route commits once, after everything is
    checked; whatever it did not commit is rolled back when the session closes."""
    with get_database(request).session(write=request.method in UNSAFE_METHODS) as session:
        yield session


DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class LiveSurvey:
    """A survey as the form and the API need it: the row, its parsed
    definition, and the id of the version new responses answer."""

    row: Survey
    definition: SurveyDefinition
    version_id: int

    @property
    def id(self) -> int:
        assert self.row.id is not None
        return self.row.id

    def is_open(self, now: datetime) -> bool:
        return self.definition.is_open(now)


class DefinitionCache:
    """Parsed definitions by (survey id, version, updated_at): parsing JSON into
    Pydantic models on every request would cost more than the query."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[tuple[int, datetime], SurveyDefinition, int]] = {}
        self._lock = threading.Lock()

    def live(self, session: Session, survey: Survey) -> LiveSurvey:
        assert survey.id is not None
        stamp = (survey.current_version, survey.updated_at)
        entry = self._entries.get(survey.id)
        if entry is None or entry[0] != stamp:
            definition = SurveyDefinition.model_validate(survey.definition)
            version = store.current_version(session, survey=survey)
            assert version.id is not None
            entry = (stamp, definition, version.id)
            with self._lock:
                self._entries[survey.id] = entry
        return LiveSurvey(survey, entry[1], entry[2])


def find_survey(request: Request, session: SessionDep, slug: str) -> LiveSurvey:
    survey = store.get_survey(session, slug=slug)
    if survey is None:
        raise HTTPException(status_code=404, detail="There is no survey at this address.")
    cache: DefinitionCache = request.app.state.definitions
    return cache.live(session, survey)


SurveyDep = Annotated[LiveSurvey, Depends(find_survey)]
