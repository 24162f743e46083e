"""The pages members see: the list of open surveys, the form, the thank-you page.

The same routes serve the form on its own page and inside a blog post's iframe
(``?embed=1``): the embedded flow (errors, thanks, closed) stays in the frame,
and nothing in it depends on cookies, which cross-site frames often lose.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from survey import store
from survey.answers import InvalidAnswers, clean_form, clean_source
from survey.db import Database
from survey.formtokens import BadFormToken, FormToken, FormTokens
from survey.i18n import N_, choose
from survey.models import utcnow
from survey.ratelimit import RateLimited
from survey.web.cache import SOURCE_MARK, TOKEN_MARK, LiveSurvey
from survey.web.deps import SessionDep, SurveyDep, database_of, public_base, sent_from_our_pages
from survey.web.errors import error_page
from survey.web.headers import frame_policy
from survey.web.limits import submission_limit
from survey.web.state import state_of
from survey.web.templating import render, render_string

router = APIRouter()

MAX_FORM_FIELDS = 1000
TOKEN_FIELD = "_token"  # noqa: S105 - a field name, not a secret
SOURCE_FIELD = "_source"
# Hidden from people (and from screen readers and the tab order), not from bots.
HONEYPOT_FIELD = "_homepage"
FormValues = dict[str, list[str]]
EXPIRED = N_(
    "This form was open too long to be sent safely. Your answers are still here: "
    "check them and send them again."
)
FORGED = N_("This form could not be checked. Your answers are still here: send them again.")


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
            detail=N_(
                "Your answers could not be read: they were not sent as UTF-8 text. "
                "Go back, check your answers and send them again."
            ),
        ) from None
    except ValueError:
        raise HTTPException(status_code=400, detail=N_("The form has too many fields.")) from None
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return fields


FormDep = Annotated[FormValues, Depends(form_fields)]


async def get_form_tokens(request: Request) -> FormTokens:
    return state_of(request).tokens


TokensDep = Annotated[FormTokens, Depends(get_form_tokens)]
EmbedQuery = Annotated[bool, Query(description="Render for an iframe")]


@dataclass(frozen=True)
class View:
    """How the form is being shown: on its own page or embedded, and for which post."""

    slug: str
    embed: bool
    source: str | None
    # The page's language; it travels in the URL (no cookies in a frame).
    lang: str | None = None

    def url(
        self,
        path: str = "",
        *,
        embed: bool | None = None,
        source: bool = False,
        lang: str | None = None,
    ) -> str:
        query: dict[str, str] = {}
        if self.embed if embed is None else embed:
            query["embed"] = "1"
        if source and self.source:
            query["source"] = self.source
        if lang or self.lang:
            query["lang"] = lang or self.lang or ""
        return f"/s/{self.slug}{path}" + (f"?{urlencode(query)}" if query else "")


def _language(
    request: Request, live: LiveSurvey, asked: str | None = None
) -> tuple[str, str | None]:
    """?lang= wins, then the browser's languages, then the survey's own.

    Returns the language and what the page's links carry: the language
    whenever it is not simply the survey's own, so that errors and the thanks
    page stay in it without a cookie.
    """
    asked = asked or request.query_params.get("lang")
    lang = choose(asked, request.headers.get("accept-language"), live.definition.languages)
    request.state.lang = lang
    return lang, (lang if asked == lang or lang != live.definition.lang else None)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, session: SessionDep) -> Response:
    now = utcnow()
    cache = state_of(request).surveys
    surveys = [cache.load(session, row.slug) for row in store.list_surveys(session)]
    return render(
        request,
        "public/index.html",
        {"surveys": [s for s in surveys if s is not None and s.is_open(now)]},
    )


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


# The form's own routes are in the OpenAPI schema too (as HTML), so that the
# fuzzing test sends them random bodies as well.
FORM_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _html("A query parameter that cannot be read"),
    404: _html("No such survey"),
    410: _html("The survey is closed"),
}
LangQuery = Annotated[str | None, Query(description="Language: en, es, fr or ar")]


@router.get(
    "/s/{slug}",
    response_class=HTMLResponse,
    name="survey_form",
    tags=["form"],
    summary="The survey's form page (HTML)",
    responses=FORM_PAGE_RESPONSES,
)
async def show_form(
    request: Request,
    live: SurveyDep,
    embed: EmbedQuery = False,
    source: str | None = None,
    lang: LangQuery = None,
) -> Response:
    lang, carried = _language(request, live, lang)
    view = View(live.definition.slug, embed, clean_source(source), carried)
    if not live.is_open(utcnow()):
        return _closed(request, live, view)
    # The page without errors is the same for everyone but for the token and
    # the post's address: render it once per survey version and fill those in.
    base = public_base(request)
    key = (live.id, live.version, live.updated_at, view.embed, view.source is not None, base, lang)
    pages = state_of(request).pages
    page = pages.get(
        key,
        lambda: render_string(
            request,
            "public/form.html",
            _form_context(
                live,
                View(view.slug, view.embed, SOURCE_MARK if view.source else None, carried),
                lang,
                base,
                token=TOKEN_MARK,
                values={},
                errors={},
                error_list=[],
            ),
        ),
    )
    tokens = state_of(request).tokens
    html = page.fill(token=tokens.issue(live.definition.slug), source=view.source)
    return HTMLResponse(html, headers=frame_policy(live.definition))


@router.post(
    "/s/{slug}",
    response_class=HTMLResponse,
    tags=["form"],
    summary="Send the form (HTML): 303 to the thanks page, or the form again",
    responses={
        **FORM_PAGE_RESPONSES,
        200: _html("Not used: a stored answer redirects"),
        303: {"description": "Stored (or set aside as spam): go to the thanks page"},
        400: _html("A body that is not UTF-8 form data, or too many fields"),
        403: _html("Sent from another site's page"),
        413: _html("A body over the limit"),
        422: _html("The form again, with every answer kept and a message for each problem"),
        429: _html("Sent too often from here: the form again, answers kept"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            },
        }
    },
)
async def submit_form(
    request: Request,
    fields: FormDep,
    live: SurveyDep,
    tokens: TokensDep,
    embed: EmbedQuery = False,
    lang: LangQuery = None,
) -> Response:
    lang, carried = _language(request, live, lang)
    view = View(live.definition.slug, embed, clean_source(_first(fields, SOURCE_FIELD)), carried)
    if not live.is_open(utcnow()):
        return _closed(request, live, view)
    if not sent_from_our_pages(request):
        return error_page(
            request,
            403,
            N_(
                "This form can only be sent from its own page. Open the survey's page and "
                "answer it there."
            ),
        )
    try:
        token = tokens.check(_first(fields, TOKEN_FIELD) or "", slug=live.definition.slug)
    except BadFormToken as exc:
        notice = EXPIRED if exc.expired else FORGED
        return _form(request, live, view, tokens, values=fields, errors={}, notice=notice)
    reason = _spam_reason(request, fields, token)
    if reason is not None:
        # Kept whole in the spam folder; the sender sees the usual thanks, so a
        # bot learns nothing about what gave it away.
        database = database_of(request)
        await database.run(
            functools.partial(_store_spam, database, live.id, reason, fields, view.source)
        )
        return RedirectResponse(view.url("/thanks"), status_code=303)
    try:
        answers = clean_form(live.in_language(lang), fields)
    except InvalidAnswers as exc:
        return _form(request, live, view, tokens, values=fields, errors=exc.errors)
    writer = state_of(request).writer
    try:
        await writer.insert(
            **live.response(
                answers,
                source=view.source,
                # The same rendered form sent twice (a double click, the back
                # button) is stored once and thanked twice.
                submission_key=f"form:{token.submission_id}",
                language=lang,
            ),
            limit=submission_limit(request, live.id),
        )
    except RateLimited as exc:
        # Nothing is lost: the form comes back with every answer in it.
        page = _form(
            request,
            live,
            view,
            tokens,
            values=fields,
            errors={},
            notice=N_(
                "This form has been sent many times from here in a short while. Wait "
                "%(seconds)s seconds, then send it again: your answers are still here.",
                seconds=exc.retry_after,
            ),
            status_code=429,
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    return RedirectResponse(view.url("/thanks"), status_code=303)


@router.get(
    "/s/{slug}/thanks", response_class=HTMLResponse, name="survey_thanks", include_in_schema=False
)
async def thanks(request: Request, live: SurveyDep, embed: EmbedQuery = False) -> Response:
    lang, carried = _language(request, live)
    view = View(live.definition.slug, embed, None, carried)
    response = render(
        request, "public/thanks.html", {"survey": live.in_language(lang), "view": view}
    )
    response.headers.update(frame_policy(live.definition))
    return response


def _spam_reason(request: Request, fields: FormValues, token: FormToken) -> str | None:
    if any(value.strip() for value in fields.get(HONEYPOT_FIELD, ())):
        return "honeypot"
    min_seconds = state_of(request).settings.min_fill_seconds
    if min_seconds and time.time() - token.issued_at < min_seconds:
        return "too fast"
    return None


def _store_spam(
    database: Database, survey_id: int, reason: str, fields: FormValues, source: str | None
) -> None:
    kept = {key: values for key, values in fields.items() if key != TOKEN_FIELD}
    with database.write_connection() as conn:
        store.insert_spam(conn, survey_id=survey_id, reason=reason, fields=kept, source=source)


def _first(fields: FormValues, key: str) -> str | None:
    values = fields.get(key)
    return values[0] if values else None


def _form(
    request: Request,
    live: LiveSurvey,
    view: View,
    tokens: FormTokens,
    *,
    values: FormValues,
    errors: dict[str, str],
    notice: str | None = None,
    status_code: int = 422,
) -> Response:
    """The form shown again with what the person sent (422)."""
    error_list = _errors_in_page_order(live, errors)
    if notice:
        error_list.insert(0, ("", notice))
    context = _form_context(
        live,
        view,
        request.state.lang,
        public_base(request),
        token=tokens.issue(live.definition.slug),
        values=values,
        errors=errors,
        error_list=error_list,
    )
    response = render(request, "public/form.html", context, status_code=status_code)
    response.headers.update(frame_policy(live.definition))
    return response


def _form_context(
    live: LiveSurvey,
    view: View,
    lang: str,
    base: str,
    *,
    token: str,
    values: FormValues,
    errors: dict[str, str],
    error_list: list[tuple[str, str]],
) -> dict[str, Any]:
    return {
        "survey": live.in_language(lang),
        "lang": lang,
        "view": view,
        "values": values,
        "errors": errors,
        "error_list": error_list,
        "token": token,
        "oembed_url": f"{base}/oembed?"
        + urlencode({"url": f"{base}/s/{live.definition.slug}", "format": "json"}),
    }


def _errors_in_page_order(live: LiveSurvey, errors: dict[str, str]) -> list[tuple[str, str]]:
    order = []
    for question in live.definition.questions:
        for key in (question.key, f"{question.key}_other"):
            if key in errors:
                order.append((key, errors[key]))
    return order


def _closed(request: Request, live: LiveSurvey, view: View) -> Response:
    response = render(
        request,
        "errors/error.html",
        {
            "title": N_("%(title)s is closed", title=live.in_language(request.state.lang).title),
            "message": N_(
                "This survey is closed and no longer takes answers. Thank you for your interest."
            ),
            "embed": view.embed,
        },
        status_code=410,
    )
    response.headers.update(frame_policy(live.definition))
    return response
