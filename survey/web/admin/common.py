"""What every staff page shares: rendering in the staff member's language, the
audit line, redirects, and the survey a URL names with its filter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature
from sqlmodel import Session

from survey import store
from survey.definitions import SurveyDefinition
from survey.filters import FilterError, ResponseFilter, filter_specs, parse_filter, search_keys
from survey.i18n import LANGUAGES, N_, choose
from survey.models import Survey
from survey.questions import BaseQuestion, stored_questions
from survey.web.limits import client_of
from survey.web.staff import Staff, signer
from survey.web.templating import render

# One router for the whole workspace, which each area's module adds its routes to.
router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE_SIZE = 50
NO_SURVEY = N_("There is no survey at this address.")
WRONG_CODE = N_(
    "That code is not right. Enter the 6-digit code your app shows now for reader-survey"
)
FILTER_PARAMS = frozenset({"since", "until", "source", "q"})
Cursor = Annotated[int | None, Query(ge=1, le=2**62)]
# A row's id in an address: a number the databases can hold, or 400 (never a
# driver's overflow error).
RowId = Annotated[int, Path(ge=1, le=2**62)]


def staff_lang(request: Request) -> str:
    """Staff pages speak the browser's language (no ?lang: one language per
    person is enough, and the session keeps nothing else about them)."""
    return choose(None, request.headers.get("accept-language"), list(LANGUAGES))


def page(
    request: Request,
    name: str,
    staff: Staff | None,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    context = {"staff": staff, "lang": staff_lang(request), **context}
    return render(request, name, context, status_code=status_code)


def audit(session: Session, request: Request, staff: Staff, action: str, **detail: Any) -> None:
    """One line of the audit trail for what this staff member just did."""
    store.audit(session, action=action, actor=staff.email, client=client_of(request), **detail)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def see_other_with_notice(request: Request, path: str, name: str, value: object) -> Response:
    """A redirect whose page says what was just done (``?name=<signed value>``):
    signed, so a link cannot make a staff page say something that did not happen."""
    signed = signer(request, f"notice.{name}").sign(str(value)).decode()
    return see_other(f"{path}?{urlencode({name: signed})}")


def notice(request: Request, name: str) -> str | None:
    """The value ``see_other_with_notice`` put in the address, if it is ours."""
    sent = request.query_params.get(name)
    if not sent:
        return None
    try:
        return signer(request, f"notice.{name}").unsign(sent).decode()
    except BadSignature:
        return None


def not_found(message: str) -> HTTPException:
    return HTTPException(status_code=404, detail=message)


@dataclass(frozen=True)
class SurveyView:
    """One survey as its staff pages show it."""

    survey: Survey
    id: int
    slug: str
    title: str
    questions: list[BaseQuestion]  # the current version's, with labels and options
    versions: dict[int, list[BaseQuestion]]  # version number -> its questions
    search_keys: tuple[str, ...]  # answer keys of every version that a search looks in


def survey_view(session: Session, slug: str, lang: str | None = None) -> SurveyView:
    """The survey a staff URL names; with ``lang``, its title, labels and
    options in that language where the survey has them (pages), else as
    written (downloads keep one language whoever asks)."""
    survey = store.get_survey(session, slug=slug)
    if survey is None or survey.id is None:
        raise not_found(NO_SURVEY)
    versions = store.survey_versions(session, survey_id=survey.id)
    definition = SurveyDefinition.model_validate(survey.definition)
    parsed = {v.version: _in_language(definition, v.questions, lang) for v in versions}
    current = definition.localized(lang) if lang else definition
    return SurveyView(
        survey=survey,
        id=survey.id,
        slug=survey.slug,
        title=current.title,
        questions=list(current.questions),
        versions=parsed,
        search_keys=search_keys(parsed.values()),
    )


def _in_language(
    definition: SurveyDefinition, questions: list[dict[str, Any]], lang: str | None
) -> list[BaseQuestion]:
    """A version's questions, with today's translations of their texts."""
    if lang is None or lang == definition.lang or lang not in definition.translations:
        return stored_questions(questions)
    try:
        document = definition.model_dump(mode="json") | {"questions": questions}
        return list(SurveyDefinition.model_validate(document).localized(lang).questions)
    except ValueError:  # an old version that no longer passes today's checks
        return stored_questions(questions)


def response_filter(request: Request, view: SurveyView) -> ResponseFilter:
    """The filter the page's address asks for (the same one for the table, the
    summary and the download)."""
    params = [
        (k, v) for k, v in request.query_params.multi_items() if k in FILTER_PARAMS or k[:2] == "f."
    ]
    try:
        return parse_filter(
            params,
            specs=filter_specs(view.questions, staff_lang(request)),
            searched=view.search_keys,
        )
    except FilterError as exc:
        raise HTTPException(status_code=422, detail=f"{exc.name}: {exc}") from None


def filter_context(view: SurveyView, where: ResponseFilter, lang: str) -> dict[str, Any]:
    return {
        "survey": view,
        "where": where,
        "chosen": dict(where.answers),
        "choice_filters": filter_specs(view.questions, lang),
        "filter_query": urlencode(where.query_items()),
    }
