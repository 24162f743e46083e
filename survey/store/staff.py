"""Staff accounts, their signed-in sessions, API tokens and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import Session, col, select

from survey.models import (
    ApiToken,
    AuditEvent,
    StaffSession,
    StaffUser,
    Survey,
    utcnow,
)

TOKEN_PREFIX = "rs_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    name: str,
    owner_id: int | None = None,
    survey_id: int | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new API token; the plain token is returned once and only its hash is kept."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=hash_token(plain),
        created_at=utcnow(),
        owner_id=owner_id,
        survey_id=survey_id,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, plain


def find_active_token(
    session: Session, *, plain: str, now: datetime | None = None
) -> ApiToken | None:
    """The token for ``plain`` if it is live: not revoked, not expired, and its
    owner (if it has one) not disabled."""
    now = now or utcnow()
    owner = sa.orm.aliased(StaffUser)
    return session.exec(
        select(ApiToken)
        .outerjoin(owner, col(owner.id) == ApiToken.owner_id)
        .where(
            ApiToken.token_hash == hash_token(plain),
            col(ApiToken.revoked_at).is_(None),
            sa.or_(col(ApiToken.expires_at).is_(None), col(ApiToken.expires_at) > now),
            sa.or_(col(ApiToken.owner_id).is_(None), col(owner.disabled_at).is_(None)),
        )
    ).first()


def token_used(session: Session, *, token_id: int, now: datetime) -> None:
    session.execute(
        sa.update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used_at=now)
    )


@dataclass(frozen=True)
class TokenRow:
    token: ApiToken
    owner: str | None  # the owner's email
    survey: str | None  # the slug of the one survey it may read


def list_tokens(session: Session) -> list[TokenRow]:
    rows = session.exec(
        select(ApiToken, StaffUser.email, Survey.slug)
        .outerjoin(StaffUser, col(StaffUser.id) == ApiToken.owner_id)
        .outerjoin(Survey, col(Survey.id) == ApiToken.survey_id)
        .order_by(col(ApiToken.id).desc())
    ).all()
    return [TokenRow(token, owner, slug) for token, owner, slug in rows]


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
    """Disable an account, sign it out everywhere and revoke its API tokens."""
    now = utcnow()
    user.disabled_at = user.disabled_at or now
    session.add(user)
    session.execute(sa.delete(StaffSession).where(col(StaffSession.user_id) == user.id))
    session.execute(
        sa.update(ApiToken)
        .where(col(ApiToken.owner_id) == user.id, col(ApiToken.revoked_at).is_(None))
        .values(revoked_at=now)
    )
    session.flush()


def set_password(
    session: Session, *, user: StaffUser, password_hash: str, keep_session_id: int | None = None
) -> None:
    """A new password; every session of the account but ``keep_session_id``
    (the one that changed it) ends."""
    user.password_hash = password_hash
    session.add(user)
    ending = sa.delete(StaffSession).where(col(StaffSession.user_id) == user.id)
    if keep_session_id is not None:
        ending = ending.where(col(StaffSession.id) != keep_session_id)
    session.execute(ending)
    session.flush()


def enable_user(session: Session, *, user: StaffUser) -> None:
    user.disabled_at = None
    session.add(user)
    session.flush()


def enable_two_step(
    session: Session, *, user: StaffUser, secret: str, step: int, recovery_hashes: list[str]
) -> None:
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.recovery_codes = recovery_hashes
    session.add(user)
    session.flush()


def disable_two_step(session: Session, *, user: StaffUser) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes = None
    session.add(user)
    session.flush()


def two_step_used(
    session: Session, *, user: StaffUser, step: int | None, recovery_hashes: list[str] | None
) -> None:
    """Keep the step a code was good for (it cannot be used again), or the
    recovery codes left after one was used."""
    if step is not None:
        user.totp_last_step = step
    if recovery_hashes is not None:
        user.recovery_codes = recovery_hashes
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
        last_seen_at=now,
    )
    user.last_sign_in_at = now
    session.add_all([staff_session, user])
    session.flush()
    return staff_session, plain


def find_session(
    session: Session, *, plain: str, now: datetime, idle: timedelta | None = None
) -> tuple[StaffSession, StaffUser] | None:
    """The live session for a cookie's token, with its (enabled) user: not past
    its expiry, and not idle longer than ``idle``."""
    query = (
        select(StaffSession, StaffUser)
        .join(StaffUser, col(StaffUser.id) == StaffSession.user_id)
        .where(
            StaffSession.token_hash == hash_token(plain),
            StaffSession.expires_at > now,
            col(StaffUser.disabled_at).is_(None),
        )
    )
    if idle is not None:
        query = query.where(
            sa.or_(
                col(StaffSession.last_seen_at).is_(None),
                col(StaffSession.last_seen_at) > now - idle,
            )
        )
    row = session.exec(query).first()
    return None if row is None else (row[0], row[1])


def session_seen(session: Session, *, staff_session_id: int, now: datetime) -> None:
    session.execute(
        sa.update(StaffSession)
        .where(col(StaffSession.id) == staff_session_id)
        .values(last_seen_at=now)
    )


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


def purge_audit(session: Session, *, before: datetime) -> int:
    """The audit trail's retention (SURVEY_AUDIT_RETENTION_DAYS)."""
    result = session.execute(sa.delete(AuditEvent).where(col(AuditEvent.at) < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def audit_page(
    session: Session, *, before: int | None = None, size: int = 100
) -> tuple[list[AuditEvent], bool]:
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(size + 1)
    if before is not None:
        query = query.where(col(AuditEvent.id) < before)
    events = list(session.exec(query).all())
    return events[:size], len(events) > size


def revoke_token(session: Session, *, token_id: int) -> ApiToken | None:
    token = session.get(ApiToken, token_id)
    if token is None:
        return None
    token.revoked_at = token.revoked_at or utcnow()
    session.add(token)
    session.flush()
    return token
