"""Signing in and out of the staff workspace."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import anyio
import sqlalchemy as sa
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature

from survey import store, twostep
from survey.accounts import verify_password
from survey.db import Database
from survey.i18n import N_
from survey.models import StaffUser, utcnow
from survey.ratelimit import SignInKeys, sign_in_keys
from survey.settings import Settings
from survey.web.admin.common import WRONG_CODE, audit, page, router, see_other, staff_lang
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
    timed_signer,
)
from survey.web.state import state_of

SIGN_IN_FAILED = N_("The email address or password is not right.")
EXPIRED = N_("The sign-in form had expired. Enter your details again.")
LIMITED = N_("Too many failed sign-ins. Wait 15 minutes, then try again.")
PENDING_SECONDS = 5 * 60
MAX_FAILURE_DELAY = 30.0
UNKNOWN_ACCOUNT = "(no such account)"


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
            error=EXPIRED,
            status_code=403,
        )
    client = client_of(request)
    address = email.strip().lower()
    keys = sign_in_keys(
        state_of(request).signing_secret, email=address, client=client, now=utcnow()
    )
    # 1. Count the attempt first, atomically (an upsert): parallel guesses each
    #    see their own count, so no more than the limit ever reach a password.
    attempt = await database.run(
        functools.partial(_count_attempt, database, settings, keys, address, client)
    )
    if attempt.refused:
        return _sign_in_form(
            request,
            next=target,
            email=email,
            error=LIMITED,
            status_code=429,
        )
    # 2. The password hash is checked outside any transaction and off the
    #    database's thread: on SQLite that thread is every submission's too.
    user = attempt.user
    usable = user is not None and user.disabled_at is None
    good = await anyio.to_thread.run_sync(
        verify_password, password, user.password_hash if usable and user else None
    )
    if good and user is not None and user.two_step:
        # The password was right; the code from the app comes next.  The
        # attempt is given back (only failures use up the budget); each code
        # tried is counted on its own.
        await database.run(functools.partial(_give_back, database, keys))
        nonce = request.cookies.get(SIGN_IN_COOKIE, "")
        pending = timed_signer(request, "two-step-pending").sign(f"{user.id}:{nonce}").decode()
        return _code_form(request, next=target, token=token, pending=pending, error=None)
    # 3. The outcome, in one short write.
    plain = await database.run(
        functools.partial(
            _record_outcome, database, settings, keys, user, good, client, lang=staff_lang(request)
        )
    )
    if plain is None:
        await _slow_down(settings, attempt)
        return _sign_in_form(
            request, next=target, email=email, error=SIGN_IN_FAILED, status_code=401
        )
    assert plain is not None
    return _signed_in(request, target, plain)


def _signed_in(request: Request, target: str, plain: str) -> Response:
    settings = state_of(request).settings
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


async def _slow_down(settings: Settings, attempt: Attempt) -> None:
    """Slower after each failure of this account from this client: guessing
    gets expensive long before the limit (1, 2, 4 ... up to 30 s)."""
    delay = settings.sign_in_failure_delay_seconds * 2 ** (attempt.pair_count - 1)
    await anyio.sleep(min(delay, MAX_FAILURE_DELAY))


def _code_form(
    request: Request, *, next: str, token: str, pending: str, error: str | None
) -> Response:
    return page(
        request,
        "admin/login_code.html",
        None,
        {"next": next, "sign_in_token": token, "pending": pending, "error": error},
        status_code=401 if error else 200,
    )


@router.post("/login/code", response_class=HTMLResponse)
async def sign_in_code(
    request: Request,
    code: Annotated[str, Form(max_length=50)] = "",
    pending: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/admin",
    token: Annotated[str, Form(alias="_sign_in", max_length=200)] = "",
) -> Response:
    """The second step: the code from the app (or a recovery code), for a
    password checked in the last few minutes in this same browser."""
    settings = state_of(request).settings
    database = database_of(request)
    target = safe_next(next)
    try:
        value = timed_signer(request, "two-step-pending").unsign(pending, max_age=PENDING_SECONDS)
        user_id, _, nonce = value.decode().partition(":")
    except BadSignature:
        user_id, nonce = "", ""
    if (
        not sign_in_token_ok(request, token)
        or not user_id.isdigit()
        or nonce != request.cookies.get(SIGN_IN_COOKIE)
    ):
        return _sign_in_form(request, next=target, email="", error=EXPIRED, status_code=403)

    def read() -> StaffUser | None:
        with database.session() as session:
            return store.get_user(session, user_id=int(user_id))

    found = await database.run(read)
    if found is None or found.disabled_at is not None or not found.two_step:
        return _sign_in_form(request, next=target, email="", error=EXPIRED, status_code=403)
    client = client_of(request)
    secret = state_of(request).signing_secret
    keys = sign_in_keys(secret, email=found.email, client=client, now=utcnow())
    attempt = await database.run(
        functools.partial(_count_attempt, database, settings, keys, found.email, client)
    )
    user = attempt.user
    if attempt.refused or user is None or not user.two_step:
        return _sign_in_form(request, next=target, email="", error=LIMITED, status_code=429)
    assert user.totp_secret is not None
    step = twostep.check_code(user.totp_secret, code, last_step=user.totp_last_step, now=utcnow())
    left = None if step is not None else twostep.use_recovery_code(user.recovery_codes or [], code)
    good = step is not None or left is not None
    plain = await database.run(
        functools.partial(
            _record_outcome,
            database,
            settings,
            keys,
            user,
            good,
            client,
            step=step,
            left=left,
            lang=staff_lang(request),
        )
    )
    if plain is None:
        await _slow_down(settings, attempt)
        return _code_form(request, next=target, token=token, pending=pending, error=WRONG_CODE)
    return _signed_in(request, target, plain)


@dataclass(frozen=True)
class Attempt:
    refused: bool
    pair_count: int  # attempts of this account from this client in the window
    user: StaffUser | None


def _count_attempt(
    database: Database, settings: Settings, keys: SignInKeys, address: str, client: str
) -> Attempt:
    with database.begin(write=True) as session:
        conn = session.connection()
        pair = store.count_hit(conn, client_key=keys.pair, window_start=keys.window_start)
        from_client = store.count_hit(conn, client_key=keys.client, window_start=keys.window_start)
        user = store.find_user(session, email=address) if address else None
        over_pair = pair - settings.sign_in_attempts_per_account
        over_client = from_client - settings.sign_in_attempts_per_client
        refused = over_pair > 0 or over_client > 0
        if over_pair == 1 or over_client == 1:
            # One line per refused pair or client and window, not one per try.
            store.audit(session, action="sign_in_refused", actor=_actor(user), client=client)
    return Attempt(refused, pair, user)


def _record_outcome(
    database: Database,
    settings: Settings,
    keys: SignInKeys,
    user: StaffUser | None,
    good: bool,
    client: str,
    *,
    step: int | None = None,
    left: list[str] | None = None,
    lang: str | None = None,
) -> str | None:
    """A new session's token for a good password (and code); else None, the
    failure audited.  ``step``/``left``: what the two-step code used up;
    ``lang``: the browser's language, kept for the person's emails."""
    with database.begin(write=True) as session:
        if not good or user is None:
            store.audit(session, action="sign_in_failed", actor=_actor(user), client=client)
            return None
        if step is not None or left is not None:
            user = session.merge(user)
            store.two_step_used(session, user=user, step=step, recovery_hashes=left)
        # A good sign-in gives its counts back: only failures use up the budget.
        _uncount(session.connection(), keys)
        if lang is not None:
            user = session.merge(user)
            store.remember_language(session, user=user, lang=lang)
        _, plain = store.create_session(
            session, user=user, lifetime=timedelta(hours=settings.session_hours)
        )
        store.audit(session, action="sign_in", actor=user.email, client=client)
        return plain


def _uncount(conn: sa.Connection, keys: SignInKeys) -> None:
    store.uncount_hit(conn, client_key=keys.pair, window_start=keys.window_start)
    store.uncount_hit(conn, client_key=keys.client, window_start=keys.window_start)


def _give_back(database: Database, keys: SignInKeys) -> None:
    with database.begin(write=True) as session:
        _uncount(session.connection(), keys)


def _actor(user: StaffUser | None) -> str:
    # Never what was typed: a password typed in the email box would be kept.
    return user.email if user is not None else UNKNOWN_ACCOUNT


@router.post("/logout")
def sign_out(request: Request, staff: StaffDep) -> Response:
    assert staff.session.id is not None
    with database_of(request).begin(write=True) as session:
        store.end_session(session, staff_session_id=staff.session.id)
        audit(session, request, staff, "sign_out")
    response = see_other("/admin/login")
    response.delete_cookie(COOKIE, path="/")
    return response
