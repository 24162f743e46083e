"""Staff accounts: who may sign in, as viewer or admin."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import store
from survey.accounts import ROLES, check_new_account, hash_password
from survey.i18n import N_
from survey.web.admin.common import RowId, audit, not_found, notice, page, router, see_other
from survey.web.deps import SessionDep, database_of
from survey.web.staff import AdminDep, Staff


def _users_page(
    request: Request,
    staff: Staff,
    session: Session,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "admin/users.html",
        staff,
        {
            "users": store.list_users(session),
            "roles": ROLES,
            "errors": errors or {},
            "values": values or {"email": "", "role": "viewer"},
            "reset": notice(request, "reset"),
            "two_step_off": notice(request, "two_step_off"),
        },
        status_code=status_code,
    )


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, staff: AdminDep, session: SessionDep) -> Response:
    return _users_page(request, staff, session)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    staff: AdminDep,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=20)] = "viewer",
    password: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    address, errors = check_new_account(email, role, password)
    if not errors:
        with database_of(request).begin(write=True) as writing:
            if store.find_user(writing, email=address) is not None:
                errors["email"] = N_("There is already an account with this email address")
            else:
                store.create_user(
                    writing, email=address, password_hash=hash_password(password), role=role
                )
                audit(writing, request, staff, "user_create", user=address, role=role)
    if errors:
        values = {"email": email, "role": role}
        return _users_page(request, staff, session, errors=errors, values=values, status_code=422)
    return see_other("/admin/users")


@router.post("/users/{user_id}/{change}")
def change_user(
    request: Request, staff: AdminDep, user_id: RowId, change: Literal["disable", "enable"]
) -> Response:
    with database_of(request).begin(write=True) as session:
        user = store.get_user(session, user_id=user_id)
        if user is None:
            raise not_found(N_("There is no such user."))
        if user.id == staff.user.id:
            raise HTTPException(
                status_code=409,
                detail=N_("You cannot disable your own account: ask another admin."),
            )
        if change == "disable":
            store.disable_user(session, user=user)
        else:
            store.enable_user(session, user=user)
        audit(session, request, staff, f"user_{change}", user=user.email)
    return see_other("/admin/users")
