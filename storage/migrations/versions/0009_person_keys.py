"""PLACEHOLDER (replaced by the real migration from branch h-migr)

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE person RENAME COLUMN slack_id TO id")


def downgrade() -> None:
    op.execute("ALTER TABLE person RENAME COLUMN id TO slack_id")
