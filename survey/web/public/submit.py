"""Sending the form: read the body strictly, check the token, set bots aside,
check the answers, store them once, and thank the reader (or show the form
again with every answer kept and a message for each problem)."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from survey import store
from survey.answers import InvalidAnswers, clean_form, clean_source
from survey.db import STORAGE_ERRORS, Database
from survey.formtokens import BadFormToken, FormToken
from survey.i18n import N_
from survey.models import utcnow
from survey.ratelimit import LimitCheck, RateLimited
from survey.web.cache import LiveSurvey
from survey.web.deps import SurveyDep, database_of, is_full, sent_from_our_pages
from survey.web.errors import STORAGE_RETRY_SECONDS, error_page, log_storage_failure
from survey.web.limits import submission_limit
from survey.web.public.common import (
    FORM_PAGE_RESPONSES,
    EmbedQuery,
    FormValues,
    LangQuery,
    View,
    closed_page,
    form_again,
    html,
    page_language,
    router,
)
from survey.web.state import state_of

MAX_FORM_FIELDS = 1000
SHORT_VALUE = 200  # longest value kept in the spam folder for a non-text question
MAX_VALUES_PER_FIELD = 50
TOKEN_FIELD = "_token"  # noqa: S105 - a field name, not a secret
SOURCE_FIELD = "_source"
# Hidden from people (and from screen readers and the tab order), not from bots.
HONEYPOT_FIELD = "_homepage"
EXPIRED = N_(
    "This form was open too long to be sent safely. Your answers are still here: "
    "check them and send them again."
)
CHANGED = N_(
    "This survey changed while you were answering it. Your answers are still here: "
    "check them against the questions as they are now and send them again."
)
UNREADABLE_CHARACTER = N_(
    "Your answers could not be read: they hold an invisible control character (NUL). "
    "Go back, retype the answer and send it again."
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
                if "\x00" in value:
                    raise HTTPException(status_code=400, detail=UNREADABLE_CHARACTER)
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
    if any("\x00" in value for values in fields.values() for value in values):
        raise HTTPException(status_code=400, detail=UNREADABLE_CHARACTER)
    return fields


FormDep = Annotated[FormValues, Depends(form_fields)]


@router.post(
    "/s/{slug}",
    response_class=HTMLResponse,
    tags=["form"],
    summary="Send the form (HTML): 303 to the thanks page, or the form again",
    responses={
        **FORM_PAGE_RESPONSES,
        200: html("Not used: a stored answer redirects"),
        303: {"description": "Stored (or set aside as spam): go to the thanks page"},
        400: html("A body that is not UTF-8 form data, or too many fields"),
        403: html("Sent from another site's page"),
        413: html("A body over the limit"),
        422: html("The form again, with every answer kept and a message for each problem"),
        429: html("Sent too often from here: the form again, answers kept"),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        # A NUL character is refused (400): nothing can store it.
                        "additionalProperties": {"type": "string", "pattern": "^[^\\x00]*$"},
                    }
                }
            },
        }
    },
)
async def submit_form(
    request: Request,
    fields: FormDep,
    live: SurveyDep,
    embed: EmbedQuery = False,
    lang: LangQuery = None,
) -> Response:
    lang, carried = page_language(request, live, lang)
    view = View(live.definition.slug, embed, clean_source(_first(fields, SOURCE_FIELD)), carried)
    if not live.is_open(utcnow()):
        return closed_page(request, live, view, lang, after_send=True)
    if not sent_from_our_pages(request):
        return error_page(
            request,
            403,
            N_(
                "This form can only be sent from its own page. Open the survey's page and "
                "answer it there."
            ),
            lang=lang,
        )
    state = state_of(request)
    try:
        token = state.tokens.check(_first(fields, TOKEN_FIELD) or "", slug=live.definition.slug)
    except BadFormToken as exc:
        notice = EXPIRED if exc.expired else FORGED
        return form_again(request, live, view, lang, values=fields, errors={}, notice=notice)
    if token.version is not None and token.version != live.version:
        # A new version was loaded while the reader answered: their answers are
        # checked and stored against the questions they saw.
        seen = await _version_seen(request, live, token.version)
        if seen is None:
            return form_again(request, live, view, lang, values=fields, errors={}, notice=CHANGED)
        live = seen
    try:
        answers = clean_form(live.in_language(lang), fields)
    except InvalidAnswers as exc:
        answers, problems = None, exc.errors
    reason = _spam_reason(fields, token, state.settings.min_fill_seconds)
    try:
        if reason is not None:
            # Held in the spam folder; the sender sees what a person would (the
            # thanks, or the rate limit), so a bot learns nothing about what
            # gave it away.
            database = database_of(request)
            held = SpamHold(
                survey_id=live.id,
                reason=reason,
                fields=_own_fields(live, fields),
                source=view.source,
                submission_key=f"form:{token.submission_id}",
                limit=submission_limit(request, live.id),
            )
            limited = await database.run(functools.partial(_store_spam, database, held))
            if limited is not None:
                raise limited
            return RedirectResponse(view.url("/thanks"), status_code=303)
        if answers is None:
            if await is_full(request, live):  # no use correcting answers it cannot take
                return closed_page(request, live, view, lang, full=True, after_send=True)
            return form_again(request, live, view, lang, values=fields, errors=problems)
        await state.writer.insert(
            **live.response(
                answers,
                source=view.source,
                # The same rendered form sent twice (a double click, the back
                # button) is stored once and thanked twice.
                submission_key=f"form:{token.submission_id}",
                language=lang,
            ),
            limit=submission_limit(request, live.id),
            cap=live.definition.max_responses,
        )
    except store.SurveyFull:
        # Filled up while this reader answered: nothing stored, and they are told why.
        return closed_page(request, live, view, lang, full=True, after_send=True)
    except STORAGE_ERRORS as exc:
        # Nothing stored, nothing lost: the form comes back with every answer.
        log_storage_failure(request, exc)
        notice = N_(
            "Your answers could not be saved just now: our database is not answering. "
            "They are still here: send them again in a moment."
        )
        return _send_again(request, live, view, lang, fields, notice, 503, STORAGE_RETRY_SECONDS)
    except RateLimited as exc:
        # Nothing is lost: the form comes back with every answer in it.
        notice = N_(
            "This form has been sent many times from here in a short while. Wait "
            "%(seconds)s seconds, then send it again: your answers are still here.",
            seconds=exc.retry_after,
        )
        return _send_again(request, live, view, lang, fields, notice, 429, exc.retry_after)
    return RedirectResponse(view.url("/thanks"), status_code=303)


def _send_again(
    request: Request,
    live: LiveSurvey,
    view: View,
    lang: str,
    fields: FormValues,
    notice: str,
    status_code: int,
    retry_after: int,
) -> Response:
    """The form again with every answer, a notice, and when to send it again."""
    page = form_again(
        request, live, view, lang, values=fields, errors={}, notice=notice, status_code=status_code
    )
    page.headers["Retry-After"] = str(retry_after)
    return page


async def _version_seen(request: Request, live: LiveSurvey, version: int) -> LiveSurvey | None:
    database = database_of(request)

    def lookup() -> LiveSurvey | None:
        with database.session() as session:
            found = store.get_version(session, survey_id=live.id, version=version)
        if found is None:
            return None
        try:
            return live.at_version(found)
        except ValueError:  # questions this release can no longer read
            return None

    return await database.run(lookup)


def _spam_reason(fields: FormValues, token: FormToken, min_seconds: float) -> str | None:
    if any(value.strip() for value in fields.get(HONEYPOT_FIELD, ())):
        return "honeypot"
    if min_seconds and time.time() - token.issued_at < min_seconds:
        return "too fast"
    return None


@dataclass(frozen=True)
class SpamHold:
    survey_id: int
    reason: str
    fields: FormValues
    source: str | None
    submission_key: str
    limit: LimitCheck | None


def _store_spam(database: Database, held: SpamHold) -> RateLimited | None:
    """Hold a submission in the spam folder, counted against the sender's
    budget like any submission; one row per rendered form."""
    with database.write_connection() as conn:
        if held.limit is not None:
            hits = store.count_hit(
                conn, client_key=held.limit.client_key, window_start=held.limit.window_start
            )
            if hits > held.limit.allowed:
                return RateLimited(held.limit.retry_after(utcnow()))
        store.insert_spam(
            conn,
            survey_id=held.survey_id,
            reason=held.reason,
            fields=held.fields,
            source=held.source,
            submission_key=held.submission_key,
        )
    return None


def _own_fields(live: LiveSurvey, fields: FormValues) -> FormValues:
    """What a spam hold keeps: the survey's own fields (and the honeypot's), each
    value within its question's limit, never anything else a bot sends."""
    limits: dict[str, int] = {HONEYPOT_FIELD: 200}
    for question in live.definition.questions:
        length = int(getattr(question, "max_length", 0) or SHORT_VALUE)
        for key in question.answer_keys():
            limits[key] = length
    kept: FormValues = {}
    for name, values in fields.items():
        limit = limits.get(name, limits.get(name.split(".", 1)[0]))  # a matrix row: key.row
        if limit is not None:
            kept[name] = [value[:limit] for value in values[:MAX_VALUES_PER_FIELD]]
    return kept


def _first(fields: FormValues, key: str) -> str | None:
    values = fields.get(key)
    return values[0] if values else None
