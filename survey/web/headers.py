"""Security headers on every response.

- A strict Content-Security-Policy: our own scripts, styles and forms only, no
  inline script, no other host.  The API docs (Swagger UI and ReDoc load their
  assets from a CDN) get only the framing part.
- Who may frame a page: public form pages (under /s/) set their own
  ``frame-ancestors`` from the survey's ``embed_origins`` (``frame_policy``);
  every other page may not be framed at all (``'none'`` and
  ``X-Frame-Options: DENY``).
- ``Cache-Control: no-store`` on everything but static files: pages carry
  answers or a per-view form token, which a shared cache must never hand to
  someone else.
- ``nosniff``, a strict referrer policy, and a Permissions-Policy that turns
  off what a survey never uses.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from survey.definitions import SurveyDefinition

CSP = "Content-Security-Policy"
BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
DENY_FRAMING = "frame-ancestors 'none'"
FIXED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "interest-cohort=()",
}
THIRD_PARTY_ASSETS = ("/docs", "/redoc")
CACHEABLE = ("/static/", "/embed.js")


def frame_policy(definition: SurveyDefinition) -> dict[str, str]:
    """The framing part of a form page's policy; the middleware adds the rest."""
    if definition.embed_origins is None:
        return {CSP: "frame-ancestors *"}
    sources = " ".join(["'self'", *definition.embed_origins])
    return {CSP: f"frame-ancestors {sources}"}


# Sent only when the product's configured address is https: a browser then
# refuses plain http to this host for a year (a first visit over http, or a
# TLS-stripping proxy on the way, can no longer downgrade the staff pages).
HSTS = "max-age=31536000"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        base = None if path.startswith(THIRD_PARTY_ASSETS) else BASE_POLICY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                framing = headers.get(CSP)
                if framing is None:
                    framing = DENY_FRAMING
                    headers["X-Frame-Options"] = "DENY"
                headers[CSP] = f"{base}; {framing}" if base else framing
                for name, value in FIXED.items():
                    headers.setdefault(name, value)
                if self.https:
                    headers["Strict-Transport-Security"] = HSTS
                if "cache-control" not in headers and not path.startswith(CACHEABLE):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
