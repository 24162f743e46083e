"""``create_app(settings)``: the one place the web application is assembled."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from survey import __version__, store
from survey.db import STORAGE_ERRORS, Database, one_line
from survey.delivery import deliver_periodically
from survey.formtokens import FormTokens
from survey.models import utcnow
from survey.ratelimit import parse_networks, parse_rate_limit
from survey.resources import STATIC_DIR
from survey.settings import Settings
from survey.web import admin, api, embed, errors, public
from survey.web.cache import PageCache, SurveyCache
from survey.web.cors import SurveyCorsMiddleware
from survey.web.deps import DatabaseDep
from survey.web.headers import SecurityHeadersMiddleware
from survey.web.limits import BodyLimitMiddleware
from survey.web.staff import SignInRequired, TwoStepRequired, sign_in_url
from survey.web.state import AppState
from survey.web.templating import make_templates
from survey.web.writes import ResponseWriter

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    database = Database(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with database.begin(write=True) as session:
            state.signing_secret = store.signing_secret(session, configured=settings.secret_key)
        state.form_tokens = FormTokens(
            state.signing_secret, max_age_seconds=settings.form_token_max_age_seconds
        )
        # Objects made at start-up live as long as the process: moving them out
        # of the collector's reach spares every full collection (tens of ms
        # under load) from walking them again.
        gc.collect()
        gc.freeze()
        purging = asyncio.get_running_loop().create_task(_purge_periodically(database, settings))
        delivering = (
            asyncio.get_running_loop().create_task(deliver_periodically(database, settings))
            if settings.delivery == "inline"
            else None
        )
        yield
        purging.cancel()
        if delivering is not None:
            delivering.cancel()
        database.dispose()

    app = FastAPI(
        title="reader-survey",
        version=__version__,
        description="Reader-feedback surveys: public definitions, submissions, CSV export.",
        lifespan=lifespan,
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    state = AppState(
        settings=settings,
        database=database,
        templates=make_templates(),
        surveys=SurveyCache(settings.definition_cache_seconds),
        pages=PageCache(),
        writer=ResponseWriter(database, mail=settings.mail_on),
        rate_limit=parse_rate_limit(settings.rate_limit),
        trusted_proxies=parse_networks(settings.trusted_proxies),
    )
    app.state.survey = state

    app.add_middleware(SurveyCorsMiddleware, surveys=state.surveys)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(errors.UnexpectedErrorMiddleware)
    app.add_middleware(
        SecurityHeadersMiddleware,
        https=(settings.public_url or "").startswith("https://"),
    )
    if settings.allowed_hosts:
        # Outermost: a request for a host we do not serve gets 400 before anything.
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    # The hot path first: the form page as a plain Starlette route (see
    # web/public/form.py); public.router describes it in the OpenAPI schema.
    app.add_route("/s/{slug}", public.form_page, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(public.router)
    app.include_router(api.router)
    app.include_router(embed.router)
    app.include_router(admin.router)
    errors.install(app)
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(TwoStepRequired, _to_two_step_setup)

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="200 when the database answers and takes writes",
        responses={503: {"description": "The database does not answer, or refuses writes"}},
    )
    async def healthz(database: DatabaseDep) -> JSONResponse:
        problem = await database.run(functools.partial(_health_problem, database))
        if problem is None:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": problem}, status_code=503)

    return app


def _health_problem(database: Database) -> str | None:
    """None when the database answers and a small write commits (a database
    that answers may still refuse every write: a full disk)."""
    if not database.ping():
        return "database unavailable"
    try:
        with database.write_connection() as conn:
            store.probe_write(conn)
    except STORAGE_ERRORS as exc:
        log.warning("health check: the database refuses writes: %s", one_line(exc))
        return "database refuses writes"
    return None


async def _purge_periodically(database: Database, settings: Settings) -> None:
    """Retention, applied by the server itself: at start and then every interval."""

    def purge() -> None:
        with database.begin(write=True) as session:
            now = utcnow()
            store.purge_expired(session, now=now)
            store.purge_spam(session, before=now - timedelta(days=settings.spam_retention_days))
            store.purge_audit(session, before=now - timedelta(days=settings.audit_retention_days))
            store.purge_sessions(session, now=now)
            store.purge_hits(session, before=now - timedelta(days=1))

    while True:
        try:
            await database.run(purge)
        except Exception:  # a failed purge must never take the server down
            log.exception("purging expired responses failed; will try again")
        await asyncio.sleep(settings.purge_interval_seconds)


async def _to_two_step_setup(request: Request, exc: Exception) -> Response:
    return RedirectResponse("/admin/account/two-step", status_code=303)


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(sign_in_url(exc.next_path), status_code=303)


def app_from_environment() -> FastAPI:
    """The factory `survey serve` hands to uvicorn: each worker reads the environment."""
    return create_app(Settings())
