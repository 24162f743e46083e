"""Passwords: a staff member changes their own (Your account), an admin sets a
new one for someone who lost theirs.  Either way the account's other
sessions end."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from itsdangerous import BadSignature

from survey import store, twostep
from survey.accounts import hash_password, password_problem, verify_password
from survey.i18n import N_
from survey.models import utcnow
from survey.web.admin.common import (
    WRONG_CODE,
    RowId,
    audit,
    not_found,
    notice,
    page,
    router,
    see_other_with_notice,
)
from survey.web.admin.notifications import account_context
from survey.web.deps import SessionDep, database_of
from survey.web.staff import AdminDep, Staff, StaffDep, timed_signer
from survey.web.state import state_of

Password = Annotated[str, Form(max_length=2048)]
NO_USER = N_("There is no such user.")
SETUP_SECONDS = 15 * 60
SETUP_EXPIRED = N_("The set-up page was open too long. Add this new key to your app instead")


def _account_page(
    request: Request, staff: Staff, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    with database_of(request).session() as session:
        mail = account_context(request, session, staff)
    return page(
        request,
        "admin/account.html",
        staff,
        {"errors": errors or {}, "changed": notice(request, "changed"), **mail},
        status_code=status_code,
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, staff: StaffDep) -> Response:
    return _account_page(request, staff)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request, staff: StaffDep, current: Password = "", new: Password = ""
) -> Response:
    errors: dict[str, str] = {}
    if not await anyio.to_thread.run_sync(verify_password, current, staff.user.password_hash):
        errors["current"] = N_("Enter your current password")
    problem = password_problem(new, email=staff.email)
    if problem:
        errors["new"] = problem
    if errors:
        return _account_page(request, staff, errors=errors, status_code=422)
    password_hash = await anyio.to_thread.run_sync(hash_password, new)
    database = database_of(request)

    def save() -> None:
        with database.begin(write=True) as session:
            user = store.get_user(session, user_id=staff.user.id or 0)
            assert user is not None
            store.set_password(
                session, user=user, password_hash=password_hash, keep_session_id=staff.session.id
            )
            audit(session, request, staff, "password_change")

    await database.run(save)
    return see_other_with_notice(request, "/admin/account", "changed", "yes")


def _reset_page(
    request: Request,
    staff: Staff,
    user_email: str,
    user_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "admin/user_password.html",
        staff,
        {"user_email": user_email, "user_id": user_id, "error": error},
        status_code=status_code,
    )


@router.get("/users/{user_id}/password", response_class=HTMLResponse)
def reset_password_page(
    request: Request, staff: AdminDep, session: SessionDep, user_id: RowId
) -> Response:
    user = store.get_user(session, user_id=user_id)
    if user is None:
        raise not_found(NO_USER)
    return _reset_page(request, staff, user.email, user_id)


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    request: Request, staff: AdminDep, user_id: RowId, password: Password = ""
) -> Response:
    with database_of(request).begin(write=True) as session:
        user = store.get_user(session, user_id=user_id)
        if user is None:
            raise not_found(NO_USER)
        problem = password_problem(password, email=user.email)
        if problem:
            session.rollback()
            return _reset_page(request, staff, user.email, user_id, error=problem, status_code=422)
        store.set_password(session, user=user, password_hash=hash_password(password))
        audit(session, request, staff, "password_reset", user=user.email)
    return see_other_with_notice(request, "/admin/users", "reset", user.email)


# --- Two-step sign-in ------------------------------------------------------------------


def _two_step_page(
    request: Request,
    staff: Staff,
    *,
    setup: str | None = None,
    secret: str | None = None,
    recovery_codes: list[str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, object] = {
        "enabled": staff.user.two_step and recovery_codes is None,
        "recovery_codes": recovery_codes,
        "codes_left": len(staff.user.recovery_codes or []),
        "error": error,
        "turned_off": notice(request, "off"),
        "required": state_of(request).settings.require_2fa and staff.is_admin,
    }
    if not context["enabled"] and recovery_codes is None:
        if setup is None or secret is None:
            setup, secret = _new_setup(request, staff)
        uri = twostep.provisioning_uri(secret, staff.email)
        context |= {"setup": setup, "qr": twostep.qr_data_uri(uri), "key": twostep.grouped(secret)}
    return page(request, "admin/two_step.html", staff, context, status_code=status_code)


def _new_setup(request: Request, staff: Staff) -> tuple[str, str]:
    """A new secret, and the signed form value that carries it until confirmed
    (nothing is stored before the person proves their app has it)."""
    secret = twostep.new_secret()
    signed = timed_signer(request, "two-step-setup").sign(f"{staff.user.id}:{secret}").decode()
    return signed, secret


@router.get("/account/two-step", response_class=HTMLResponse)
def two_step(request: Request, staff: StaffDep) -> Response:
    if staff.user.two_step:
        return _two_step_page(request, staff)
    setup, secret = _new_setup(request, staff)
    return _two_step_page(request, staff, setup=setup, secret=secret)


@router.post("/account/two-step", response_class=HTMLResponse)
def two_step_confirm(
    request: Request,
    staff: StaffDep,
    setup: Annotated[str, Form(max_length=500)] = "",
    code: Annotated[str, Form(max_length=50)] = "",
) -> Response:
    if staff.user.two_step:
        return _two_step_page(request, staff)
    try:
        value = timed_signer(request, "two-step-setup").unsign(setup, max_age=SETUP_SECONDS)
        user_id, _, secret = value.decode().partition(":")
    except BadSignature:
        user_id, secret = "", ""
    if user_id != str(staff.user.id) or not secret:
        fresh, secret = _new_setup(request, staff)
        return _two_step_page(
            request, staff, setup=fresh, secret=secret, error=SETUP_EXPIRED, status_code=422
        )
    step = twostep.check_code(secret, code, last_step=None, now=utcnow())
    if step is None:
        return _two_step_page(
            request, staff, setup=setup, secret=secret, error=WRONG_CODE, status_code=422
        )
    codes, hashes = twostep.new_recovery_codes()
    with database_of(request).begin(write=True) as session:
        user = store.get_user(session, user_id=staff.user.id or 0)
        assert user is not None
        store.enable_two_step(session, user=user, secret=secret, step=step, recovery_hashes=hashes)
        audit(session, request, staff, "two_step_on")
    # Shown this once; only their hashes are kept.
    return _two_step_page(request, staff, recovery_codes=codes)


@router.post("/account/two-step/off", response_class=HTMLResponse)
async def two_step_off(request: Request, staff: StaffDep, password: Password = "") -> Response:
    if not await anyio.to_thread.run_sync(verify_password, password, staff.user.password_hash):
        return _two_step_page(
            request, staff, error=N_("Enter your current password"), status_code=422
        )
    database = database_of(request)

    def save() -> None:
        with database.begin(write=True) as session:
            user = store.get_user(session, user_id=staff.user.id or 0)
            assert user is not None
            store.disable_two_step(session, user=user)
            audit(session, request, staff, "two_step_off")

    await database.run(save)
    return see_other_with_notice(request, "/admin/account/two-step", "off", "yes")


@router.post("/users/{user_id}/two-step/off")
def two_step_off_for(request: Request, staff: AdminDep, user_id: RowId) -> Response:
    """For someone who lost their phone and their recovery codes."""
    with database_of(request).begin(write=True) as session:
        user = store.get_user(session, user_id=user_id)
        if user is None:
            raise not_found(NO_USER)
        store.disable_two_step(session, user=user)
        audit(session, request, staff, "two_step_off", user=user.email)
    return see_other_with_notice(request, "/admin/users", "two_step_off", user.email)
