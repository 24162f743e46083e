"""The JSON API: a survey's public definition, submitting answers, CSV export."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from survey import store
from survey.answers import InvalidAnswers, clean_json
from survey.export import (
    CsvOptions,
    csv_filename,
    csv_from_database,
    format_time,
)
from survey.filters import FilterError, export_filter
from survey.models import utcnow
from survey.questions import Question
from survey.ratelimit import RateLimited
from survey.store import KeyReused
from survey.web.api_tokens import TokenDep
from survey.web.cors import cors_headers
from survey.web.deps import DatabaseDep, SurveyDep, is_full
from survey.web.errors import COMMON_RESPONSES, ApiError, DetailOut, ErrorsOut
from survey.web.limits import client_of, submission_limit
from survey.web.state import state_of

router = APIRouter(prefix="/api", tags=["surveys"], responses=COMMON_RESPONSES)

BODY_KEY = "_body"
IDEMPOTENCY_ERROR_KEY = "_idempotency_key"
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")
FULL = "This survey has all the responses it was collecting"


class PublicSurvey(BaseModel):
    slug: str
    title: str
    intro: str
    status: Literal["open", "closed"]
    closes_at: datetime | None
    # The form closes itself once this many responses are stored.
    max_responses: int | None = None
    version: int
    questions: list[Question]


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, Any]


class SubmissionOut(BaseModel):
    id: int
    submitted_at: str


async def cors(request: Request, live: SurveyDep) -> dict[str, str]:
    """The CORS headers for this request (``SurveyCorsMiddleware`` adds them to
    every answer on these addresses; a preflight answers with them itself)."""
    return cors_headers(live, request.headers.get("origin"))


CorsDep = Annotated[dict[str, str], Depends(cors)]


async def submission_body(request: Request) -> SubmissionIn:
    """The JSON body, read here rather than by FastAPI so that every way it can
    be wrong (not JSON, not UTF-8, wrong shape) answers 422 with ``errors``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, {BODY_KEY: "Send the answers as JSON (Content-Type: application/json)"})
    raw = await request.body()
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(422, {BODY_KEY: "The body is not valid UTF-8"}) from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            422, {BODY_KEY: f"The body is not valid JSON: {exc.msg} at character {exc.pos}"}
        ) from None
    except RecursionError:
        raise ApiError(422, {BODY_KEY: "The body is nested too deeply"}) from None
    except ValueError:  # an integer of thousands of digits
        raise ApiError(422, {BODY_KEY: "The body holds a number too long to read"}) from None
    try:
        return SubmissionIn.model_validate(document)
    except ValidationError:
        raise ApiError(
            422, {BODY_KEY: 'Send an object like {"answers": {"question_key": "value"}}'}
        ) from None


@router.options("/surveys/{slug}", include_in_schema=False)
@router.options("/surveys/{slug}/responses", include_in_schema=False)
async def preflight(request: Request, headers: CorsDep) -> Response:
    method = request.headers.get("access-control-request-method", "")
    if "Access-Control-Allow-Origin" not in headers or method not in ("GET", "POST"):
        return Response(status_code=403, headers={"Vary": "Origin"})
    return Response(
        status_code=204,
        headers=headers
        | {
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
            "Access-Control-Max-Age": "600",
        },
    )


@router.get(
    "/surveys/{slug}/results",
    summary="A survey's published results (the same numbers as its results page)",
    responses={404: {"model": DetailOut, "description": "No such survey, or not published"}},
)
async def get_results(request: Request, live: SurveyDep, lang: str | None = None) -> Any:
    from survey.web.public.results import results_json, results_of

    chosen = lang if lang in live.definition.languages else live.definition.lang
    return results_json(live, await results_of(request, live, chosen))


@router.get("/surveys/{slug}", summary="A survey's public definition")
async def get_survey(request: Request, live: SurveyDep) -> PublicSurvey:
    definition = live.definition
    accepting = live.is_open(utcnow()) and not await is_full(request, live)
    return PublicSurvey(
        slug=definition.slug,
        title=definition.title,
        intro=definition.intro,
        status="open" if accepting else "closed",
        closes_at=definition.closes_at,
        max_responses=definition.max_responses,
        version=live.version,
        questions=definition.questions,
    )


@router.post(
    "/surveys/{slug}/responses",
    status_code=201,
    summary="Submit one response",
    responses={
        410: {"model": ErrorsOut, "description": "The survey is closed"},
        415: {"model": ErrorsOut, "description": "Not JSON"},
        429: {"model": DetailOut, "description": "Too many responses from this client"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SubmissionIn.model_json_schema()}},
        }
    },
)
async def submit(
    request: Request,
    # The survey first: its CORS headers go on every answer, a bad body's too.
    live: SurveyDep,
    body: Annotated[SubmissionIn, Depends(submission_body)],
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Send the same key again (a retry) and the response is stored once; "
            "the answer is the first one's id and time."
        ),
    ] = None,
) -> SubmissionOut:
    if not live.is_open(utcnow()):
        raise ApiError(410, {"_survey": "This survey is closed"})
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise ApiError(
            422,
            {IDEMPOTENCY_ERROR_KEY: "Idempotency-Key must be 1 to 200 visible ASCII characters"},
        )
    try:
        answers = clean_json(live.definition, body.answers)
    except InvalidAnswers as exc:
        raise ApiError(422, exc.errors) from None
    writer = state_of(request).writer
    try:
        new_id, submitted_at = await writer.insert(
            **live.response(
                answers, submission_key=f"key:{idempotency_key}" if idempotency_key else None
            ),
            limit=submission_limit(request, live.id),
            cap=live.definition.max_responses,
        )
    except store.SurveyFull:
        raise ApiError(410, {"_survey": FULL}) from None
    except KeyReused:
        raise ApiError(
            422,
            {
                IDEMPOTENCY_ERROR_KEY: "This Idempotency-Key was already used with other "
                "answers: send a new key for a new response"
            },
        ) from None
    except RateLimited as exc:
        raise HTTPException(
            status_code=429,
            detail=f"Too many responses from this client; try again in {exc.retry_after} s.",
            headers={"Retry-After": str(exc.retry_after)},
        ) from None
    return SubmissionOut(id=new_id, submitted_at=format_time(submitted_at))


@router.get(
    "/surveys/{slug}/responses.csv",
    summary="Export every response as CSV (staff)",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        401: {"model": DetailOut, "description": "No valid token"},
        403: {"model": DetailOut, "description": "The token may not read this survey"},
    },
)
def export_csv(
    request: Request,
    token: TokenDep,
    live: SurveyDep,
    database: DatabaseDep,
    header: Annotated[Literal["keys", "labels"], Query()] = "keys",
    bom: Annotated[bool, Query(description="Start with a UTF-8 byte-order mark")] = False,
    since: Annotated[str | None, Query(description="ISO date or date-time")] = None,
    until: Annotated[str | None, Query(description="ISO date (inclusive) or date-time")] = None,
    source: Annotated[str | None, Query(description="Only responses from this page")] = None,
) -> StreamingResponse:
    try:
        options = CsvOptions(
            header=header,
            bom=bom,
            filter=export_filter(since, until, source),
        )
    except FilterError as exc:
        raise ApiError(422, {exc.name: str(exc)}) from None
    if token.survey_id is not None and token.survey_id != live.id:
        raise HTTPException(status_code=403, detail="This token may not read this survey.")
    now = utcnow()
    with database.begin(write=True) as session:
        assert token.id is not None
        store.token_used(session, token_id=token.id, now=now)
        store.audit(
            session,
            action="export",
            actor=f"token {token.id}",
            client=client_of(request),
            survey_slug=live.definition.slug,
            format="csv",
            token=token.name,
            filters=options.filter.describe(),
        )
    filename = csv_filename(live.definition.slug, now)
    return StreamingResponse(
        csv_from_database(database, survey_id=live.id, options=options),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
