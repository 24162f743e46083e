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


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    """The request's session for reading.

    Routes that store something do it in one short write transaction of their
    own (``database.begin(write=True)``), opened and committed inside the route
    after everything is checked.  On SQLite that transaction takes the write
    lock with BEGIN IMMEDIATE, so it must not be held while the request waits
    for anything else (reading the body, a free worker thread): a lock held
    across such a wait stalls every other writer.
    """
    with get_database(request).session() as session:
        yield session


DatabaseDep = Annotated[Database, Depends(get_database)]


def public_base(request: Request) -> str:
    """The product's own origin: the configured public URL, else the request's."""
    configured: str | None = request.app.state.settings.public_url
    return configured or f"{request.url.scheme}://{request.url.netloc}"


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class LiveSurvey:
    """A survey as the form and the API need it: plain values only, so that it
    stays usable after the read transaction that found it has ended."""

    id: int
    version: int
    version_id: int
    definition: SurveyDefinition

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
        return LiveSurvey(
            id=survey.id, version=survey.current_version, version_id=entry[2], definition=entry[1]
        )


def find_survey(request: Request, database: DatabaseDep, slug: str) -> LiveSurvey:
    """The survey a URL names.  It is read in a short session of its own, so
    that no connection is held while the route works: a route that then writes
    takes one connection at a time, and a full pool can never deadlock."""
    with database.session() as session:
        survey = store.get_survey(session, slug=slug)
        if survey is None:
            raise HTTPException(status_code=404, detail="There is no survey at this address.")
        cache: DefinitionCache = request.app.state.definitions
        return cache.live(session, survey)


SurveyDep = Annotated[LiveSurvey, Depends(find_survey)]
