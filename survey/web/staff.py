"""Who is signed in to the staff pages, and what they may do.

A sign-in makes a server-side session (``StaffSession``): the browser keeps a
random token in a signed, HttpOnly, SameSite=Lax cookie; the database keeps
its hash, its expiry and the CSRF token that every admin form sends back.
Disabling a user or signing out deletes the row, so it takes effect at once.

Every staff route depends on ``StaffDep`` (viewer or admin) or ``AdminDep``;
the role is checked here on the server, never only by hiding a link.  A POST
also needs its CSRF token and must come from our own pages.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, Signer, TimestampSigner
from sqlmodel import Session

from survey import store
from survey.i18n import N_
from survey.models import StaffSession, StaffUser, utcnow
from survey.web.deps import SessionDep, public_base, sent_from_our_pages
from survey.web.state import state_of

COOKIE = "survey_staff"
SEEN_PRECISION = timedelta(minutes=1)
SIGN_IN_COOKIE = "survey_sign_in"  # the sign-in form's own CSRF token, before any session
CSRF_FIELD = "_csrf"


class TwoStepRequired(Exception):
    """An admin without two-step sign-in while SURVEY_REQUIRE_2FA is on:
    answered with a redirect to its set-up page."""


# What an admin who must set up two-step sign-in can still reach.
TWO_STEP_SETUP_PATHS = ("/admin/account", "/admin/logout")


class SignInRequired(Exception):
    """Raised for a staff page without a live session; answered with a redirect."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Staff:
    user: StaffUser
    session: StaffSession

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_admin(self) -> bool:
        return self.user.role == "admin"

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token


def signer(request: Request, purpose: str) -> Signer:
    secret = state_of(request).signing_secret
    return Signer(secret, salt=f"reader-survey.{purpose}")


def timed_signer(request: Request, purpose: str) -> TimestampSigner:
    secret = state_of(request).signing_secret
    return TimestampSigner(secret, salt=f"reader-survey.{purpose}")


def sign_in_url(next_path: str) -> str:
    return f"/admin/login?next={quote(next_path, safe='/')}"


def secure_cookies(request: Request) -> bool:
    configured = state_of(request).settings.secure_cookies
    if configured is not None:
        return configured
    return public_base(request).startswith("https://")


def current_staff(request: Request, session: Session) -> Staff | None:
    """The signed-in staff member, looked up in the request's one read session."""
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    try:
        plain = signer(request, "staff-session").unsign(cookie).decode()
    except BadSignature:
        return None
    state = state_of(request)
    now = utcnow()
    idle = timedelta(minutes=state.settings.session_idle_minutes)
    found = store.find_session(session, plain=plain, now=now, idle=idle)
    if found is None:
        return None
    staff_session, user = found
    seen = staff_session.last_seen_at
    if seen is None or now - seen > SEEN_PRECISION:
        # Kept to the minute: one small write a minute per session, not one a request.
        assert staff_session.id is not None
        with state.database.begin(write=True) as writing:
            store.session_seen(writing, staff_session_id=staff_session.id, now=now)
    return Staff(user=user, session=staff_session)


async def _check_csrf(request: Request, staff: Staff) -> None:
    if request.method in ("GET", "HEAD"):
        return
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if (
        not sent_from_our_pages(request)
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent.encode(), staff.csrf_token.encode())
    ):
        raise HTTPException(
            status_code=403,
            detail=N_(
                "This form could not be checked (it is old or came from another site). "
                "Go back, reload the page and try again."
            ),
        )


def _signed_in(request: Request, session: SessionDep) -> Staff:
    staff = current_staff(request, session)
    if staff is None:
        target = request.url.path
        if request.url.query and request.method == "GET":
            target += "?" + request.url.query
        raise SignInRequired(target if request.method == "GET" else "/admin")
    if (
        staff.is_admin
        and not staff.user.two_step
        and state_of(request).settings.require_2fa
        and not request.url.path.startswith(TWO_STEP_SETUP_PATHS)
    ):
        raise TwoStepRequired
    return staff


async def require_staff(request: Request, staff: Annotated[Staff, Depends(_signed_in)]) -> Staff:
    await _check_csrf(request, staff)
    return staff


async def require_admin(request: Request, staff: Annotated[Staff, Depends(_signed_in)]) -> Staff:
    if not staff.is_admin:
        raise HTTPException(
            status_code=403, detail=N_("Only an admin can do this. Ask an admin of this site.")
        )
    await _check_csrf(request, staff)
    return staff


StaffDep = Annotated[Staff, Depends(require_staff)]
AdminDep = Annotated[Staff, Depends(require_admin)]


def new_sign_in_token(request: Request) -> tuple[str, str]:
    """(cookie value, form value) for the sign-in form's double-submit check."""
    nonce = secrets.token_urlsafe(24)
    return nonce, signer(request, "sign-in").sign(nonce).decode()


def sign_in_token_ok(request: Request, sent: str | None) -> bool:
    cookie = request.cookies.get(SIGN_IN_COOKIE)
    if not cookie or not sent or not sent_from_our_pages(request):
        return False
    try:
        nonce = signer(request, "sign-in").unsign(sent).decode()
    except BadSignature:
        return False
    return hmac.compare_digest(nonce.encode(), cookie.encode())
