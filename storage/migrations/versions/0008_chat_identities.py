"""chat identities: what a chat platform told us about a person (DM conversation, language,
time zone, when last refreshed) moves from the person to a row of its own per account, keyed
by platform, workspace and the platform's user id; people gain an optional employee_number

Every person's Slack data becomes one `slack` identity (workspace '': the one installed
workspace). The downgrade puts the four person columns back from each person's Slack
identity; Teams identities, and any Slack identity beyond a person's first, are lost on
downgrade.

The person columns are dropped and added with plain ALTER TABLE (SQLite 3.35+ has DROP
COLUMN): a batch copy of `person` on SQLite would drop the table its filled children point
at, which foreign keys refuse.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _person_columns() -> list[sa.Column]:
    return [
        sa.Column("dm_channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("slack_locale", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("slack_tz", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("slack_checked_at", storage.models.UtcDateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "chat_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("conversation", sa.Text(), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("refreshed_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.slack_id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "workspace", "user_id", name="uq_chat_identity_account"),
    )
    op.create_index("ix_chat_identity_person_id", "chat_identity", ["person_id"])
    op.execute(
        "INSERT INTO chat_identity (person_id, platform, workspace, user_id, conversation,"
        " locale, timezone, refreshed_at, created_at, updated_at)"
        " SELECT slack_id, 'slack', '', slack_id, dm_channel_id, slack_locale, slack_tz,"
        " slack_checked_at, created_at, updated_at FROM person"
    )
    for column in _person_columns():
        op.drop_column("person", column.name)
    op.add_column(
        "person",
        sa.Column("employee_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.create_index("ux_person_employee_number", "person", ["employee_number"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_person_employee_number", table_name="person")
    op.drop_column("person", "employee_number")
    for column in _person_columns():
        op.add_column("person", column)
    slack = (
        "(SELECT {column} FROM chat_identity i WHERE i.person_id = person.slack_id"
        " AND i.platform = 'slack' ORDER BY i.id LIMIT 1)"
    )
    op.execute(
        "UPDATE person SET"
        f" dm_channel_id = {slack.format(column='conversation')},"
        f" slack_locale = {slack.format(column='locale')},"
        f" slack_tz = {slack.format(column='timezone')},"
        f" slack_checked_at = {slack.format(column='refreshed_at')}"
    )
    op.drop_index("ix_chat_identity_person_id", table_name="chat_identity")
    op.drop_table("chat_identity")
