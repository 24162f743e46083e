"""What the public pages share: how the form is being shown (``View``), the
page's language, and the form page rendered with what a reader sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from survey.definitions import SurveyDefinition
from survey.i18n import N_, choose
from survey.web.cache import LiveSurvey
from survey.web.deps import public_base
from survey.web.headers import frame_policy
from survey.web.state import state_of
from survey.web.templating import render

# One router for the public pages, which each module adds its routes to.
router = APIRouter()

FormValues = dict[str, list[str]]
EmbedQuery = Annotated[bool, Query(description="Render for an iframe")]
LangQuery = Annotated[str | None, Query(description="Language: en, es, fr or ar")]


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


def page_language(
    request: Request, live: LiveSurvey, asked: str | None = None
) -> tuple[str, str | None]:
    """?lang= wins, then the browser's languages, then the survey's own.

    Returns the language and what the page's links carry: the language
    whenever it is not simply the survey's own, so that errors and the thanks
    page stay in it without a cookie.
    """
    asked = asked or request.query_params.get("lang")
    lang = choose(asked, request.headers.get("accept-language"), live.definition.languages)
    return lang, (lang if asked == lang or lang != live.definition.lang else None)


def html(description: str) -> dict[str, Any]:
    """An HTML answer in the OpenAPI schema."""
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


# The form's own routes are in the OpenAPI schema too (as HTML), so that the
# fuzzing test sends them random bodies as well.
FORM_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: html("A query parameter that cannot be read"),
    404: html("No such survey"),
    410: html("The survey is closed"),
}


def form_context(
    live: LiveSurvey,
    view: View,
    lang: str,
    base: str,
    *,
    token: str,
    values: FormValues,
    errors: dict[str, str],
    error_list: list[tuple[str, str, str]],
) -> dict[str, Any]:
    return {
        "survey": live.in_language(lang),
        "lang": lang,
        "view": view,
        "values": values,
        "errors": errors,
        "error_list": error_list,
        "token": token,
        # The page's language travels into the oEmbed answer's frame.
        "oembed_url": f"{base}/oembed?"
        + urlencode(
            {"url": base + View(view.slug, False, None, view.lang).url(), "format": "json"}
        ),
    }


def form_again(
    request: Request,
    live: LiveSurvey,
    view: View,
    lang: str,
    *,
    values: FormValues,
    errors: dict[str, str],
    notice: str | None = None,
    status_code: int = 422,
) -> Response:
    """The form shown again with what the person sent, and why (422 by default)."""
    error_list = _errors_in_page_order(live.in_language(lang), errors)
    if notice:
        error_list.insert(0, ("", notice, ""))
    context = form_context(
        live,
        view,
        lang,
        public_base(request),
        token=state_of(request).tokens.issue(live.definition.slug, live.version),
        values=values,
        errors=errors,
        error_list=error_list,
    )
    context["after_send"] = True  # shown again after a send: the frame comes into view
    response = render(request, "public/form.html", context, status_code=status_code)
    response.headers.update(frame_policy(live.definition))
    return response


def _errors_in_page_order(
    survey: SurveyDefinition, errors: dict[str, str]
) -> list[tuple[str, str, str]]:
    """(field, message, the question it is about) in the order of the page:
    the summary names the question, as "Choose an option" alone cannot."""
    order = []
    for question in survey.questions:
        for key in (question.key, f"{question.key}_other"):
            if key in errors:
                order.append((key, errors[key], question.label))
    return order


def closed_page(
    request: Request,
    live: LiveSurvey,
    view: View,
    lang: str,
    *,
    full: bool = False,
    after_send: bool = False,
) -> Response:
    title = live.in_language(lang).title
    if full:
        heading = N_("%(title)s has all the answers it needs", title=title)
        message = N_(
            "This survey has received all the responses it was collecting, so it no "
            "longer takes answers. Thank you for your interest."
        )
    else:
        heading = N_("%(title)s is closed", title=title)
        message = N_(
            "This survey is closed and no longer takes answers. Thank you for your interest."
        )
    response = render(
        request,
        "errors/error.html",
        {
            "lang": lang,
            "title": heading,
            "message": message,
            "embed": view.embed,
            "after_send": after_send,
        },
        status_code=410,
    )
    response.headers.update(frame_policy(live.definition))
    return response
