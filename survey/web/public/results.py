"""The public results page of a survey (``/s/SLUG/results``), embeddable in
the follow-up post like the form, and the same numbers as JSON."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from survey.i18n import N_
from survey.results import PublicResults, featured_quotes, public_results
from survey.web.cache import LiveSurvey
from survey.web.deps import SurveyDep, database_of
from survey.web.headers import frame_policy
from survey.web.public.common import EmbedQuery, LangQuery, View, page_language, router
from survey.web.state import state_of
from survey.web.templating import render

NOT_PUBLISHED = N_("This survey's results are not published.")


async def results_of(request: Request, live: LiveSurvey, lang: str) -> PublicResults:
    """The survey's public results in ``lang`` (404 when not published): the
    counts from the short-lived cache, the quotes read now."""
    settings = live.definition.results
    if settings is None or not settings.public:
        raise HTTPException(status_code=404, detail=NOT_PUBLISHED)
    database = database_of(request)
    compute = functools.partial(
        public_results,
        database,
        survey_id=live.id,
        definition=live.in_language(lang),
        lang=lang,
    )
    key = (live.id, live.version, live.updated_at, lang)
    cache = state_of(request).results

    def read() -> PublicResults:
        counts: PublicResults = cache.get(key, compute)
        quotes = featured_quotes(database, survey_id=live.id, definition=live.in_language(lang))
        return dataclasses.replace(counts, quotes=quotes)

    return await database.run(read)


@router.get(
    "/s/{slug}/results",
    response_class=HTMLResponse,
    name="survey_results",
    include_in_schema=False,
)
async def results_page(
    request: Request, live: SurveyDep, embed: EmbedQuery = False, lang: LangQuery = None
) -> Response:
    lang, carried = page_language(request, live, lang)
    results = await results_of(request, live, lang)
    view = View(live.definition.slug, embed, None, carried)
    response = render(
        request,
        "public/results.html",
        {"survey": live.in_language(lang), "lang": lang, "view": view, "results": results},
    )
    response.headers.update(frame_policy(live.definition))
    response.headers["Cache-Control"] = "no-cache"
    return response


def results_json(live: LiveSurvey, results: PublicResults) -> dict[str, Any]:
    return {
        "survey": live.definition.slug,
        "responses": results.responses,
        "min_responses": results.min_responses,
        "questions": [
            {
                "key": item.question.key,
                "label": item.question.label,
                "answered": item.answered,
                "shown": item.bars is not None,
                "answers": [
                    {"value": b.value, "label": b.label, "count": b.count, "percent": b.percent}
                    for b in item.bars or []
                ],
            }
            for item in results.questions
        ],
        "quotes": [{"question": q.question, "text": q.text} for q in results.quotes],
    }
