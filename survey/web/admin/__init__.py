"""The staff workspace under /admin, one module per area: signing in, the
dashboard, responses (table, one response, summary), downloads, the spam
folder, erasure, users, API tokens, surveys (their page, new ones, the
builder), webhooks, email notifications and the audit trail.

Routes stay thin: check who is asking (``StaffDep``/``AdminDep``), parse, call
``store``/``reports``/``export``, render.  A request reads through one session
(``SessionDep``, shared with the staff check) and each request that changes
something commits once, with its audit line in the same transaction.
"""

from __future__ import annotations

from survey.web.admin import (  # noqa: F401 - each area adds its routes to the router
    account,
    audit,
    builder,
    builder_questions,
    dashboard,
    downloads,
    erasure,
    notifications,
    responses,
    signin,
    spam,
    surveys,
    tokens,
    users,
    webhooks,
)
from survey.web.admin.common import router

__all__ = ["router"]
