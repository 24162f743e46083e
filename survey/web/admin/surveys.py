"""Loading a survey file (a new survey, or a new version of one) from the browser."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from survey import store
from survey.definitions import DefinitionError, parse_definition
from survey.web.admin.common import audit, page, router, see_other_with_notice
from survey.web.deps import database_of
from survey.web.staff import AdminDep


@router.get("/surveys/new", response_class=HTMLResponse)
def new_survey(request: Request, staff: AdminDep) -> Response:
    return page(request, "admin/survey_load.html", staff, {"text": "", "error": None})


@router.post("/surveys", response_class=HTMLResponse)
def load_survey(
    request: Request,
    staff: AdminDep,
    definition: Annotated[str, Form(max_length=60_000)] = "",
) -> Response:
    try:
        parsed = parse_definition(definition, "the survey file")
    except DefinitionError as exc:
        return page(
            request,
            "admin/survey_load.html",
            staff,
            {"text": definition, "error": str(exc)},
            status_code=422,
        )
    with database_of(request).begin(write=True) as session:
        result = store.load_definition(session, definition=parsed)
        audit(
            session,
            request,
            staff,
            "survey_load",
            survey_slug=result.slug,
            outcome=result.outcome,
            version=result.version,
        )
    return see_other_with_notice(request, "/admin", "loaded", result.slug)
