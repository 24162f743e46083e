"""Staff accounts, their signed-in sessions, API tokens and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from survey.models import (
    ApiToken,
    AuditEvent,
    StaffSession,
    StaffUser,
    utcnow,
)

TOKEN_PREFIX = "rs_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, name: str) -> tuple[ApiToken, str]:
    """A new API token; the plain token is returned once and only its hash is kept."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=hash_token(plain), created_at=utcnow())
    session.add(token)
    session.flush()
    return token, plain


def find_active_token(session: Session, *, plain: str) -> ApiToken | None:
    return session.exec(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(plain), col(ApiToken.revoked_at).is_(None)
        )
    ).first()


# --- Staff accounts, sessions, the audit trail ---------------------------------


def create_user(session: Session, *, email: str, password_hash: str, role: str) -> StaffUser:
    user = StaffUser(
        email=email.strip().lower(), password_hash=password_hash, role=role, created_at=utcnow()
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, *, email: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.email == email.strip().lower())).first()


def get_user(session: Session, *, user_id: int) -> StaffUser | None:
    return session.get(StaffUser, user_id)


def list_users(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).order_by(col(StaffUser.email))).all())


def disable_user(session: Session, *, user: StaffUser) -> None:
    """Disable an account and sign it out everywhere at once."""
    user.disabled_at = user.disabled_at or utcnow()
    session.add(user)
    session.execute(sa.delete(StaffSession).where(col(StaffSession.user_id) == user.id))
    session.flush()


def enable_user(session: Session, *, user: StaffUser) -> None:
    user.disabled_at = None
    session.add(user)
    session.flush()


def create_session(
    session: Session, *, user: StaffUser, lifetime: timedelta
) -> tuple[StaffSession, str]:
    """A new signed-in session; the plain token goes into the cookie only."""
    assert user.id is not None
    plain = secrets.token_urlsafe(32)
    now = utcnow()
    staff_session = StaffSession(
        token_hash=hash_token(plain),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + lifetime,
    )
    user.last_sign_in_at = now
    session.add_all([staff_session, user])
    session.flush()
    return staff_session, plain


def find_session(
    session: Session, *, plain: str, now: datetime
) -> tuple[StaffSession, StaffUser] | None:
    """The live session for a cookie's token, with its (enabled) user."""
    row = session.exec(
        select(StaffSession, StaffUser)
        .join(StaffUser, col(StaffUser.id) == StaffSession.user_id)
        .where(
            StaffSession.token_hash == hash_token(plain),
            StaffSession.expires_at > now,
            col(StaffUser.disabled_at).is_(None),
        )
    ).first()
    return None if row is None else (row[0], row[1])


def end_session(session: Session, *, staff_session_id: int) -> None:
    session.execute(sa.delete(StaffSession).where(col(StaffSession.id) == staff_session_id))


def purge_sessions(session: Session, *, now: datetime) -> None:
    session.execute(sa.delete(StaffSession).where(col(StaffSession.expires_at) <= now))


def audit(
    session: Session,
    *,
    action: str,
    actor: str | None,
    client: str | None = None,
    survey_slug: str | None = None,
    **detail: Any,
) -> None:
    """One line of the audit trail, in the same transaction as what it records."""
    session.add(
        AuditEvent(
            at=utcnow(),
            actor=actor,
            action=action,
            survey_slug=survey_slug,
            client=client,
            detail=detail,
        )
    )
    session.flush()


def recent_failures(
    session: Session, *, since: datetime, email: str, client: str | None
) -> tuple[int, int]:
    """Failed sign-ins since a moment: for this account, and from this client."""
    failed = (
        select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "sign_in_failed", AuditEvent.at >= since)
    )
    for_account = session.exec(failed.where(AuditEvent.actor == email.strip().lower())).one()
    from_client = session.exec(failed.where(AuditEvent.client == client)).one() if client else 0
    return int(for_account), int(from_client)


def audit_page(
    session: Session, *, before: int | None = None, size: int = 100
) -> tuple[list[AuditEvent], bool]:
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(size + 1)
    if before is not None:
        query = query.where(col(AuditEvent.id) < before)
    events = list(session.exec(query).all())
    return events[:size], len(events) > size


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.id).desc())).all())


def revoke_token(session: Session, *, token_id: int) -> ApiToken | None:
    token = session.get(ApiToken, token_id)
    if token is None:
        return None
    token.revoked_at = token.revoked_at or utcnow()
    session.add(token)
    session.flush()
    return token
