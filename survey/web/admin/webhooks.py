"""Webhooks in the workspace (admins only: their addresses and secrets are
keys to other systems): a survey's list and the form to add one, and a page
per webhook with its recent attempts, a test event, redelivery, pausing and
removing."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import store
from survey.delivery import deliver_due, url_problem
from survey.i18n import N_
from survey.models import Survey, Webhook
from survey.web.admin.common import (
    RowId,
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
from survey.web.staff import AdminDep, Staff
from survey.web.state import state_of

NO_WEBHOOK = N_("There is no such webhook.")
FORMATS = ("standard", "slack")


@router.get("/surveys/{slug}/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, staff: AdminDep, session: SessionDep, slug: str) -> Response:
    return _list_page(request, staff, session, slug)


def _list_page(
    request: Request,
    staff: Staff,
    session: Session,
    slug: str,
    *,
    error: str | None = None,
    sent: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = survey_view(session, slug, staff_lang(request))
    hooks = [
        (webhook, store.delivery_counts(session, webhook_id=webhook.id or 0))
        for webhook, _ in store.list_webhooks(session, survey_id=view.id)
    ]
    return page(
        request,
        "admin/webhooks.html",
        staff,
        {
            "survey": view,
            "hooks": hooks,
            "error": error,
            "sent": sent or {},
            "removed": notice(request, "removed"),
            "mail_on": state_of(request).settings.mail_on,
        },
        status_code=status_code,
    )


@router.post("/surveys/{slug}/webhooks", response_class=HTMLResponse)
def add_webhook(
    request: Request,
    staff: AdminDep,
    session: SessionDep,
    slug: str,
    url: Annotated[str, Form(max_length=20_000)] = "",
    format: Annotated[str, Form(max_length=20)] = "standard",
) -> Response:
    url = url.strip()
    problem = url_problem(url, state_of(request).settings)
    if format not in FORMATS:
        format = "standard"
    if problem:
        sent = {"url": url, "format": format}
        return _list_page(request, staff, session, slug, error=problem, sent=sent, status_code=422)
    with database_of(request).begin(write=True) as writing:
        view = survey_view(writing, slug)
        webhook = store.add_webhook(writing, survey_id=view.id, url=url, format=format)
        audit(writing, request, staff, "webhook_add", survey_slug=slug, webhook_id=webhook.id)
    return see_other_with_notice(request, f"/admin/webhooks/{webhook.id}", "done", "added")


def _webhook(session: Session, webhook_id: int) -> tuple[Webhook, Survey]:
    found = store.get_webhook(session, webhook_id=webhook_id)
    if found is None:
        raise not_found(NO_WEBHOOK)
    return found


@router.get("/webhooks/{webhook_id}", response_class=HTMLResponse)
def webhook_page(
    request: Request, staff: AdminDep, session: SessionDep, webhook_id: RowId
) -> Response:
    webhook, survey = _webhook(session, webhook_id)
    view = survey_view(session, survey.slug, staff_lang(request))
    return page(
        request,
        "admin/webhook.html",
        staff,
        {
            "survey": view,
            "webhook": webhook,
            "counts": store.delivery_counts(session, webhook_id=webhook_id),
            "attempts": store.recent_attempts(session, webhook_id=webhook_id),
            "done": notice(request, "done"),
        },
    )


@router.post("/webhooks/{webhook_id}/test")
async def send_test(request: Request, staff: AdminDep, webhook_id: RowId) -> Response:
    """A test event, written to the outbox like any other and sent at once
    (the page then shows what the receiver answered)."""
    database = database_of(request)

    def write() -> int:
        with database.begin(write=True) as session:
            webhook, _ = _webhook(session, webhook_id)
            delivery_id = store.add_test_event(session, webhook=webhook)
            audit(session, request, staff, "webhook_test", webhook_id=webhook_id)
            return delivery_id

    delivery_id = await database.run(write)
    await _send_now(request, delivery_id)
    return see_other_with_notice(request, f"/admin/webhooks/{webhook_id}", "done", "tested")


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(
    request: Request, staff: AdminDep, webhook_id: RowId, delivery_id: RowId
) -> Response:
    """The same event again (same webhook-id), now, with a fresh run of retries."""
    database = database_of(request)

    def write() -> bool:
        with database.begin(write=True) as session:
            _webhook(session, webhook_id)
            if not store.redeliver(session, webhook_id=webhook_id, delivery_id=delivery_id):
                return False
            audit(session, request, staff, "webhook_redeliver", webhook_id=webhook_id)
            return True

    if not await database.run(write):
        raise not_found(N_("There is no such event for this webhook."))
    await _send_now(request, delivery_id)
    return see_other_with_notice(request, f"/admin/webhooks/{webhook_id}", "done", "redelivered")


async def _send_now(request: Request, delivery_id: int) -> None:
    # On a thread of its own, never the database's few: a slow receiver
    # (up to 10 s) must not hold up the form.
    state = state_of(request)
    await anyio.to_thread.run_sync(
        lambda: deliver_due(state.database, state.settings, only=delivery_id)
    )


@router.post("/webhooks/{webhook_id}/pause")
def pause(
    request: Request,
    staff: AdminDep,
    webhook_id: RowId,
    paused: Annotated[str, Form(max_length=10)] = "yes",
) -> Response:
    with database_of(request).begin(write=True) as session:
        webhook, _ = _webhook(session, webhook_id)
        store.set_paused(session, webhook=webhook, paused=paused == "yes")
        action = "webhook_pause" if paused == "yes" else "webhook_resume"
        audit(session, request, staff, action, webhook_id=webhook_id)
    done = "paused" if paused == "yes" else "resumed"
    return see_other_with_notice(request, f"/admin/webhooks/{webhook_id}", "done", done)


@router.post("/webhooks/{webhook_id}/remove")
def remove(
    request: Request,
    staff: AdminDep,
    webhook_id: RowId,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if confirm != "yes":
        return see_other(f"/admin/webhooks/{webhook_id}#remove")
    with database_of(request).begin(write=True) as session:
        webhook, survey = _webhook(session, webhook_id)
        store.remove_webhook(session, webhook_id=webhook_id)
        audit(session, request, staff, "webhook_remove", survey_slug=survey.slug, url=webhook.url)
    return see_other_with_notice(request, f"/admin/surveys/{survey.slug}/webhooks", "removed", 1)
