"""Signing in and out of the staff workspace."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import anyio
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from survey import store
from survey.accounts import verify_password
from survey.i18n import N_
from survey.models import utcnow
from survey.web.admin.common import audit, page, router, see_other
from survey.web.deps import SessionDep, database_of
from survey.web.limits import client_of
from survey.web.staff import (
    COOKIE,
    SIGN_IN_COOKIE,
    StaffDep,
    current_staff,
    new_sign_in_token,
    secure_cookies,
    sign_in_token_ok,
    signer,
)
from survey.web.state import state_of

FAILURE_WINDOW = timedelta(minutes=15)
SIGN_IN_FAILED = N_("The email address or password is not right.")


def safe_next(target: str | None) -> str:
    # Only a path on this site: never an open redirect to another host.
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"


@router.get("/login", response_class=HTMLResponse)
def sign_in_page(request: Request, session: SessionDep, next: str | None = None) -> Response:
    if current_staff(request, session) is not None:
        return see_other(safe_next(next))
    return _sign_in_form(request, next=safe_next(next), email="", error=None)


def _sign_in_form(
    request: Request, *, next: str, email: str, error: str | None, status_code: int = 200
) -> Response:
    cookie, token = new_sign_in_token(request)
    response = page(
        request,
        "admin/login.html",
        None,
        {"next": next, "email": email, "error": error, "sign_in_token": token},
        status_code=status_code,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        cookie,
        max_age=3600,
        path="/admin/login",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


@router.post("/login", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/admin",
    token: Annotated[str, Form(alias="_sign_in", max_length=200)] = "",
) -> Response:
    settings = state_of(request).settings
    database = database_of(request)
    target = safe_next(next)
    if not sign_in_token_ok(request, token):
        return _sign_in_form(
            request,
            next=target,
            email=email,
            error=N_("The sign-in form had expired. Enter your details again."),
            status_code=403,
        )
    client = client_of(request)
    address = email.strip().lower()

    def attempt() -> tuple[str, str | None]:
        with database.begin(write=True) as session:
            account, from_client = store.recent_failures(
                session, since=utcnow() - FAILURE_WINDOW, email=address, client=client
            )
            if (
                account >= settings.sign_in_attempts_per_account
                or from_client >= settings.sign_in_attempts_per_client
            ):
                store.audit(session, action="sign_in_refused", actor=address, client=client)
                return "limited", None
            user = store.find_user(session, email=address) if address else None
            usable = user is not None and user.disabled_at is None
            if not verify_password(password, user.password_hash if usable and user else None):
                store.audit(session, action="sign_in_failed", actor=address, client=client)
                return "failed", None
            assert user is not None
            _, plain = store.create_session(
                session, user=user, lifetime=timedelta(hours=settings.session_hours)
            )
            store.audit(session, action="sign_in", actor=user.email, client=client)
            return "ok", plain

    outcome, plain = await database.run(attempt)
    if outcome == "limited":
        return _sign_in_form(
            request,
            next=target,
            email=email,
            error=N_("Too many failed sign-ins. Wait 15 minutes, then try again."),
            status_code=429,
        )
    if outcome == "failed":
        # Slowed down: guessing passwords gets expensive even below the limits.
        await anyio.sleep(settings.sign_in_failure_delay_seconds)
        return _sign_in_form(
            request, next=target, email=email, error=SIGN_IN_FAILED, status_code=401
        )
    assert plain is not None
    response = see_other(target)
    response.set_cookie(
        COOKIE,
        signer(request, "staff-session").sign(plain).decode(),
        max_age=int(settings.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/admin/login")
    return response


@router.post("/logout")
def sign_out(request: Request, staff: StaffDep) -> Response:
    assert staff.session.id is not None
    with database_of(request).begin(write=True) as session:
        store.end_session(session, staff_session_id=staff.session.id)
        audit(session, request, staff, "sign_out")
    response = see_other("/admin/login")
    response.delete_cookie(COOKIE, path="/")
    return response
