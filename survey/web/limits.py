"""Limits on what a client may send: the request body, enforced while the
body is read, and the number of submissions (``submission_limit``).

A body larger than the limit is refused with ``413`` whether its size is
declared (Content-Length) or not (chunked), without reading more than the
limit into memory.  The refusal is raised from ``receive`` as an HTTP error, so
the app's own error handlers answer it: a page for the form, JSON for the API.
(Starlette's own limiter answers with plain text, replacing those.)
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from survey.models import utcnow
from survey.ratelimit import LimitCheck, check_for, client_address
from survey.web.state import state_of

TOO_LARGE = (
    "The answers sent were larger than this survey accepts. Shorten your longest "
    "answers and send them again."
)


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail=TOO_LARGE)


# Browsers send a few KB of headers; the server under uvicorn (httptools)
# takes any size, so a request whose header block is larger than this is
# answered 431 before any of the app's work (a proxy should refuse it first:
# see large_client_header_buffers in the README's nginx example).
MAX_HEADER_BYTES = 32 * 1024
MAX_HEADER_COUNT = 100


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if (
            len(headers) > MAX_HEADER_COUNT
            or sum(len(name) + len(value) for name, value in headers) > MAX_HEADER_BYTES
        ):
            response = PlainTextResponse("Request headers too large.", status_code=431)
            await response(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        too_large_declared = declared.isdigit() and int(declared) > self.max_bytes
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if too_large_declared:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)


def client_of(request: Request) -> str:
    """The client's address: the peer, or behind SURVEY_TRUSTED_PROXIES the
    right-most untrusted X-Forwarded-For hop."""
    peer = request.client.host if request.client else None
    return client_address(
        peer, request.headers.get("x-forwarded-for"), state_of(request).trusted_proxies
    )


def submission_limit(request: Request, survey_id: int) -> LimitCheck | None:
    """What this submission is counted under (None when limits are off)."""
    return check_for(
        state_of(request).rate_limit,
        state_of(request).signing_secret,
        survey_id=survey_id,
        address=client_of(request),
        now=utcnow(),
    )
