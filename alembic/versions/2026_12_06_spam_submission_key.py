"""spam submission key: one spam row per rendered form

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("spam_submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=250), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_spam_submission_survey_id"), ["survey_id", "submission_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("spam_submission", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_spam_submission_survey_id"), type_="unique")
        batch_op.drop_column("submission_key")
