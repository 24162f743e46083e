"""response submission key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:57:26.413135
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=250), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_response_survey_id"), ["survey_id", "submission_key"]
        )


def downgrade() -> None:

    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_response_survey_id"), type_="unique")
        batch_op.drop_column("submission_key")
