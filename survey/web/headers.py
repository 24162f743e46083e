"""Who may frame which page.

Public form pages (under /s/) say who may frame them through CSP
``frame-ancestors``, from the survey's ``embed_origins``.  Every other page
(staff pages, API docs, error pages) may not be framed at all: this middleware
adds ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` to any response
that did not set its own policy.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from survey.definitions import SurveyDefinition

DENY_POLICY = "frame-ancestors 'none'"


def frame_policy(definition: SurveyDefinition) -> dict[str, str]:
    if definition.embed_origins is None:
        return {"Content-Security-Policy": "frame-ancestors *"}
    sources = " ".join(["'self'", *definition.embed_origins])
    return {"Content-Security-Policy": f"frame-ancestors {sources}"}


class FramingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = DENY_POLICY
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        await self.app(scope, receive, send_with_policy)
