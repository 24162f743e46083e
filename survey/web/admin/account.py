"""Passwords: a staff member changes their own (Your account), an admin sets a
new one for someone who lost theirs.  Either way the account's other
sessions end."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from survey import store
from survey.accounts import hash_password, password_problem, verify_password
from survey.i18n import N_
from survey.web.admin.common import (
    audit,
    not_found,
    notice,
    page,
    router,
    see_other_with_notice,
)
from survey.web.deps import SessionDep, database_of
from survey.web.staff import AdminDep, Staff, StaffDep

Password = Annotated[str, Form(max_length=2048)]
NO_USER = N_("There is no such user.")


def _account_page(
    request: Request, staff: Staff, *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    return page(
        request,
        "admin/account.html",
        staff,
        {"errors": errors or {}, "changed": notice(request, "changed")},
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
    request: Request, staff: AdminDep, session: SessionDep, user_id: int
) -> Response:
    user = store.get_user(session, user_id=user_id)
    if user is None:
        raise not_found(NO_USER)
    return _reset_page(request, staff, user.email, user_id)


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    request: Request, staff: AdminDep, user_id: int, password: Password = ""
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
