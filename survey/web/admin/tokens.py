"""API tokens for scripts that download answers (shown once, kept as a hash)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import store
from survey.i18n import N_
from survey.models import utcnow
from survey.web.admin.common import RowId, audit, not_found, page, router, see_other
from survey.web.deps import SessionDep, database_of
from survey.web.staff import AdminDep, Staff


def _tokens_page(
    request: Request,
    staff: Staff,
    session: Session,
    *,
    new_token: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "admin/tokens.html",
        staff,
        {
            "tokens": store.list_tokens(session),
            "survey_slugs": [survey.slug for survey in store.list_surveys(session)],
            "now": utcnow(),
            "new_token": new_token,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/tokens", response_class=HTMLResponse)
def tokens(request: Request, staff: AdminDep, session: SessionDep) -> Response:
    return _tokens_page(request, staff, session)


@router.post("/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    staff: AdminDep,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    survey: Annotated[str, Form(max_length=200)] = "",
    expires: Annotated[Literal["30", "90", "365", "never"], Form()] = "90",
) -> Response:
    if not name.strip():
        return _tokens_page(
            request,
            staff,
            session,
            error=N_("Give the token a name, such as what will use it"),
            status_code=422,
        )
    scope = store.get_survey(session, slug=survey) if survey else None
    if survey and scope is None:
        return _tokens_page(
            request,
            staff,
            session,
            error=N_("There is no survey at this address."),
            status_code=422,
        )
    expires_at = None if expires == "never" else utcnow() + timedelta(days=int(expires))
    with database_of(request).begin(write=True) as writing:
        token, plain = store.create_token(
            writing,
            name=name.strip(),
            owner_id=staff.user.id,
            survey_id=scope.id if scope else None,
            expires_at=expires_at,
        )
        audit(
            writing,
            request,
            staff,
            "token_create",
            token_id=token.id,
            name=token.name,
            survey_slug=survey or None,
            expires=expires,
        )
    # Shown on this page once; only its hash is kept.  Listed from a session
    # opened after the commit: the request's own read began before it.
    with database_of(request).session() as fresh:
        return _tokens_page(request, staff, fresh, new_token=plain)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, staff: AdminDep, token_id: RowId) -> Response:
    with database_of(request).begin(write=True) as session:
        token = store.revoke_token(session, token_id=token_id)
        if token is None:
            raise not_found(N_("There is no such token."))
        audit(session, request, staff, "token_revoke", token_id=token_id, name=token.name)
    return see_other("/admin/tokens")
