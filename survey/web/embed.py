"""What blog platforms ask for: the embed script, and oEmbed for pasted URLs."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from survey import store
from survey.definitions import SurveyDefinition
from survey.resources import STATIC_DIR
from survey.snippets import IFRAME_HEIGHT, iframe_html
from survey.web.deps import SessionDep, public_base
from survey.web.errors import DetailOut, ErrorsOut
from survey.web.state import state_of

router = APIRouter(tags=["embedding"])


@router.get("/embed.js", include_in_schema=False)
def embed_script() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "embed.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get(
    "/oembed",
    summary="oEmbed for a form's address (pasting it into WordPress embeds the form)",
    responses={
        404: {"model": DetailOut, "description": "Not a form of this site"},
        422: {"model": ErrorsOut, "description": "A message for each problem"},
        501: {"model": DetailOut, "description": "Only JSON is supported"},
    },
)
def oembed(
    request: Request,
    session: SessionDep,
    url: Annotated[str, Query(description="The form's address, like https://HOST/s/SLUG")],
    format: Annotated[Literal["json", "xml"], Query()] = "json",
    maxwidth: Annotated[int | None, Query(ge=1)] = None,
) -> JSONResponse:
    if format == "xml":
        raise HTTPException(status_code=501, detail="Only format=json is supported.")
    base = public_base(request)
    parts = urlsplit(url)
    own = urlsplit(base)
    segments = parts.path.strip("/").split("/")
    # A form (/s/SLUG) or its public results (/s/SLUG/results).
    results = len(segments) == 3 and segments[2] == "results"
    if (
        (parts.scheme, parts.netloc) != (own.scheme, own.netloc)
        or len(segments) not in (2, 3)
        or (segments[0] != "s")
        or (len(segments) == 3 and not results)
    ):
        raise HTTPException(status_code=404, detail="That address is not a survey of this site.")
    survey = store.get_survey(session, slug=segments[1])
    if survey is None:
        raise HTTPException(status_code=404, detail="That address is not a survey of this site.")
    # The address's own ?lang= (a post in French embeds the French form).
    asked = parse_qs(parts.query).get("lang", [""])[0]
    definition = SurveyDefinition.model_validate(survey.definition)
    if results and not (definition.results and definition.results.public):
        raise HTTPException(status_code=404, detail="That survey does not publish its results.")
    lang = asked if asked in definition.languages else None
    title = definition.localized(lang).title if lang else definition.title
    body: dict[str, Any] = {
        "version": "1.0",
        "type": "rich",
        "provider_name": "reader-survey",
        "provider_url": base,
        "title": title,
        "html": iframe_html(base, survey.slug, title, lang, results=results),
        "width": min(maxwidth, 800) if maxwidth else 800,
        "height": IFRAME_HEIGHT,
    }
    # Shared caches may keep it only when the product's address is configured:
    # otherwise the answer is built from the request's Host header, which a
    # client chooses.
    configured = state_of(request).settings.public_url is not None
    cache = "public, max-age=300" if configured else "no-store"
    return JSONResponse(body, headers={"Cache-Control": cache})
