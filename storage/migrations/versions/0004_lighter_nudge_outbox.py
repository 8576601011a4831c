"""a lighter nudge outbox: no foreign key on the recipient, the key led by (kind, period),
person look-ups indexed on pending rows only

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PENDING = sa.text("state = 'pending'")
# 0002 left the foreign key unnamed: PostgreSQL calls it this, and SQLite's batch mode finds
# it under the name this convention gives it.
PG_FK = "nudge_recipient_id_fkey"
CONVENTION = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
SQLITE_FK = "fk_nudge_recipient_id_person"


def _fk_name() -> str:
    return PG_FK if op.get_bind().dialect.name == "postgresql" else SQLITE_FK


def upgrade() -> None:
    with op.batch_alter_table("nudge", naming_convention=CONVENTION) as batch_op:
        batch_op.drop_constraint(_fk_name(), type_="foreignkey")
        batch_op.drop_constraint("uq_nudge_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_nudge_key", ["kind", "period", "recipient_id", "subject"]
        )
        batch_op.drop_index("ix_nudge_about")
        batch_op.create_index(
            "ix_nudge_pending_about",
            ["about_id"],
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )
        batch_op.create_index(
            "ix_nudge_pending_recipient",
            ["recipient_id"],
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("nudge", naming_convention=CONVENTION) as batch_op:
        batch_op.drop_index("ix_nudge_pending_recipient")
        batch_op.drop_index("ix_nudge_pending_about")
        batch_op.create_index("ix_nudge_about", ["about_id"], unique=False)
        batch_op.drop_constraint("uq_nudge_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_nudge_key", ["kind", "recipient_id", "subject", "period"]
        )
        batch_op.create_foreign_key(_fk_name(), "person", ["recipient_id"], ["slack_id"])
