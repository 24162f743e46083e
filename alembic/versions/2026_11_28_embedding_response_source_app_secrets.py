"""embedding response source app secrets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 14:40:12.880770
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "app_secret",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_secret")),
    )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=2000), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("source")

    op.drop_table("app_secret")
