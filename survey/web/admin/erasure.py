"""Erasing everything one person answered, found by their email address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from survey import store
from survey.i18n import N_
from survey.web.admin.common import audit, page, router, see_other
from survey.web.deps import SessionDep, database_of
from survey.web.staff import AdminDep

Email = Annotated[str, Form(max_length=320)]


@router.get("/erase", response_class=HTMLResponse)
def erase_page(
    request: Request, staff: AdminDep, done: Annotated[int | None, Query()] = None
) -> Response:
    return page(request, "admin/erase.html", staff, {"email": "", "error": None, "done": done})


@router.post("/erase/check", response_class=HTMLResponse)
def erase_check(
    request: Request, staff: AdminDep, session: SessionDep, email: Email = ""
) -> Response:
    address = email.strip()
    if "@" not in address:
        return page(
            request,
            "admin/erase.html",
            staff,
            {
                "email": email,
                "error": N_("Enter the email address the person answered with"),
                "done": None,
            },
            status_code=422,
        )
    counts = store.count_by_email(session, email=address)
    return page(request, "admin/erase_confirm.html", staff, {"email": address, "counts": counts})


@router.post("/erase")
def erase(request: Request, staff: AdminDep, email: Email = "") -> Response:
    address = email.strip()
    if "@" not in address:
        return see_other("/admin/erase")
    with database_of(request).begin(write=True) as session:
        responses_deleted, spam_deleted = store.erase_by_email(session, email=address)
        # The trail records that an erasure happened and how much went, not
        # whose: keeping the address would keep what was asked to be erased.
        audit(session, request, staff, "erase", responses=responses_deleted, spam=spam_deleted)
    return see_other(f"/admin/erase?done={responses_deleted}")
