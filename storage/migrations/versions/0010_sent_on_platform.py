"""sent on a platform: an outbox row remembers which chat platform it was sent on (a redrawn
notice goes back there), and where (Teams' conversation and activity ids are longer than
Slack's channel ids and timestamps)

Rows sent before this revision were sent on Slack: their platform is NULL, read as Slack.
PostgreSQL widens `channel` and `ts` in place (a larger varchar needs no table rewrite);
SQLite, which cannot alter a column, copies the table (batch mode; nothing refers to
`nudge`, and SQLite is for small installs).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 02:30:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WIDE, NARROW = 256, 32


def _resize(length: int, was: int) -> None:
    with op.batch_alter_table("nudge") as batch_op:  # PostgreSQL: plain ALTER TABLE
        for column in ("channel", "ts"):
            batch_op.alter_column(
                column,
                type_=sqlmodel.sql.sqltypes.AutoString(length=length),
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=was),
                existing_nullable=True,
            )


def upgrade() -> None:
    op.add_column(
        "nudge",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    )
    _resize(WIDE, NARROW)


def downgrade() -> None:
    bind = op.get_bind()
    teams_rows = bind.execute(sa.text("SELECT count(*) FROM nudge WHERE platform = 'teams'"))
    if teams_rows.scalar_one():
        raise RuntimeError(
            "some messages were sent on Teams: their places do not fit the old columns;"
            " nothing was changed"
        )
    _resize(NARROW, WIDE)
    op.drop_column("nudge", "platform")
