"""CORS for the two API addresses a blog's own script may call from the reader's
browser: a survey's public definition and sending its answers.

A browser on one of the survey's ``embed_origins`` (none when the survey names
none: it may still be framed anywhere) may read the answers, error answers included: a page posting
answers must be able to read the 422 that explains them.  Everyone else gets
none of these headers.  This is a middleware, not a dependency, so that every
answer on these addresses carries the headers whichever handler made it.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from survey.web.cache import LiveSurvey, SurveyCache

# The addresses that answer cross-origin browsers (not the token-protected export).
CORS_PATH = re.compile(r"/api/surveys/(?P<slug>[^/]+)(?:/responses|/results)?")


def cors_headers(live: LiveSurvey | None, origin: str | None) -> dict[str, str]:
    headers = {"Vary": "Origin"}
    if live is not None and origin and origin != "null" and live.definition.allows_origin(origin):
        headers["Access-Control-Allow-Origin"] = origin
    return headers


class SurveyCorsMiddleware:
    def __init__(self, app: ASGIApp, *, surveys: SurveyCache) -> None:
        self.app = app
        self.surveys = surveys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)  # a preflight is answered by its route
            return
        found = CORS_PATH.fullmatch(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        slug = found["slug"]
        origin = Headers(scope=scope).get("origin")

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The route has looked the survey up by now (or found none).
                headers = MutableHeaders(scope=message)
                headers.update(cors_headers(self.surveys.cached(slug), origin))
            await send(message)

        await self.app(scope, receive, send_with_cors)
