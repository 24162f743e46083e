"""The workspace's first page: every survey, open or not, with its counts."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from survey import store
from survey.builder import text_in
from survey.definitions import SurveyDefinition
from survey.models import utcnow
from survey.web.admin.common import notice, page, router, staff_lang
from survey.web.deps import SessionDep
from survey.web.staff import StaffDep


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    now = utcnow()
    surveys = store.list_surveys(session)
    counts = store.survey_counts(session, now=now)
    lang = staff_lang(request)
    rows = []
    for survey in surveys:
        definition = SurveyDefinition.model_validate(survey.definition)
        found = counts.get(survey.id or 0)
        cap = definition.max_responses
        rows.append(
            {
                "survey": survey,
                # In the staff member's language when the survey has it.
                "title": definition.localized(lang).title,
                "open": definition.is_open(now),
                "full": cap is not None and (found.total if found else 0) >= cap,
                "counts": found,
            }
        )
    loaded = notice(request, "loaded")
    drafts = [
        {"slug": d.slug, "title": text_in(d.document.get("title"), d.languages[0], d.languages[0])}
        for d in store.list_new_drafts(session)
    ]
    return page(
        request,
        "admin/dashboard.html",
        staff,
        {"rows": rows, "loaded": loaded, "drafts": drafts},
    )
