"""Dependencies shared by the routes: the database session, and the survey a
URL names, with its parsed definition cached per process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from survey import store
from survey.db import STORAGE_ERRORS, Database, one_line
from survey.i18n import N_
from survey.web.cache import LiveSurvey
from survey.web.state import state_of

log = logging.getLogger(__name__)


async def get_database(request: Request) -> Database:
    # async: FastAPI runs a plain-def dependency on its thread pool, and a hop
    # there costs more than everything this does.
    return database_of(request)


def database_of(request: Request) -> Database:
    return state_of(request).database


def get_session(request: Request) -> Iterator[Session]:
    """A session for pages that read (the survey list).

    Submissions are stored by ``ResponseWriter`` in short write transactions of
    their own, after everything is checked.  On SQLite such a transaction holds
    the write lock (BEGIN IMMEDIATE), so it must never be held while a request
    waits for anything else (its body, a thread, a connection): that stalls
    every other writer.
    """
    with database_of(request).session() as session:
        yield session


DatabaseDep = Annotated[Database, Depends(get_database)]


def public_base(request: Request) -> str:
    """The product's own origin: the configured public URL, else the request's."""
    configured = state_of(request).settings.public_url
    if configured:
        return configured
    # From the scope, not request.url: building the full URL costs more than
    # the rest of a cached form page.
    host = request.headers.get("host") or "{}:{}".format(*request.scope["server"])
    return f"{request.scope['scheme']}://{host}"


def sent_from_our_pages(request: Request) -> bool:
    """Browsers say where a form POST comes from; ours come from our own pages,
    inside an iframe too.  Clients that send neither header (old browsers,
    scripts) are left to the form token or CSRF token."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == public_base(request)


SessionDep = Annotated[Session, Depends(get_session)]


async def is_full(request: Request, live: LiveSurvey) -> bool:
    """Whether a survey with ``max_responses`` has them all (one count query;
    a survey without a limit costs nothing here).  The insert checks again
    in its own transaction: this only spares a reader a form they cannot send."""
    cap = live.definition.max_responses
    if cap is None:
        return False
    database = database_of(request)

    def count() -> int:
        with database.session() as session:
            return store.stored_count(session.connection(), survey_id=live.id)

    return await database.run(count) >= cap


async def find_survey(request: Request, slug: str) -> LiveSurvey:
    """The survey a URL names, from this process's cache when it is fresh.

    On a miss the lookup runs in a short session of its own, off the event
    loop, so that no connection is held while the route works: a route that
    then writes takes one connection at a time, and a full pool cannot deadlock.
    """
    cache = state_of(request).surveys
    live = cache.fresh(slug)
    if live is None:
        database = database_of(request)

        def lookup() -> LiveSurvey | None:
            with database.session() as session:
                return cache.load(session, slug)

        try:
            live = await cache.load_once(slug, lambda: database.run(lookup))
        except STORAGE_ERRORS as exc:
            # The database is away: the copy in memory is still good to show
            # (answers sent from it are stored, or kept, when it is back).
            live = cache.keep_serving(slug)
            if live is None:
                raise
            log.warning("survey %s: serving the copy in memory: %s", slug, one_line(exc))
        except BaseException:
            cache.forget(slug)  # let the next request try again
            raise
    if live is None:
        raise HTTPException(status_code=404, detail=N_("There is no survey at this address."))
    return live


SurveyDep = Annotated[LiveSurvey, Depends(find_survey)]
