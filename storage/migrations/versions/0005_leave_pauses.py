"""leave says what it pauses: every nudge to or about the person, or only their own messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows were recorded by HR, a manager, or someone's own "on leave": they paused
    # everything, and keep doing so.
    with op.batch_alter_table("leave") as batch_op:
        batch_op.add_column(
            sa.Column(
                "pauses",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="all",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("leave") as batch_op:
        batch_op.drop_column("pauses")
