"""The staff workspace under /admin: sign-in, the dashboard, responses (table,
one response, summary, downloads), deletion and erasure, users, API tokens,
surveys and the audit trail.

Routes stay thin: check who is asking (``StaffDep``/``AdminDep``), parse,
call ``store``/``reports``/``export``, render.  Each request that changes
something commits once, with its audit line in the same transaction.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from sqlmodel import Session
from starlette.background import BackgroundTask

from survey import store
from survey.accounts import ROLES, check_new_account, hash_password, verify_password
from survey.answers import InvalidAnswers, clean_form
from survey.definitions import DefinitionError, parse_definition
from survey.export import (
    CsvOptions,
    csv_from_database,
    download_filename,
    jsonl_from_database,
    xlsx_from_database,
)
from survey.filters import FilterError, ResponseFilter, filter_specs, parse_filter, search_keys
from survey.i18n import LANGUAGES, N_, choose
from survey.models import Survey, utcnow
from survey.questions import BaseQuestion, stored_questions
from survey.reports import summarise
from survey.web.deps import database_of
from survey.web.limits import client_of
from survey.web.staff import (
    COOKIE,
    SIGN_IN_COOKIE,
    AdminDep,
    Staff,
    StaffDep,
    current_staff,
    new_sign_in_token,
    secure_cookies,
    sign_in_token_ok,
    signer,
)
from survey.web.state import state_of
from survey.web.templating import render

router = APIRouter(prefix="/admin", include_in_schema=False)

PAGE_SIZE = 50
FAILURE_WINDOW = timedelta(minutes=15)
SIGN_IN_FAILED = N_("The email address or password is not right.")
NO_RESPONSE = N_("There is no such response (it may have been deleted).")


def _session(request: Request) -> Session:
    return database_of(request).session()


def _page(
    request: Request,
    name: str,
    staff: Staff | None,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    # Staff pages speak the browser's language (no ?lang: one language per
    # person is enough, and the session keeps nothing else about them).
    context = {"staff": staff, "lang": _lang(request), **context}
    return render(request, name, context, status_code=status_code)


def _lang(request: Request) -> str:
    return choose(None, request.headers.get("accept-language"), list(LANGUAGES))


def _audit(session: Session, request: Request, staff: Staff, action: str, **detail: Any) -> None:
    """One line of the audit trail for what this staff member just did."""
    store.audit(session, action=action, actor=staff.email, client=client_of(request), **detail)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never an open redirect to another host.
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"


# --- Signing in and out ---------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None) -> Response:
    if current_staff(request) is not None:
        return _see_other(_safe_next(next))
    return _sign_in_form(request, next=_safe_next(next), email="", error=None)


def _sign_in_form(
    request: Request, *, next: str, email: str, error: str | None, status_code: int = 200
) -> Response:
    cookie, token = new_sign_in_token(request)
    response = _page(
        request,
        "admin/login.html",
        None,
        {"next": next, "email": email, "error": error, "sign_in_token": token},
        status_code=status_code,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        cookie,
        max_age=3600,
        path="/admin/login",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return response


@router.post("/login", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/admin",
    token: Annotated[str, Form(alias="_sign_in", max_length=200)] = "",
) -> Response:
    settings = state_of(request).settings
    database = database_of(request)
    target = _safe_next(next)
    if not sign_in_token_ok(request, token):
        return _sign_in_form(
            request,
            next=target,
            email=email,
            error=N_("The sign-in form had expired. Enter your details again."),
            status_code=403,
        )
    client = client_of(request)
    address = email.strip().lower()

    def attempt() -> tuple[str, str | None]:
        with database.begin(write=True) as session:
            account, from_client = store.recent_failures(
                session, since=utcnow() - FAILURE_WINDOW, email=address, client=client
            )
            if (
                account >= settings.sign_in_attempts_per_account
                or from_client >= settings.sign_in_attempts_per_client
            ):
                store.audit(session, action="sign_in_refused", actor=address, client=client)
                return "limited", None
            user = store.find_user(session, email=address) if address else None
            usable = user is not None and user.disabled_at is None
            if not verify_password(password, user.password_hash if usable and user else None):
                store.audit(session, action="sign_in_failed", actor=address, client=client)
                return "failed", None
            assert user is not None
            _, plain = store.create_session(
                session, user=user, lifetime=timedelta(hours=settings.session_hours)
            )
            store.audit(session, action="sign_in", actor=user.email, client=client)
            return "ok", plain

    outcome, plain = await database.run(attempt)
    if outcome == "limited":
        return _sign_in_form(
            request,
            next=target,
            email=email,
            error=N_("Too many failed sign-ins. Wait 15 minutes, then try again."),
            status_code=429,
        )
    if outcome == "failed":
        # Slowed down: guessing passwords gets expensive even below the limits.
        await anyio.sleep(settings.sign_in_failure_delay_seconds)
        return _sign_in_form(
            request, next=target, email=email, error=SIGN_IN_FAILED, status_code=401
        )
    assert plain is not None
    response = _see_other(target)
    response.set_cookie(
        COOKIE,
        signer(request, "staff-session").sign(plain).decode(),
        max_age=int(settings.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/admin/login")
    return response


@router.post("/logout")
def sign_out(request: Request, staff: StaffDep) -> Response:
    assert staff.session.id is not None
    with database_of(request).begin(write=True) as session:
        store.end_session(session, staff_session_id=staff.session.id)
        _audit(session, request, staff, "sign_out")
    response = _see_other("/admin/login")
    response.delete_cookie(COOKIE, path="/")
    return response


# --- Dashboard -------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, staff: StaffDep) -> Response:
    now = utcnow()
    with _session(request) as session:
        surveys = store.list_surveys(session)
        counts = store.survey_counts(session, now=now)
    rows = [
        {
            "survey": survey,
            "title": survey.definition.get("title", survey.slug),
            "open": _is_open(survey, now),
            "counts": counts.get(survey.id or 0),
        }
        for survey in surveys
    ]
    return _page(request, "admin/dashboard.html", staff, {"rows": rows})


def _is_open(survey: Survey, now: Any) -> bool:
    from survey.definitions import SurveyDefinition

    return SurveyDefinition.model_validate(survey.definition).is_open(now)


# --- One survey's responses ---------------------------------------------------------


@dataclass(frozen=True)
class SurveyView:
    survey: Survey
    id: int
    slug: str
    title: str
    questions: list[BaseQuestion]  # the current version's, with labels and options
    versions: dict[int, list[BaseQuestion]]  # version number -> its questions
    search_keys: tuple[str, ...]  # answer keys of every version that a search looks in


def _survey_view(request: Request, slug: str) -> SurveyView:
    with _session(request) as session:
        survey = store.get_survey(session, slug=slug)
        if survey is None or survey.id is None:
            raise HTTPException(status_code=404, detail=N_("There is no survey at this address."))
        versions = store.survey_versions(session, survey_id=survey.id)
    parsed = {v.version: stored_questions(v.questions) for v in versions}
    return SurveyView(
        survey=survey,
        id=survey.id,
        slug=survey.slug,
        title=survey.definition.get("title", survey.slug),
        questions=stored_questions(survey.definition.get("questions", [])),
        versions=parsed,
        search_keys=search_keys(parsed.values()),
    )


def _filter(request: Request, view: SurveyView) -> ResponseFilter:
    params = [
        (k, v) for k, v in request.query_params.multi_items() if k in FILTER_PARAMS or k[:2] == "f."
    ]
    try:
        return parse_filter(
            params, specs=filter_specs(view.questions, _lang(request)), searched=view.search_keys
        )
    except FilterError as exc:
        raise HTTPException(status_code=422, detail=f"{exc.name}: {exc}") from None


FILTER_PARAMS = {"since", "until", "source", "q"}
Cursor = Annotated[int | None, Query(ge=1, le=2**62)]


def _filter_context(view: SurveyView, where: ResponseFilter, lang: str) -> dict[str, Any]:
    chosen = dict(where.answers)
    return {
        "survey": view,
        "where": where,
        "chosen": chosen,
        "choice_filters": filter_specs(view.questions, lang),
        "filter_query": urlencode(where.query_items()),
    }


@router.get("/surveys/{slug}/responses", response_class=HTMLResponse)
def responses(
    request: Request,
    staff: StaffDep,
    slug: str,
    before: Cursor = None,
    after: Cursor = None,
) -> Response:
    view = _survey_view(request, slug)
    where = _filter(request, view)
    with _session(request) as session:
        conn = session.connection()
        total = store.count_responses(conn, survey_id=view.id, where=where)
        rows, more = store.page_of_responses(
            conn,
            survey_id=view.id,
            where=where,
            before=before,
            after=after,
            size=PAGE_SIZE,
        )
    query = where.query_items()
    older = newer = None
    if rows and (more or after is not None):
        older = "?" + urlencode([*query, ("before", rows[-1].id)])
    if rows and (before is not None or (after is not None and more)):
        newer = "?" + urlencode([*query, ("after", rows[0].id)])
    return _page(
        request,
        "admin/responses.html",
        staff,
        {
            **_filter_context(view, where, _lang(request)),
            "total": total,
            "rows": rows,
            "older": older,
            "newer": newer,
            "shown_questions": view.questions[:4],
        },
    )


@router.get("/surveys/{slug}/responses/{response_id}", response_class=HTMLResponse)
def one_response(request: Request, staff: StaffDep, slug: str, response_id: int) -> Response:
    view = _survey_view(request, slug)
    with _session(request) as session:
        row = store.get_response(session.connection(), survey_id=view.id, response_id=response_id)
    if row is None:
        raise HTTPException(
            status_code=404, detail=N_("There is no such response (it may have been deleted).")
        )
    return _page(
        request,
        "admin/response.html",
        staff,
        {
            "survey": view,
            "row": row,
            "questions": view.versions.get(row.version, view.questions),
            "deleted": False,
        },
    )


@router.post("/surveys/{slug}/responses/{response_id}/delete")
def delete_response(request: Request, staff: AdminDep, slug: str, response_id: int) -> Response:
    view = _survey_view(request, slug)
    with database_of(request).begin(write=True) as session:
        deleted = store.delete_response(session, survey_id=view.id, response_id=response_id)
        if not deleted:
            raise HTTPException(
                status_code=404, detail=N_("There is no such response (it may have been deleted).")
            )
        _audit(
            session,
            request,
            staff,
            "delete_response",
            survey_slug=slug,
            response_id=response_id,
        )
    return _see_other(f"/admin/surveys/{slug}/responses?deleted={response_id}")


@router.get("/surveys/{slug}/summary", response_class=HTMLResponse)
def summary(request: Request, staff: StaffDep, slug: str) -> Response:
    view = _survey_view(request, slug)
    where = _filter(request, view)
    result = summarise(
        database_of(request),
        survey_id=view.id,
        questions=view.questions,
        where=where,
        lang=_lang(request),
    )
    return _page(
        request,
        "admin/summary.html",
        staff,
        {**_filter_context(view, where, _lang(request)), "summary": result},
    )


Format = Literal["csv", "jsonl", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/surveys/{slug}/download")
def download(
    request: Request,
    staff: StaffDep,
    slug: str,
    format: Format = "csv",
    header: Literal["keys", "labels"] = "keys",
    bom: bool = False,
    multi: Literal["joined", "columns"] = "joined",
) -> Response:
    view = _survey_view(request, slug)
    where = _filter(request, view)
    database = database_of(request)
    options = CsvOptions(header=header, bom=bom, multi_columns=multi == "columns", filter=where)
    with database.session() as session:
        rows = store.count_responses(session.connection(), survey_id=view.id, where=where)
    with database.begin(write=True) as session:
        _audit(
            session,
            request,
            staff,
            "export",
            survey_slug=slug,
            format=format,
            filters=where.describe(),
            rows=rows,
        )
    filename = download_filename(slug, utcnow(), format)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "xlsx":
        handle, path = tempfile.mkstemp(prefix="survey-", suffix=".xlsx")
        os.close(handle)
        try:
            xlsx_from_database(database, survey_id=view.id, options=options, path=path)
        except BaseException:
            os.unlink(path)
            raise
        return FileResponse(
            path,
            media_type=MEDIA_TYPES["xlsx"],
            headers=headers,
            background=BackgroundTask(os.unlink, path),
        )
    chunks = (
        csv_from_database(database, survey_id=view.id, options=options)
        if format == "csv"
        else jsonl_from_database(database, survey_id=view.id, where=where)
    )
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[format], headers=headers)


# --- The spam folder ----------------------------------------------------------------


@router.get("/surveys/{slug}/spam", response_class=HTMLResponse)
def spam_folder(
    request: Request, staff: StaffDep, slug: str, problem: str | None = None
) -> Response:
    view = _survey_view(request, slug)
    with _session(request) as session:
        held = store.list_spam(session, survey_id=view.id)
    return _page(
        request,
        "admin/spam.html",
        staff,
        {"survey": view, "held": held, "restored": request.query_params.get("restored")},
    )


@router.post("/surveys/{slug}/spam/{spam_id}/restore", response_class=HTMLResponse)
def restore_spam(request: Request, staff: AdminDep, slug: str, spam_id: int) -> Response:
    """A person caught by mistake: their submission becomes a response, checked
    like any other, with the time it arrived."""
    view = _survey_view(request, slug)
    database = database_of(request)
    with database.session() as session:
        live = state_of(request).surveys.load(session, slug)
    with database.begin(write=True) as session:
        spam = store.get_spam(session, survey_id=view.id, spam_id=spam_id)
        if spam is None or live is None:
            raise HTTPException(status_code=404, detail=N_("There is no such submission."))
        try:
            answers = clean_form(live.definition, spam.fields)
        except InvalidAnswers as exc:
            session.rollback()
            with _session(request) as reading:
                held = store.list_spam(reading, survey_id=view.id)
            return _page(
                request,
                "admin/spam.html",
                staff,
                {"survey": view, "held": held, "restored": None, "problems": exc.errors},
                status_code=422,
            )
        # Through the same write as every other response (store.insert_responses).
        restored = live.response(
            answers,
            source=spam.source,
            submission_key=f"spam:{spam_id}",
            submitted_at=spam.received_at,
        )
        store.insert_responses(session.connection(), [restored])
        store.delete_spam(session, spam=spam)
        _audit(
            session,
            request,
            staff,
            "spam_restore",
            survey_slug=slug,
            spam_id=spam_id,
        )
    return _see_other(f"/admin/surveys/{slug}/spam?restored={spam_id}")


# --- Erasure by email address -------------------------------------------------------


@router.get("/erase", response_class=HTMLResponse)
def erase_page(
    request: Request, staff: AdminDep, done: Annotated[int | None, Query()] = None
) -> Response:
    return _page(request, "admin/erase.html", staff, {"email": "", "error": None, "done": done})


@router.post("/erase/check", response_class=HTMLResponse)
def erase_check(
    request: Request, staff: AdminDep, email: Annotated[str, Form(max_length=320)] = ""
) -> Response:
    address = email.strip()
    if "@" not in address:
        return _page(
            request,
            "admin/erase.html",
            staff,
            {
                "email": email,
                "error": N_("Enter the email address the person answered with"),
                "done": None,
            },
            status_code=422,
        )
    with _session(request) as session:
        counts = store.count_by_email(session, email=address)
    return _page(request, "admin/erase_confirm.html", staff, {"email": address, "counts": counts})


@router.post("/erase")
def erase(
    request: Request, staff: AdminDep, email: Annotated[str, Form(max_length=320)] = ""
) -> Response:
    address = email.strip()
    if "@" not in address:
        return _see_other("/admin/erase")
    with database_of(request).begin(write=True) as session:
        responses_deleted, spam_deleted = store.erase_by_email(session, email=address)
        # The trail records that an erasure happened and how much went, not
        # whose: keeping the address would keep what was asked to be erased.
        _audit(
            session,
            request,
            staff,
            "erase",
            responses=responses_deleted,
            spam=spam_deleted,
        )
    return _see_other(f"/admin/erase?done={responses_deleted}")


# --- Users -------------------------------------------------------------------------


def _users_page(
    request: Request,
    staff: Staff,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with _session(request) as session:
        users = store.list_users(session)
    return _page(
        request,
        "admin/users.html",
        staff,
        {
            "users": users,
            "roles": ROLES,
            "errors": errors or {},
            "values": values or {"email": "", "role": "viewer"},
        },
        status_code=status_code,
    )


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, staff: AdminDep) -> Response:
    return _users_page(request, staff)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    staff: AdminDep,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=20)] = "viewer",
    password: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    address, errors = check_new_account(email, role, password)
    database = database_of(request)
    if not errors:
        with database.begin(write=True) as session:
            if store.find_user(session, email=address) is not None:
                errors["email"] = N_("There is already an account with this email address")
            else:
                store.create_user(
                    session, email=address, password_hash=hash_password(password), role=role
                )
                _audit(
                    session,
                    request,
                    staff,
                    "user_create",
                    user=address,
                    role=role,
                )
    if errors:
        return _users_page(
            request, staff, errors=errors, values={"email": email, "role": role}, status_code=422
        )
    return _see_other("/admin/users")


@router.post("/users/{user_id}/{change}")
def change_user(
    request: Request, staff: AdminDep, user_id: int, change: Literal["disable", "enable"]
) -> Response:
    with database_of(request).begin(write=True) as session:
        user = store.get_user(session, user_id=user_id)
        if user is None:
            raise HTTPException(status_code=404, detail=N_("There is no such user."))
        if user.id == staff.user.id:
            raise HTTPException(
                status_code=409,
                detail=N_("You cannot disable your own account: ask another admin."),
            )
        if change == "disable":
            store.disable_user(session, user=user)
        else:
            store.enable_user(session, user=user)
        _audit(
            session,
            request,
            staff,
            f"user_{change}",
            user=user.email,
        )
    return _see_other("/admin/users")


# --- API tokens ------------------------------------------------------------------------


def _tokens_page(
    request: Request,
    staff: Staff,
    *,
    new_token: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with _session(request) as session:
        tokens = store.list_tokens(session)
    return _page(
        request,
        "admin/tokens.html",
        staff,
        {"tokens": tokens, "new_token": new_token, "error": error},
        status_code=status_code,
    )


@router.get("/tokens", response_class=HTMLResponse)
def tokens(request: Request, staff: AdminDep) -> Response:
    return _tokens_page(request, staff)


@router.post("/tokens", response_class=HTMLResponse)
def create_token(
    request: Request, staff: AdminDep, name: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    if not name.strip():
        return _tokens_page(
            request,
            staff,
            error=N_("Give the token a name, such as what will use it"),
            status_code=422,
        )
    with database_of(request).begin(write=True) as session:
        token, plain = store.create_token(session, name=name.strip())
        _audit(
            session,
            request,
            staff,
            "token_create",
            token_id=token.id,
            name=token.name,
        )
    # Shown on this page once; only its hash is kept.
    return _tokens_page(request, staff, new_token=plain)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, staff: AdminDep, token_id: int) -> Response:
    with database_of(request).begin(write=True) as session:
        token = store.revoke_token(session, token_id=token_id)
        if token is None:
            raise HTTPException(status_code=404, detail=N_("There is no such token."))
        _audit(
            session,
            request,
            staff,
            "token_revoke",
            token_id=token_id,
            name=token.name,
        )
    return _see_other("/admin/tokens")


# --- Surveys ------------------------------------------------------------------------------


@router.get("/surveys/new", response_class=HTMLResponse)
def new_survey(request: Request, staff: AdminDep) -> Response:
    return _page(request, "admin/survey_load.html", staff, {"text": "", "error": None})


@router.post("/surveys", response_class=HTMLResponse)
def load_survey(
    request: Request,
    staff: AdminDep,
    definition: Annotated[str, Form(max_length=60_000)] = "",
) -> Response:
    try:
        parsed = parse_definition(definition, "the survey file")
    except DefinitionError as exc:
        return _page(
            request,
            "admin/survey_load.html",
            staff,
            {"text": definition, "error": str(exc)},
            status_code=422,
        )
    with database_of(request).begin(write=True) as session:
        result = store.load_definition(session, definition=parsed)
        _audit(
            session,
            request,
            staff,
            "survey_load",
            survey_slug=result.slug,
            outcome=result.outcome,
            version=result.version,
        )
    return _see_other(f"/admin?loaded={result.slug}")


# --- Audit trail -----------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, staff: AdminDep, before: Cursor = None) -> Response:
    with _session(request) as session:
        events, more = store.audit_page(session, before=before)
    older = f"?before={events[-1].id}" if more and events else None
    return _page(request, "admin/audit.html", staff, {"events": events, "older": older})
