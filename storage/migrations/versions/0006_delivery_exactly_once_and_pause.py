"""delivery exactly once and paused on a dead token: when a nudge was first claimed, whether
an earlier attempt may have reached Slack, and the stored delivery pause

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:00:00
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nudge") as batch_op:
        batch_op.add_column(sa.Column("first_claimed_at", UtcDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("uncertain", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
    op.create_table(
        "delivery_pause",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("since", UtcDateTime(), nullable=False),
        sa.Column("checked_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )


def downgrade() -> None:
    op.drop_table("delivery_pause")
    with op.batch_alter_table("nudge") as batch_op:
        batch_op.drop_column("uncertain")
        batch_op.drop_column("first_claimed_at")
