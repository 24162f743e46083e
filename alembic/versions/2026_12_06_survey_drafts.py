"""survey drafts (the builder) and surveys edited in the browser

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("edited_in_browser_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "survey_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column("document", JSON, nullable=False),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("last_change", sa.String(length=500), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["survey.id"], name=op.f("fk_survey_draft_survey_id_survey")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_draft")),
        sa.UniqueConstraint("slug", name=op.f("uq_survey_draft_slug")),
    )


def downgrade() -> None:
    op.drop_table("survey_draft")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_column("edited_in_browser_at")
