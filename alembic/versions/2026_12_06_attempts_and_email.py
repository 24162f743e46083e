"""every webhook attempt recorded, test events, self-pausing webhooks, a
lighter outbox row (the body built when sent), email notifications
(per-survey choices, a mail outbox) and the staff's language

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True)
        )
    # A test event belongs to no response.  The body is built when it is sent
    # (from the response), so the row keeps no copy of the answers, and the
    # random event id needs no unique index: the write path stays light.
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.alter_column("response_id", existing_type=sa.Integer(), nullable=True)
        batch_op.drop_constraint("uq_webhook_delivery_event_id", type_="unique")
        batch_op.drop_column("payload")
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("answer", sa.String(length=1024), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhook.id"],
            name=op.f("fk_webhook_attempt_webhook_id_webhook"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index(
        "ix_webhook_attempt_webhook", "webhook_attempt", ["webhook_id", "id"], unique=False
    )
    op.create_index(
        "ix_webhook_attempt_delivery", "webhook_attempt", ["delivery_id"], unique=False
    )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("digest_sent_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "notification_choice",
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_notification_choice_staff_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_notification_choice_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_user_id", "survey_id", name=op.f("pk_notification_choice")),
    )
    op.create_index(
        "ix_notification_choice_survey", "notification_choice", ["survey_id"], unique=False
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_result", sa.String(length=1200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_mail_outbox_staff_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
            name=op.f("fk_mail_outbox_survey_id_survey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["response.id"],
            name=op.f("fk_mail_outbox_response_id_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index(
        "ix_mail_outbox_due", "mail_outbox", ["status", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_index("ix_notification_choice_survey", table_name="notification_choice")
    op.drop_table("notification_choice")
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_column("digest_sent_at")
        batch_op.drop_column("language")
    op.drop_index("ix_webhook_attempt_delivery", table_name="webhook_attempt")
    op.drop_index("ix_webhook_attempt_webhook", table_name="webhook_attempt")
    op.drop_table("webhook_attempt")
    op.execute("DELETE FROM webhook_delivery WHERE response_id IS NULL")
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.alter_column("response_id", existing_type=sa.Integer(), nullable=False)
        batch_op.add_column(sa.Column("payload", JSON, nullable=False, server_default="{}"))
        batch_op.create_unique_constraint("uq_webhook_delivery_event_id", ["event_id"])
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.drop_column("failing_since")
        batch_op.drop_column("paused_reason")
