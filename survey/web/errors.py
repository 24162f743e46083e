"""How errors look: JSON under /api (422s always as ``{"errors": {key: message}}``),
an HTML page everywhere else, and never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from survey.db import STORAGE_ERRORS, one_line
from survey.i18n import LANGUAGES, N_, choose
from survey.web.templating import render

log = logging.getLogger(__name__)

TITLES = {
    400: N_("Your answers could not be read"),
    401: N_("Sign-in required"),
    403: N_("This form cannot be sent from here"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    410: N_("This survey is closed"),
    413: N_("Too much was sent"),
    415: N_("Unsupported content type"),
    422: N_("Please check your answers"),
    500: N_("Something went wrong"),
    429: N_("Too many requests"),
    503: N_("Service unavailable"),
}
# How long a client is asked to wait when the database is away.
STORAGE_RETRY_SECONDS = 5
MESSAGES = {
    503: N_(
        "We cannot save or show answers just now: our database is not answering. Nothing "
        "was saved. Please try again in a moment."
    ),
    404: N_("There is no page at this address. Check the link you followed."),
    500: N_(
        "Something went wrong on our side, and your answers were not saved. Please try "
        "again in a minute."
    ),
}


class DetailOut(BaseModel):
    detail: str


class ErrorsOut(BaseModel):
    errors: dict[str, str]


# What every JSON operation may answer besides its success, for the OpenAPI
# schema (schemathesis holds the app to it).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": DetailOut, "description": "No such survey"},
    413: {"model": DetailOut, "description": "Body over the limit"},
    422: {"model": ErrorsOut, "description": "A message for each problem"},
}


class ApiError(Exception):
    """An API answer with a message per key (a question key, or ``_body``)."""

    def __init__(self, status_code: int, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.status_code = status_code
        self.errors = errors


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in {"/healthz", "/openapi.json", "/oembed"}


def error_page(
    request: Request, status_code: int, message: str | None = None, *, lang: str | None = None
) -> Response:
    """An error as a page, in ``lang`` or else the language the address or the
    browser asks for."""
    title = TITLES.get(status_code, "Error")
    if lang is None:
        asked = request.query_params.get("lang")
        lang = choose(asked, request.headers.get("accept-language"), list(LANGUAGES))
    return render(
        request,
        "errors/error.html",
        {
            "lang": lang,
            "title": title,
            "message": message or MESSAGES.get(status_code, title),
            "embed": request.query_params.get("embed") == "1",
        },
        status_code=status_code,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    detail = exc.detail if isinstance(exc.detail, str) else None
    if _wants_json(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
    # Only our own messages are shown on pages; Starlette's defaults are replaced.
    message = detail if detail and detail != TITLES.get(exc.status_code) else None
    if exc.status_code in MESSAGES and message == "Not Found":
        message = None
    response = error_page(request, exc.status_code, message)
    response.headers.update(headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "path")]
        errors.setdefault(".".join(loc) or "_request", str(error.get("msg", "Invalid value")))
    if _wants_json(request):
        return JSONResponse({"errors": errors}, status_code=422)
    return error_page(request, 400, "; ".join(f"{k}: {v}" for k, v in errors.items()))


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse({"errors": exc.errors}, status_code=exc.status_code)


def log_storage_failure(request: Request, exc: BaseException) -> None:
    """One line per failure: an outage must not fill the disk with tracebacks."""
    log.warning("storage unavailable on %s %s: %s", request.method, request.url.path, one_line(exc))


async def _storage_unavailable(request: Request, exc: Exception) -> Response:
    log_storage_failure(request, exc)
    headers = {"Retry-After": str(STORAGE_RETRY_SECONDS)}
    if _wants_json(request):
        return JSONResponse(
            {
                "detail": "The database is not available right now; nothing was stored. "
                f"Try again in {STORAGE_RETRY_SECONDS} s."
            },
            status_code=503,
            headers=headers,
        )
    response = error_page(request, 503)
    response.headers.update(headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_json(request):
        return JSONResponse({"detail": "Internal error; nothing was saved."}, status_code=500)
    return error_page(request, 500)


class UnexpectedErrorMiddleware:
    """Answers an unexpected error with the 500 page (or JSON) itself.

    Starlette's outermost middleware would answer it too, but then re-raises,
    and uvicorn drops the connection without ``Connection: close``: a client's
    next request on it fails with a reset and cannot know what was stored.
    Here the error is logged once and the connection lives on.  Only a
    response that had already started (half a body sent) must still end the
    connection: that is the one way to tell the client it is incomplete.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            request = Request(scope)
            if isinstance(exc, STORAGE_ERRORS):
                response = await _storage_unavailable(request, exc)
            else:
                response = await _unexpected(request, exc)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """The handlers; ``UnexpectedErrorMiddleware`` (added by ``create_app``)
    answers whatever none of them does."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    for error in STORAGE_ERRORS:
        app.add_exception_handler(error, _storage_unavailable)
