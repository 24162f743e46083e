"""Table classes, and nothing else.

A response is one row whose answers are one JSON document: it is stored whole
or not at all, and an old response keeps the survey version it answered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

# Constraint names that are the same on every database, so that migrations can
# refer to them (SQLite's batch mode needs names to alter constraints).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable, compact); JSON text elsewhere.
JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC going in and coming out.

    SQLite keeps no zone, so values are converted to UTC before they are stored
    and read back as UTC; PostgreSQL stores ``timestamptz`` as usual.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC was expected")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Survey(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, unique=True))
    # The latest loaded definition, whole (title, intro, status, questions...).
    definition: dict[str, Any] = Field(sa_column=sa.Column(JSONDocument, nullable=False))
    current_version: int = Field(nullable=False)
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # Set when the survey is published or changed in the staff workspace: from
    # then on the server no longer loads it from a file at start (`survey
    # load FILE` still does, on purpose).
    edited_in_browser_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )


class SurveyDraft(SQLModel, table=True):
    """A survey being edited in the builder: readers never see it.  Publishing
    loads it as a survey file would be loaded, then deletes it."""

    __tablename__ = "survey_draft"

    id: int | None = Field(default=None, primary_key=True)
    # The slug it publishes as (the survey's own, for an existing survey).
    slug: str = Field(sa_column=sa.Column(sa.String(100), nullable=False, unique=True))
    survey_id: int | None = Field(default=None, foreign_key="survey.id", nullable=True)
    # The survey file's document as it would be written (texts per language).
    document: dict[str, Any] = Field(sa_column=sa.Column(JSONDocument, nullable=False))
    # The languages the builder offers inputs for, the survey's own first.
    languages: list[str] = Field(sa_column=sa.Column(JSONDocument, nullable=False))
    # Every save adds one; a save made from an older revision is refused, so
    # two people editing at once never overwrite each other unknowingly.
    revision: int = Field(nullable=False)
    last_change: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    updated_by: str = Field(sa_column=sa.Column(sa.String(320), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class SurveyVersion(SQLModel, table=True):
    __tablename__ = "survey_version"
    __table_args__ = (sa.UniqueConstraint("survey_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", nullable=False)
    version: int = Field(nullable=False)
    # The questions this version asked, as the definition file gave them.
    questions: list[dict[str, Any]] = Field(sa_column=sa.Column(JSONDocument, nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class Response(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_response_survey_submitted", "survey_id", "submitted_at"),
        # Newest first within a survey: the staff table's keyset pages and the
        # summary's latest answers walk this index and stop early.
        sa.Index("ix_response_survey_id_id", "survey_id", "id"),
        # One response per rendered form or per Idempotency-Key: a double click,
        # a retry after a timeout or the back button stores nothing new.
        sa.UniqueConstraint("survey_id", "submission_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", nullable=False)
    survey_version_id: int = Field(foreign_key="survey_version.id", nullable=False)
    submitted_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    answers: dict[str, Any] = Field(sa_column=sa.Column(JSONDocument, nullable=False))
    # The page the answer came from (the blog post that embeds the form), if known.
    source: str | None = Field(default=None, sa_column=sa.Column(sa.String(2000), nullable=True))
    # The answers already written as CSV cells, in the order of the version's
    # questions: the export copies them out instead of formatting each answer
    # again (see export.render_cells).  Derived data: the export falls back to
    # `answers` when it is missing or the survey has moved to a newer version.
    csv_cells: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    # The language the form was answered in (en, es, fr, ar); NULL from the API.
    language: str | None = Field(default=None, sa_column=sa.Column(sa.String(20), nullable=True))
    # "form:<id from the form token>" or "key:<Idempotency-Key>"; NULL when neither.
    submission_key: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(250), nullable=True)
    )
    # Set when a staff member features the response's words on the public
    # results page (shown only if the reader also consented to be quoted).
    featured_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    # SHA-256 of the token: the token itself is shown once and never stored.
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    # Who made it (an admin on the Tokens page, or `--owner` on the command
    # line): disabling the owner revokes it.  None: an operator's CLI token.
    owner_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("staff_user.id"), nullable=True),
    )
    # The one survey it may read; None: every survey.
    survey_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.Integer, sa.ForeignKey("survey.id"), nullable=True)
    )
    expires_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    last_used_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )


class AppSecret(SQLModel, table=True):
    """Secrets made once and shared by every worker and host (the form-token key)."""

    __tablename__ = "app_secret"

    name: str = Field(sa_column=sa.Column(sa.String(50), primary_key=True))
    value: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class SpamSubmission(SQLModel, table=True):
    """A submission that looked automated (honeypot filled, sent too fast).

    Kept apart from the responses, whole and as sent, so that a person caught
    by mistake can be recovered; the sender saw the usual thank-you page.
    """

    __tablename__ = "spam_submission"
    # One row per rendered form: a replayed token adds nothing.
    __table_args__ = (sa.UniqueConstraint("survey_id", "submission_key"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", nullable=False)
    received_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    reason: str = Field(sa_column=sa.Column(sa.String(50), nullable=False))
    fields: dict[str, Any] = Field(sa_column=sa.Column(JSONDocument, nullable=False))
    source: str | None = Field(default=None, sa_column=sa.Column(sa.String(2000), nullable=True))
    submission_key: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(250), nullable=True)
    )


class StaffUser(SQLModel, table=True):
    """A librarian or editor who signs in to read responses (viewer) or also to
    delete them and manage users, tokens and surveys (admin)."""

    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    # Kept lower-cased, so that one person cannot get two accounts by case.
    email: str = Field(sa_column=sa.Column(sa.String(320), nullable=False, unique=True))
    # An Argon2 hash (pwdlib); the password itself is never stored or logged.
    password_hash: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    role: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    disabled_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    last_sign_in_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    # Two-step sign-in (TOTP, RFC 6238): the shared secret once confirmed, the
    # last time step used (a code is good once), and the SHA-256 hashes of the
    # unused recovery codes.
    totp_secret: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    totp_enabled_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    totp_last_step: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, nullable=True)
    )
    recovery_codes: list[str] | None = Field(
        default=None, sa_column=sa.Column(JSONDocument, nullable=True)
    )
    # The language of their browser when they last signed in (their emails'
    # language), and the end of the period their last daily digest covered.
    language: str | None = Field(default=None, sa_column=sa.Column(sa.String(10), nullable=True))
    digest_sent_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )

    @property
    def two_step(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None


class StaffSession(SQLModel, table=True):
    """A signed-in browser.  The cookie carries a random token; only its hash is
    kept here, with the CSRF token every admin form must send back."""

    __tablename__ = "staff_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False
        )
    )
    csrf_token: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # Last request seen (kept to the minute): a session idle longer than
    # SURVEY_SESSION_IDLE_MINUTES has ended.  None in sessions made before.
    last_seen_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )


class AuditEvent(SQLModel, table=True):
    """Who did what to whose data: sign-ins (and failed ones), exports,
    deletions, erasures, token and user changes.  Failed sign-ins are also
    what the sign-in limits count."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_action_at", "action", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # The staff member's email, "cli" for the command line, or what was typed
    # at a failed sign-in.
    actor: str | None = Field(default=None, sa_column=sa.Column(sa.String(320), nullable=True))
    action: str = Field(sa_column=sa.Column(sa.String(50), nullable=False))
    survey_slug: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(100), nullable=True)
    )
    client: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    detail: dict[str, Any] = Field(sa_column=sa.Column(JSONDocument, nullable=False))


class RateLimitHit(SQLModel, table=True):
    """Submissions counted per client and survey in one fixed time window.

    ``client_key`` is a keyed hash that rotates daily (``ratelimit.client_key``):
    no address is stored.  Rows of past windows are purged.
    """

    __tablename__ = "rate_limit_hit"

    client_key: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    window_start: datetime = Field(sa_column=sa.Column(UTCDateTime(), primary_key=True))
    hits: int = Field(nullable=False)


class HealthCheck(SQLModel, table=True):
    """One row per host's probe: /healthz writes it to learn whether writes work."""

    __tablename__ = "health_check"

    host: str = Field(sa_column=sa.Column(sa.String(255), primary_key=True))
    checked_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class Webhook(SQLModel, table=True):
    """Where a survey's new responses are posted (Standard Webhooks)."""

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", nullable=False)
    url: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    format: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    # "whsec_" + base64 of 32 random bytes: shown once when the webhook is made.
    secret: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    paused_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    # "admin" (paused by hand) or "failing" (paused itself after 3 days of failures).
    paused_reason: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(20), nullable=True)
    )
    # The first failed attempt since the last delivered one.
    failing_since: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )


class WebhookDelivery(SQLModel, table=True):
    """One event to deliver to one webhook: written in the transaction that
    stored its response (the outbox), so an acknowledged response always
    gets its delivery, even if the server dies right after."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        # One delivery per response and webhook: a resent form enqueues nothing new.
        sa.UniqueConstraint("webhook_id", "response_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False
        )
    )
    # Erasing or deleting the response deletes its deliveries, sent or not.
    # NULL for a test event, which carries no response.
    response_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("response.id", ondelete="CASCADE"), nullable=True
        ),
    )
    # webhook-id: the same on every attempt (a random uuid; not indexed, since
    # nothing looks it up). The body is built when sent (store.webhooks.event_body).
    event_id: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    status: str = Field(
        sa_column=sa.Column(sa.String(20), nullable=False)
    )  # pending, delivered, failed
    attempts: int = Field(nullable=False)
    next_attempt_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # A worker's claim: others leave the row alone until it expires.
    claimed_until: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    last_result: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(1200), nullable=True)
    )
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class WebhookAttempt(SQLModel, table=True):
    """One try at delivering an event: when, what came back, how long it took."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        sa.Index("ix_webhook_attempt_webhook", "webhook_id", "id"),
        sa.Index("ix_webhook_attempt_delivery", "delivery_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("webhook_delivery.id", ondelete="CASCADE"), nullable=False
        )
    )
    webhook_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False
        )
    )
    attempted_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # delivered, retry (will be tried again), failed, refused (the address)
    outcome: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    status_code: int | None = Field(default=None, nullable=True)
    error: str | None = Field(default=None, sa_column=sa.Column(sa.String(500), nullable=True))
    duration_ms: int | None = Field(default=None, nullable=True)
    # The first 1 KB of the receiver's answer.
    answer: str | None = Field(default=None, sa_column=sa.Column(sa.String(1024), nullable=True))


class NotificationChoice(SQLModel, table=True):
    """A staff member's email about one survey: "each" response or a "daily"
    digest (no row: nothing)."""

    __tablename__ = "notification_choice"
    __table_args__ = (sa.Index("ix_notification_choice_survey", "survey_id"),)

    staff_user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
        )
    )
    survey_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("survey.id", ondelete="CASCADE"), primary_key=True
        )
    )
    mode: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))


class MailOutbox(SQLModel, table=True):
    """An email to send to one staff member, written in the transaction that
    caused it (a response, a digest's period, a webhook pausing itself);
    rendered in their language when it is sent."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),
        # One email per response and person: a form sent twice writes no second.
        sa.Index("ux_mail_outbox_response", "staff_user_id", "response_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(
        sa_column=sa.Column(sa.String(20), nullable=False)
    )  # response, digest, paused
    staff_user_id: int = Field(
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("staff_user.id", ondelete="CASCADE"), nullable=False
        )
    )
    survey_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("survey.id", ondelete="CASCADE"), nullable=True
        ),
    )
    # Erasing the response deletes the email about it, sent or not.
    response_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.Integer, sa.ForeignKey("response.id", ondelete="CASCADE"), nullable=True
        ),
    )
    payload: dict[str, Any] = Field(sa_column=sa.Column(JSONDocument, nullable=False))
    status: str = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    attempts: int = Field(nullable=False)
    next_attempt_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    claimed_until: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
    last_result: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(1200), nullable=True)
    )
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
