"""rate limit hits

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 17:48:21.771812
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hit",
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_key", "window_start", name=op.f("pk_rate_limit_hit")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_hit")
