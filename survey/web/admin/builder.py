"""The builder: editing a survey's draft in the browser, one change per form,
previewing it, publishing it as a new version, or discarding it.

Every page works without JavaScript (plain forms, 303 after a change, 422
with the form again when something is wrong).  Every save names the draft's
revision it was made from: a save from an older one is refused (409) and the
page says what changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import builder, store
from survey.builder import Refusal
from survey.definitions import SurveyDefinition
from survey.i18n import LANGUAGES, N_, Message
from survey.models import SurveyDraft, utcnow
from survey.web.admin.common import (
    audit,
    not_found,
    page,
    router,
    see_other,
    see_other_with_notice,
    staff_lang,
)
from survey.web.cache import LiveSurvey
from survey.web.deps import SessionDep, database_of
from survey.web.public.common import View
from survey.web.staff import AdminDep, Staff, StaffDep

NO_DRAFT = N_("There is no draft of this survey. Open the survey's page to start editing it.")
Revision = Annotated[int, Form(ge=0, le=2**31)]


async def form_fields(request: Request) -> dict[str, list[str]]:
    """Every field the form sent, as lists of strings (a question form's
    fields depend on its kind and languages, so they are not declared)."""
    form = await request.form()
    return {name: [v for v in form.getlist(name) if isinstance(v, str)] for name in form}


FieldsDep = Annotated[dict[str, list[str]], Depends(form_fields)]


def draft_or_404(session: Session, slug: str) -> SurveyDraft:
    draft = store.get_draft(session, slug=slug)
    if draft is None:
        raise not_found(NO_DRAFT)
    return draft


def draft_questions(draft: SurveyDraft) -> list[dict[str, Any]]:
    return list(draft.document.get("questions") or [])


def answered_keys(session: Session, draft: SurveyDraft) -> dict[str, str]:
    if draft.survey_id is None:
        return {}
    return store.answered_questions(session, survey_id=draft.survey_id)


def builder_page(
    request: Request,
    staff: Staff,
    session: Session,
    draft: SurveyDraft,
    *,
    problems: list[tuple[str, Message | str]] | None = None,
    status_code: int = 200,
    fields: dict[str, list[str]] | None = None,
) -> Response:
    lang = staff_lang(request)
    main = draft.languages[0]
    questions = draft_questions(draft)
    try:
        builder.check(draft.document)
        draft_problems: list[tuple[str, Message | str]] = []
    except Refusal as exc:
        draft_problems = exc.problems
    return page(
        request,
        "admin/builder.html",
        staff,
        {
            "draft": draft,
            "doc": draft.document,
            "main": main,
            "text_in": builder.text_in,
            "questions": [
                {
                    "raw": q,
                    "label": builder.text_in(q.get("label"), lang, main)
                    or builder.text_in(q.get("label"), main, main),
                    "kind": builder.KIND_NAMES.get(str(q.get("type")), str(q.get("type"))),
                }
                for q in questions
            ],
            "languages": LANGUAGES,
            "problems": problems or [],
            "draft_problems": draft_problems,
            "fields": fields,
            "kinds": builder.KIND_NAMES,
            "last_change": builder.change_message(draft.last_change),
            "answered": answered_keys(session, draft),
            "result_choices": _result_choices(questions, main),
            "notice": _notice(request),
        },
        status_code=status_code,
    )


def _result_choices(questions: list[dict[str, Any]], main: str) -> dict[str, list[Any]]:
    """The draft's questions the results section can name: counted ones,
    consent questions, and text questions to quote."""
    found: dict[str, list[Any]] = {"counted": [], "consents": [], "texts": []}
    for raw in questions:
        parsed = builder.parse_question(raw, main)
        if parsed is None:
            continue
        pair = (parsed.key, parsed.label)
        if parsed.choice_values() is not None:
            found["counted"].append(pair)
        if parsed.type == "consent":
            found["consents"].append(pair)
        if parsed.type in ("short_text", "long_text"):
            found["texts"].append(pair)
    return found


def _notice(request: Request) -> str | None:
    from survey.web.admin.common import notice

    return notice(request, "saved")


def conflict(request: Request, staff: Staff, session: Session, draft: SurveyDraft) -> Response:
    session.refresh(draft)
    message = N_(
        "Nothing was saved: %(who)s changed this draft at %(when)s (%(change)s) after you "
        "opened the page. This is the draft as it is now; make your change again.",
        who=draft.updated_by,
        when=_time(draft.updated_at),
        change=builder.change_message(draft.last_change).in_language(staff_lang(request)),
    )
    return builder_page(request, staff, session, draft, problems=[("", message)], status_code=409)


def _time(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")


# One change: the draft and the session it is read in -> (document, languages,
# what changed), or Refusal.
Edit = Callable[[SurveyDraft, Session], tuple[dict[str, Any], list[str], Message]]
OnRefused = Callable[[Session, SurveyDraft, Refusal], Response]


def save_change(
    request: Request,
    staff: Staff,
    slug: str,
    revision: int,
    edit: Edit,
    on_refused: OnRefused | None = None,
) -> Response:
    """One change to the draft, in one write transaction with its audit line.
    A draft saved since ``revision`` refuses it (409, naming that change); a
    Refusal shows the builder page again (or ``on_refused``'s page), 422."""
    with database_of(request).begin(write=True) as session:
        draft = draft_or_404(session, slug)
        if draft.revision != revision:
            return conflict(request, staff, session, draft)
        try:
            document, languages, change = edit(draft, session)
        except Refusal as exc:
            if on_refused is not None:
                return on_refused(session, draft, exc)
            return builder_page(
                request, staff, session, draft, problems=exc.problems, status_code=422
            )
        try:
            store.save_draft(
                session,
                draft=draft,
                revision=revision,
                document=document,
                languages=languages,
                change=builder.change_record(change),
                actor=staff.email,
            )
        except store.DraftChanged:
            session.rollback()
            return conflict(request, staff, session, draft)
        audit(session, request, staff, "draft_change", survey_slug=slug, change=str(change))
    return see_other_with_notice(request, f"/admin/surveys/{slug}/edit", "saved", str(change))


@router.get("/surveys/{slug}/edit", response_class=HTMLResponse)
def edit_draft(request: Request, staff: AdminDep, session: SessionDep, slug: str) -> Response:
    draft = store.get_draft(session, slug=slug)
    if draft is None:
        survey = store.get_survey(session, slug=slug)
        if survey is None:
            raise not_found(NO_DRAFT)
        return see_other(f"/admin/surveys/{slug}")
    return builder_page(request, staff, session, draft)


@router.post("/surveys/{slug}/edit")
def start_draft(request: Request, staff: AdminDep, slug: str) -> Response:
    """A draft of a published survey, as it is now (once: an existing draft is kept)."""
    with database_of(request).begin(write=True) as session:
        if store.get_draft(session, slug=slug) is None:
            survey = store.get_survey(session, slug=slug)
            if survey is None:
                raise not_found(NO_DRAFT)
            definition = SurveyDefinition.model_validate(survey.definition)
            store.create_draft(
                session,
                slug=slug,
                survey_id=survey.id,
                document=builder.file_document(definition),
                languages=definition.languages,
                change=builder.change_record(N_("draft started from the published survey")),
                actor=staff.email,
            )
            audit(session, request, staff, "draft_start", survey_slug=slug)
    return see_other(f"/admin/surveys/{slug}/edit")


@router.post("/surveys/{slug}/edit/settings", response_class=HTMLResponse)
def save_settings(
    request: Request, staff: AdminDep, slug: str, revision: Revision, fields: FieldsDep
) -> Response:
    def edit(draft: SurveyDraft, session: Session) -> tuple[dict[str, Any], list[str], Message]:
        languages = builder.chosen_languages(fields, draft.languages[0])
        # The inputs on the page were those of the languages it showed.
        document = builder.apply_settings(draft.document, fields, draft.languages)
        return document, languages, N_("settings saved")

    return save_change(request, staff, slug, revision, edit)


@router.get("/surveys/{slug}/edit/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    slug: str,
    lang: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    """The draft as a reader will see it, in each of its languages; nothing can be sent."""
    draft = store.get_draft(session, slug=slug)
    if draft is None:
        if store.get_survey(session, slug=slug) is None:
            raise not_found(NO_DRAFT)
        return see_other(f"/admin/surveys/{slug}")
    try:
        definition = builder.check(draft.document)
    except Refusal as exc:
        return builder_page(request, staff, session, draft, problems=exc.problems, status_code=422)
    shown = lang if lang in definition.languages else definition.lang
    live = LiveSurvey(
        id=0, version=0, version_id=0, updated_at=utcnow(), definition=definition, columns=[]
    )
    return page(
        request,
        "admin/preview.html",
        staff,
        {
            "survey": live.in_language(shown),
            "lang": shown,
            "staff_language": staff_lang(request),
            "view": View(slug, False, None, shown),
            "values": {},
            "errors": {},
            "draft": draft,
        },
    )


@router.post("/surveys/{slug}/edit/publish", response_class=HTMLResponse)
def publish(request: Request, staff: AdminDep, slug: str, revision: Revision) -> Response:
    with database_of(request).begin(write=True) as session:
        draft = draft_or_404(session, slug)
        if draft.revision != revision:
            return conflict(request, staff, session, draft)
        document = dict(draft.document)
        survey = store.get_survey(session, slug=slug)
        if survey is not None and draft.survey_id != survey.id:
            problem = N_("A survey with this address was published meanwhile: %(slug)s.", slug=slug)
            return builder_page(
                request, staff, session, draft, problems=[("", problem)], status_code=409
            )
        if survey is not None:
            # Open or closed is the survey page's switch, not the draft's.
            document["status"] = survey.definition.get("status", "open")
        try:
            definition = builder.check(document)
            changed = builder.changed_types(definition, answered_keys(session, draft))
            if changed:
                raise Refusal(
                    [
                        (
                            "questions",
                            N_(
                                "%(key)s has answers as another kind of question: give the "
                                "new question a new key.",
                                key=key,
                            ),
                        )
                        for key in changed
                    ]
                )
        except Refusal as exc:
            return builder_page(
                request, staff, session, draft, problems=exc.problems, status_code=422
            )
        result = store.load_definition(session, definition=definition)
        published = store.get_survey(session, slug=slug)
        assert published is not None
        store.mark_edited_in_browser(session, survey=published)
        store.delete_draft(session, draft=draft)
        audit(
            session,
            request,
            staff,
            "survey_publish",
            survey_slug=slug,
            outcome=result.outcome,
            version=result.version,
        )
    return see_other_with_notice(
        request, f"/admin/surveys/{slug}", "published", f"{result.outcome}:{result.version}"
    )


@router.post("/surveys/{slug}/edit/discard")
def discard(request: Request, staff: AdminDep, slug: str) -> Response:
    with database_of(request).begin(write=True) as session:
        draft = draft_or_404(session, slug)
        new_survey = draft.survey_id is None
        store.delete_draft(session, draft=draft)
        audit(session, request, staff, "draft_discard", survey_slug=slug)
    return see_other("/admin" if new_survey else f"/admin/surveys/{slug}")
