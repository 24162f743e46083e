"""Email notifications: each staff member's choice per survey (on their
account page), and the link in every email that stops it, one click away
(RFC 8058: a mail program posts to it without a page)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import store
from survey.definitions import SurveyDefinition
from survey.mail import read_unsubscribe_token
from survey.models import Survey
from survey.web.admin.common import audit, notice, page, router, see_other_with_notice, staff_lang
from survey.web.deps import SessionDep, database_of
from survey.web.staff import Staff, StaffDep
from survey.web.state import state_of


def notification_rows(session: Session, staff: Staff, lang: str) -> list[dict[str, object]]:
    """Every survey with this person's choice for it, for the account page."""
    chosen = store.choices_of(session, user_id=staff.user.id or 0)
    rows: list[dict[str, object]] = []
    for survey in store.list_surveys(session):
        title = SurveyDefinition.model_validate(survey.definition).localized(lang).title
        rows.append(
            {
                "id": survey.id,
                "slug": survey.slug,
                "title": title,
                "mode": chosen.get(survey.id or 0, "off"),
            }
        )
    return rows


@router.post("/account/notifications")
async def save_notifications(request: Request, staff: StaffDep) -> Response:
    """One form for every survey: ``survey-ID`` = each, daily or off."""
    form = await request.form()
    lang = staff_lang(request)
    database = database_of(request)

    def save() -> int:
        changed = 0
        with database.begin(write=True) as session:
            user_id = staff.user.id or 0
            for survey in store.list_surveys(session):
                mode = str(form.get(f"survey-{survey.id}", ""))
                if mode not in store.notifications.MODES:
                    continue
                if store.set_choice(session, user_id=user_id, survey_id=survey.id or 0, mode=mode):
                    changed += 1
                    audit(session, request, staff, "notify", survey_slug=survey.slug, mode=mode)
            user = store.get_user(session, user_id=user_id)
            assert user is not None
            # Their emails speak the language this page was in.
            store.remember_language(session, user=user, lang=lang)
        return changed

    changed = await database.run(save)
    return see_other_with_notice(request, "/admin/account", "notifications", changed)


@router.get("/notifications/stop", response_class=HTMLResponse)
def stop_page(request: Request, session: SessionDep, t: str = "") -> Response:
    """What the email's link opens: a button (a link checker that follows
    links must not stop anything)."""
    found = _read(request, session, t)
    return page(
        request,
        "admin/stop.html",
        None,
        {"token": t, "found": found, "stopped": False},
        status_code=200 if found else 400,
    )


@router.post("/notifications/stop", response_class=HTMLResponse)
def stop(request: Request, t: str = "") -> Response:
    """Stops it at once: the page's button, or the mail program's one-click
    post (``List-Unsubscribe=One-Click``).  Needs no sign-in: the signed
    token in the address is the permission, for this one kind of email."""
    with database_of(request).begin(write=True) as session:
        found = _read(request, session, t)
        if found is None:
            return page(
                request,
                "admin/stop.html",
                None,
                {"token": t, "found": None, "stopped": False},
                status_code=400,
            )
        user_id, what, _title = found
        if what == "digest":
            store.stop_digest(session, user_id=user_id)
        else:
            store.set_choice(session, user_id=user_id, survey_id=int(what), mode="off")
        user = store.get_user(session, user_id=user_id)
        store.audit(
            session,
            action="notify",
            actor=user.email if user else None,
            client=None,
            mode="off",
            stopped=what,
        )
    return page(request, "admin/stop.html", None, {"token": t, "found": found, "stopped": True})


def _read(request: Request, session: Session, token: str) -> tuple[int, str, str | None] | None:
    """(user id, "digest" or a survey id, the survey's title) of a good token."""
    read = read_unsubscribe_token(state_of(request).signing_secret, token)
    if read is None:
        return None
    user_id, what = read
    if what == "digest":
        return user_id, what, None
    if not what.isdigit():
        return None
    survey = session.get(Survey, int(what))
    if survey is None:
        return None
    title = SurveyDefinition.model_validate(survey.definition).localized(staff_lang(request)).title
    return user_id, what, title


def account_context(request: Request, session: Session, staff: Staff) -> dict[str, object]:
    settings = state_of(request).settings
    return {
        "notifications": notification_rows(session, staff, staff_lang(request)),
        "mail_on": settings.mail_on,
        "digest_hour": settings.digest_hour,
        "links_on": settings.public_url is not None,
        "notifications_saved": notice(request, "notifications"),
    }
