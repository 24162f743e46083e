"""The pages a reader reads: the list of open surveys, the form, the thanks page.

The form page is the product's hottest path.  It is the same for everyone but
for the form token and the post's address, so it is rendered once per survey
version and language and then filled in.  It is served by a plain Starlette
endpoint (``form_page``) that ``create_app`` routes before everything else:
FastAPI's parameter and dependency solving cost as much as the rest of the
page.  ``show_form`` describes the same page in the OpenAPI schema and answers
with the same function.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter, ValidationError

from survey import store
from survey.answers import PAGE_PARAMETERS, clean_source, prefill
from survey.i18n import LANGUAGES, choose
from survey.models import utcnow
from survey.web.cache import SOURCE_MARK, TOKEN_MARK
from survey.web.deps import SessionDep, SurveyDep, find_survey, is_full, public_base
from survey.web.errors import error_page
from survey.web.headers import frame_policy
from survey.web.public.common import (
    FORM_PAGE_RESPONSES,
    EmbedQuery,
    LangQuery,
    View,
    closed_page,
    form_context,
    page_language,
    router,
)
from survey.web.state import state_of
from survey.web.templating import render, render_string

_FLAG = TypeAdapter(bool)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, session: SessionDep) -> Response:
    now = utcnow()
    cache = state_of(request).surveys
    asked = request.query_params.get("lang")
    lang = choose(asked, request.headers.get("accept-language"), list(LANGUAGES))
    listed = []
    for row in store.list_surveys(session):
        live = cache.load(session, row.slug)
        if live is None or not live.is_open(now):
            continue
        # Each survey in the page's language when it has it, with links that keep it.
        own = lang if lang in live.definition.languages else live.definition.lang
        link = f"/s/{live.definition.slug}" + (
            f"?lang={own}" if own != live.definition.lang else ""
        )
        listed.append({"survey": live.in_language(own), "href": link, "lang": own})
    return render(request, "public/index.html", {"lang": lang, "surveys": listed})


async def form_page(request: Request) -> Response:
    """GET /s/{slug}: the form, read from the page cache with a fresh token."""
    params = request.query_params
    try:
        # Read as FastAPI reads a bool query parameter ("1", "true", "yes"...).
        embed = _FLAG.validate_python(params.get("embed", False))
    except ValidationError as exc:
        return error_page(request, 400, f"embed: {exc.errors()[0]['msg']}")
    live = await find_survey(request, request.path_params["slug"])
    lang, carried = page_language(request, live, params.get("lang"))
    source = clean_source(params.get("source"))
    view = View(live.definition.slug, embed, source, carried)
    if not live.is_open(utcnow()):
        return closed_page(request, live, view, lang)
    if await is_full(request, live):
        return closed_page(request, live, view, lang, full=True)
    base = public_base(request)
    state = state_of(request)
    if len(params) > sum(name in params for name in PAGE_PARAMETERS):
        # Answers in the address (?visits_libraries=often): this page is the
        # reader's own, rendered without the page cache.
        filled = prefill(live.in_language(lang), params.multi_items())
        if filled:
            page_html = render_string(
                request,
                "public/form.html",
                form_context(
                    live,
                    view,
                    lang,
                    base,
                    token=state.tokens.issue(live.definition.slug, live.version),
                    values=filled,
                    errors={},
                    error_list=[],
                ),
            )
            return HTMLResponse(page_html, headers=frame_policy(live.definition))
    key = (live.id, live.version, live.updated_at, embed, source is not None, base, lang)
    page = state.pages.get(
        key,
        lambda: render_string(
            request,
            "public/form.html",
            form_context(
                live,
                View(view.slug, embed, SOURCE_MARK if source else None, carried),
                lang,
                base,
                token=TOKEN_MARK,
                values={},
                errors={},
                error_list=[],
            ),
        ),
        base=base,
    )
    html = page.fill(token=state.tokens.issue(live.definition.slug, live.version), source=source)
    return HTMLResponse(html, headers=frame_policy(live.definition))


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
    slug: str,
    embed: EmbedQuery = False,
    source: str | None = None,
    lang: LangQuery = None,
) -> Response:
    return await form_page(request)


@router.get(
    "/s/{slug}/thanks", response_class=HTMLResponse, name="survey_thanks", include_in_schema=False
)
async def thanks(request: Request, live: SurveyDep, embed: EmbedQuery = False) -> Response:
    lang, carried = page_language(request, live)
    view = View(live.definition.slug, embed, None, carried)
    response = render(
        request,
        "public/thanks.html",
        {"survey": live.in_language(lang), "lang": lang, "view": view, "after_send": True},
    )
    response.headers.update(frame_policy(live.definition))
    return response
