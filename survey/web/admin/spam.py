"""The spam folder: submissions set aside (honeypot, sent too fast), restoring
a person caught by mistake, and deleting the rest (one, or all)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import store
from survey.answers import InvalidAnswers, clean_form
from survey.i18n import N_
from survey.web.admin.common import (
    NO_SURVEY,
    RowId,
    SurveyView,
    audit,
    not_found,
    notice,
    page,
    router,
    see_other,
    see_other_with_notice,
    staff_lang,
    survey_view,
)
from survey.web.deps import SessionDep, database_of
from survey.web.public.submit import HONEYPOT_FIELD
from survey.web.staff import AdminDep, Staff, StaffDep
from survey.web.state import state_of

NO_SUBMISSION = N_("There is no such submission.")
HIDDEN_FIELD = N_("The hidden field (people never see it; bots fill it)")
OTHER_TEXT = N_("“Other”, in their words")


@router.get("/surveys/{slug}/spam", response_class=HTMLResponse)
def spam_folder(request: Request, staff: StaffDep, session: SessionDep, slug: str) -> Response:
    view = survey_view(session, slug, staff_lang(request))
    held = store.list_spam(session, survey_id=view.id)
    return page(
        request,
        "admin/spam.html",
        staff,
        {
            "survey": view,
            "held": held,
            "names": field_names(view, staff_lang(request)),
            "total": sum(store.count_spam(session, survey_id=view.id).values()),
            "restored": notice(request, "restored"),
            "deleted": notice(request, "deleted"),
        },
    )


def field_names(view: SurveyView, lang: str) -> dict[str, str]:
    """What each sent field is, in words: its question (an "Other" text
    says so), or the hidden field only bots fill."""
    lang_other = OTHER_TEXT.in_language(lang)
    names: dict[str, str] = {HONEYPOT_FIELD: HIDDEN_FIELD.in_language(lang)}
    for questions in [view.questions, *view.versions.values()]:
        for question in questions:
            names.setdefault(question.key, question.label)
            for extra in question.answer_keys()[1:]:
                names.setdefault(extra, f"{question.label} – {lang_other}")
    return names


@router.post("/surveys/{slug}/spam/{spam_id}/delete")
def delete_spam(request: Request, staff: AdminDep, slug: str, spam_id: RowId) -> Response:
    with database_of(request).begin(write=True) as writing:
        view = survey_view(writing, slug)
        spam = store.get_spam(writing, survey_id=view.id, spam_id=spam_id)
        if spam is None:
            raise not_found(NO_SUBMISSION)
        store.delete_spam(writing, spam=spam)
        audit(writing, request, staff, "spam_delete", survey_slug=slug, spam_id=spam_id)
    return see_other_with_notice(request, f"/admin/surveys/{slug}/spam", "deleted", 1)


@router.post("/surveys/{slug}/spam/delete")
def delete_all_spam(
    request: Request,
    staff: AdminDep,
    slug: str,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Empty the folder; the box "Yes, delete them all" must be ticked."""
    if confirm != "yes":
        return see_other(f"/admin/surveys/{slug}/spam")
    with database_of(request).begin(write=True) as writing:
        view = survey_view(writing, slug)
        deleted = store.delete_all_spam(writing, survey_id=view.id)
        audit(writing, request, staff, "spam_delete", survey_slug=slug, count=deleted)
    return see_other_with_notice(request, f"/admin/surveys/{slug}/spam", "deleted", deleted)


@router.post("/surveys/{slug}/spam/{spam_id}/restore", response_class=HTMLResponse)
def restore_spam(
    request: Request, staff: AdminDep, session: SessionDep, slug: str, spam_id: RowId
) -> Response:
    """A person caught by mistake: their submission becomes a response, checked
    like any other, with the time it arrived."""
    live = state_of(request).surveys.load(session, slug)
    if live is None:
        raise not_found(NO_SURVEY)
    with database_of(request).begin(write=True) as writing:
        spam = store.get_spam(writing, survey_id=live.id, spam_id=spam_id)
        if spam is None:
            raise not_found(NO_SUBMISSION)
        try:
            answers = clean_form(live.definition, spam.fields)
        except InvalidAnswers as exc:
            writing.rollback()
            return _with_problems(request, staff, session, slug, exc.errors)
        # Through the same write as every other response (store.insert_responses).
        restored = live.response(
            answers,
            source=spam.source,
            submission_key=f"spam:{spam_id}",
            submitted_at=spam.received_at,
        )
        [(new_id, _)] = store.insert_responses(writing.connection(), [restored])
        # Its webhook deliveries, in the same transaction (the outbox).
        store.enqueue(
            writing.connection(),
            [store.StoredResponse(new_id, live.id)],
            mail=state_of(request).settings.mail_on,
        )
        store.delete_spam(writing, spam=spam)
        audit(writing, request, staff, "spam_restore", survey_slug=slug, spam_id=spam_id)
    return see_other_with_notice(request, f"/admin/surveys/{slug}/spam", "restored", spam_id)


def _with_problems(
    request: Request, staff: Staff, session: Session, slug: str, problems: dict[str, str]
) -> Response:
    view = survey_view(session, slug, staff_lang(request))
    held = store.list_spam(session, survey_id=view.id)
    return page(
        request,
        "admin/spam.html",
        staff,
        {
            "survey": view,
            "held": held,
            "names": field_names(view, staff_lang(request)),
            "total": sum(store.count_spam(session, survey_id=view.id).values()),
            "restored": None,
            "deleted": None,
            "problems": problems,
        },
        status_code=422,
    )
