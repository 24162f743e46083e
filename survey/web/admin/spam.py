"""The spam folder: submissions set aside (honeypot, sent too fast), and restoring
a person caught by mistake."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import store
from survey.answers import InvalidAnswers, clean_form
from survey.i18n import N_
from survey.web.admin.common import (
    NO_SURVEY,
    audit,
    not_found,
    notice,
    page,
    router,
    see_other_with_notice,
    staff_lang,
    survey_view,
)
from survey.web.deps import SessionDep, database_of
from survey.web.staff import AdminDep, Staff, StaffDep
from survey.web.state import state_of

NO_SUBMISSION = N_("There is no such submission.")


@router.get("/surveys/{slug}/spam", response_class=HTMLResponse)
def spam_folder(request: Request, staff: StaffDep, session: SessionDep, slug: str) -> Response:
    view = survey_view(session, slug, staff_lang(request))
    held = store.list_spam(session, survey_id=view.id)
    return page(
        request,
        "admin/spam.html",
        staff,
        {"survey": view, "held": held, "restored": notice(request, "restored")},
    )


@router.post("/surveys/{slug}/spam/{spam_id}/restore", response_class=HTMLResponse)
def restore_spam(
    request: Request, staff: AdminDep, session: SessionDep, slug: str, spam_id: int
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
        store.insert_responses(writing.connection(), [restored])
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
        {"survey": view, "held": held, "restored": None, "problems": problems},
        status_code=422,
    )
