"""one email per response and person: a form sent twice writes no second one

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ux_mail_outbox_response", "mail_outbox", ["staff_user_id", "response_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_mail_outbox_response", table_name="mail_outbox")
