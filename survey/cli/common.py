"""What the commands share: the one-line error, the database, a survey by slug."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from survey import store
from survey.db import Database
from survey.models import Survey
from survey.settings import Settings

log = logging.getLogger("survey")


class CommandError(Exception):
    """A problem to report in one line, with exit status 1 (never a traceback)."""


@contextmanager
def database_for(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    try:
        yield database
    finally:
        database.dispose()


def require_survey(session: Session, slug: str) -> Survey:
    survey = store.get_survey(session, slug=slug)
    if survey is None or survey.id is None:
        raise CommandError(f"there is no survey {slug!r}")
    return survey
