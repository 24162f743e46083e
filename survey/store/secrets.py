"""Random secrets made once and shared by every worker and host."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlmodel import Session

from survey.models import (
    AppSecret,
    utcnow,
)


def app_secret(session: Session, *, name: str) -> str:
    """A random secret made once and kept, so every worker and host shares it.

    Two processes starting together may both try to create it; the primary key
    lets exactly one win and both read the winner's value.
    """
    existing = session.get(AppSecret, name)
    if existing is not None:
        return existing.value
    candidate = secrets.token_urlsafe(48)
    try:
        with session.begin_nested():
            session.add(AppSecret(name=name, value=candidate, created_at=utcnow()))
    except sa.exc.IntegrityError:
        pass
    stored = session.get(AppSecret, name, populate_existing=True)
    assert stored is not None
    return stored.value


# It signs form tokens, staff cookies, rate-limit keys and the emails' stop
# links, each under a salt of its own.  The stored name is the first
# release's, kept so that upgrading keeps every open form and session valid.
SIGNING_SECRET = "form-token-key"  # noqa: S105 - the secret's name, not a secret


def signing_secret(session: Session, *, configured: str | None) -> str:
    """SURVEY_SECRET_KEY, or else the stored secret every process shares."""
    return configured or app_secret(session, name=SIGNING_SECRET)
