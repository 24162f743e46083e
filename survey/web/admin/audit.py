"""The audit trail: who signed in, downloaded, deleted or changed what."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from survey import store
from survey.web.admin.common import Cursor, page, router
from survey.web.deps import SessionDep
from survey.web.staff import AdminDep


@router.get("/audit", response_class=HTMLResponse)
def audit_trail(
    request: Request, staff: AdminDep, session: SessionDep, before: Cursor = None
) -> Response:
    events, more = store.audit_page(session, before=before)
    older = f"?before={events[-1].id}" if more and events else None
    return page(request, "admin/audit.html", staff, {"events": events, "older": older})
