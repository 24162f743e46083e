"""The pages members see: the list of open surveys, the form, the thank-you page."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from survey import store
from survey.answers import InvalidAnswers, clean_form
from survey.models import utcnow
from survey.web.deps import DatabaseDep, LiveSurvey, SessionDep, SurveyDep
from survey.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_FORM_FIELDS = 1000
FormValues = dict[str, list[str]]


async def form_fields(request: Request) -> FormValues:
    """The posted form as key -> list of values, read strictly as UTF-8.

    Starlette's parser replaces invalid UTF-8 silently; an answer must never be
    stored altered, so the urlencoded body (what browsers send) is read here.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: FormValues = {}
    if content_type == "multipart/form-data":
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(key, []).append(value)
        return fields
    body = await request.body()
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise HTTPException(
            status_code=400,
            detail="Your answers could not be read: they were not sent as UTF-8 text. "
            "Go back, check your answers and send them again.",
        ) from None
    except ValueError:
        raise HTTPException(status_code=400, detail="The form has too many fields.") from None
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return fields


FormDep = Annotated[FormValues, Depends(form_fields)]


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep) -> Response:
    now = utcnow()
    cache = request.app.state.definitions
    surveys = [cache.live(session, row) for row in store.list_surveys(session)]
    return render(request, "public/index.html", {"surveys": [s for s in surveys if s.is_open(now)]})


@router.get("/s/{slug}", response_class=HTMLResponse, name="survey_form")
def show_form(request: Request, live: SurveyDep) -> Response:
    if not live.is_open(utcnow()):
        return _closed(request, live)
    return _form(request, live, values={}, errors={})


@router.post("/s/{slug}", response_class=HTMLResponse)
def submit_form(
    request: Request, fields: FormDep, live: SurveyDep, database: DatabaseDep
) -> Response:
    if not live.is_open(utcnow()):
        return _closed(request, live)
    try:
        answers = clean_form(live.definition, fields)
    except InvalidAnswers as exc:
        return _form(request, live, values=fields, errors=exc.errors, status_code=422)
    with database.begin(write=True) as session:
        store.add_response(
            session, survey_id=live.id, survey_version_id=live.version_id, answers=answers
        )
    return RedirectResponse(
        request.app.url_path_for("survey_thanks", slug=live.definition.slug), status_code=303
    )


@router.get("/s/{slug}/thanks", response_class=HTMLResponse, name="survey_thanks")
def thanks(request: Request, live: SurveyDep) -> Response:
    return render(request, "public/thanks.html", {"survey": live.definition})


def _form(
    request: Request,
    live: LiveSurvey,
    *,
    values: FormValues,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "survey": live.definition,
        "values": values,
        "errors": errors,
        "error_list": _errors_in_page_order(live, errors),
    }
    return render(request, "public/form.html", context, status_code=status_code)


def _errors_in_page_order(live: LiveSurvey, errors: dict[str, str]) -> list[tuple[str, str]]:
    order = []
    for question in live.definition.questions:
        for key in (question.key, f"{question.key}_other"):
            if key in errors:
                order.append((key, errors[key]))
    return order


def _closed(request: Request, live: LiveSurvey) -> Response:
    return render(
        request,
        "errors/error.html",
        {
            "title": f"{live.definition.title} is closed",
            "message": "This survey is closed and no longer takes answers. "
            "Thank you for your interest.",
        },
        status_code=410,
    )
