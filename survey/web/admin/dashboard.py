"""The workspace's first page: every survey, open or not, with its counts."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from survey import store
from survey.definitions import SurveyDefinition
from survey.models import utcnow
from survey.web.admin.common import notice, page, router
from survey.web.deps import SessionDep
from survey.web.staff import StaffDep


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, staff: StaffDep, session: SessionDep) -> Response:
    now = utcnow()
    surveys = store.list_surveys(session)
    counts = store.survey_counts(session, now=now)
    rows = [
        {
            "survey": survey,
            "title": survey.definition.get("title", survey.slug),
            "open": SurveyDefinition.model_validate(survey.definition).is_open(now),
            "counts": counts.get(survey.id or 0),
        }
        for survey in surveys
    ]
    loaded = notice(request, "loaded")
    return page(request, "admin/dashboard.html", staff, {"rows": rows, "loaded": loaded})
