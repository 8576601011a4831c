"""submission keys: goals and milestones are created once per submission (unique key), and a
talk remembers the digest of the form last applied to it

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 09:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KEYED = (("goal", "uq_goal_submission_key"), ("milestone", "uq_milestone_submission_key"))


def upgrade() -> None:
    with op.batch_alter_table("talk") as batch_op:
        batch_op.add_column(
            sa.Column("form_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    for table, constraint in KEYED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "submission_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
                )
            )
            batch_op.create_unique_constraint(constraint, ["submission_key"])


def downgrade() -> None:
    for table, constraint in reversed(KEYED):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(constraint, type_="unique")
            batch_op.drop_column("submission_key")
    with op.batch_alter_table("talk") as batch_op:
        batch_op.drop_column("form_digest")
