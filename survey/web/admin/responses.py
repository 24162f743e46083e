"""One survey's answers: the table, one response, its deletion, the summary."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import store
from survey.definitions import SurveyDefinition
from survey.i18n import N_
from survey.reports import summarise
from survey.web.admin.common import (
    PAGE_SIZE,
    Cursor,
    RowId,
    audit,
    filter_context,
    not_found,
    notice,
    page,
    response_filter,
    router,
    see_other,
    see_other_with_notice,
    staff_lang,
    survey_view,
)
from survey.web.deps import SessionDep, database_of
from survey.web.staff import AdminDep, StaffDep

NO_RESPONSE = N_("There is no such response (it may have been deleted).")


@router.get("/surveys/{slug}/responses", response_class=HTMLResponse)
def responses(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    slug: str,
    before: Cursor = None,
    after: Cursor = None,
) -> Response:
    view = survey_view(session, slug, staff_lang(request))
    where = response_filter(request, view)
    conn = session.connection()
    total = store.count_responses(conn, survey_id=view.id, where=where)
    rows, more = store.page_of_responses(
        conn, survey_id=view.id, where=where, before=before, after=after, size=PAGE_SIZE
    )
    # The columns the staff member chose (?col=KEY, kept in every link), else the first four.
    chosen = request.query_params.getlist("col")
    shown = [q for q in view.questions if q.key in chosen] or view.questions[:4]
    columns = [("col", q.key) for q in shown] if chosen else []
    query = [*where.query_items(), *columns]
    older = newer = None
    if rows and (more or after is not None):
        older = "?" + urlencode([*query, ("before", rows[-1].id)])
    if rows and (before is not None or (after is not None and more)):
        newer = "?" + urlencode([*query, ("after", rows[0].id)])
    return page(
        request,
        "admin/responses.html",
        staff,
        {
            **filter_context(view, where, staff_lang(request)),
            "total": total,
            "rows": rows,
            "older": older,
            "newer": newer,
            "shown_questions": shown,
            "column_query": urlencode(columns),
            "columns": columns,
            "deleted": notice(request, "deleted"),
        },
    )


def _one(request: Request, session: Session, slug: str, response_id: int) -> dict[str, Any]:
    """A response with its survey and the questions of the version it answered."""
    view = survey_view(session, slug, staff_lang(request))
    row = store.get_response(session.connection(), survey_id=view.id, response_id=response_id)
    if row is None:
        raise not_found(NO_RESPONSE)
    return {"survey": view, "row": row, "questions": view.versions.get(row.version, view.questions)}


@router.get("/surveys/{slug}/responses/{response_id}", response_class=HTMLResponse)
def one_response(
    request: Request, staff: StaffDep, session: SessionDep, slug: str, response_id: RowId
) -> Response:
    context = _one(request, session, slug, response_id)
    newer, older = store.neighbours(
        session.connection(), survey_id=context["survey"].id, response_id=response_id
    )
    definition = SurveyDefinition.model_validate(context["survey"].survey.definition)
    quotes = definition.results.quotes if definition.results else None
    context |= {
        "deleted": False,
        "newer": newer,
        "older": older,
        "quotes": quotes,
        "featured": store.is_featured(session.connection(), response_id=response_id),
        "consented": quotes is not None
        and context["row"].answers.get(quotes.consent) in (True, 1, "true", "yes"),
    }
    return page(request, "admin/response.html", staff, context)


@router.get("/surveys/{slug}/responses/{response_id}/delete", response_class=HTMLResponse)
def confirm_delete(
    request: Request, staff: AdminDep, session: SessionDep, slug: str, response_id: RowId
) -> Response:
    """The step before deleting: what will go, and a button to confirm."""
    return page(
        request, "admin/response_delete.html", staff, _one(request, session, slug, response_id)
    )


@router.post("/surveys/{slug}/responses/{response_id}/feature")
def feature_response(
    request: Request,
    staff: AdminDep,
    slug: str,
    response_id: RowId,
    featured: Annotated[str, Form(pattern="^(yes|no)$")],
) -> Response:
    """Feature (or stop featuring) a response's words on the public results
    page; they show there only if the reader also consented to be quoted."""
    with database_of(request).begin(write=True) as session:
        view = survey_view(session, slug)
        done = store.set_featured(
            session, survey_id=view.id, response_id=response_id, featured=featured == "yes"
        )
        if not done:
            raise not_found(NO_RESPONSE)
        audit(
            session,
            request,
            staff,
            "feature_response" if featured == "yes" else "unfeature_response",
            survey_slug=slug,
            response_id=response_id,
        )
    return see_other(f"/admin/surveys/{slug}/responses/{response_id}")


@router.post("/surveys/{slug}/responses/{response_id}/delete")
def delete_response(request: Request, staff: AdminDep, slug: str, response_id: RowId) -> Response:
    with database_of(request).begin(write=True) as session:
        view = survey_view(session, slug, staff_lang(request))
        if not store.delete_response(session, survey_id=view.id, response_id=response_id):
            raise not_found(NO_RESPONSE)
        audit(session, request, staff, "delete_response", survey_slug=slug, response_id=response_id)
    return see_other_with_notice(
        request, f"/admin/surveys/{slug}/responses", "deleted", response_id
    )


@router.get("/surveys/{slug}/summary", response_class=HTMLResponse)
def summary(request: Request, staff: StaffDep, session: SessionDep, slug: str) -> Response:
    view = survey_view(session, slug, staff_lang(request))
    where = response_filter(request, view)
    lang = staff_lang(request)
    result = summarise(
        database_of(request), survey_id=view.id, questions=view.questions, where=where, lang=lang
    )
    return page(
        request,
        "admin/summary.html",
        staff,
        {**filter_context(view, where, lang), "summary": result},
    )
