"""privacy: sensitive columns encrypted at rest, an access log, and when each leaver left

- Every column in `storage.sealing.SEALED_COLUMNS` (private notes, review and self-assessment
  ratings, decisions, the employee's view, disagreements) now holds Fernet ciphertext. The
  two ratings become text. Existing values are encrypted here, under the key the process
  installed from `CADENCE_DATA_KEY`; with values to encrypt and no key the upgrade refuses
  before it changes anything, saying so.
- `data_key_check`: one known text sealed under the key, so a wrong key is told apart.
- `access_log`: who read whose records, what and when (never content).
- indexes on `action_item.completed_in_talk_id` and `goal.clarified_in_talk_id`: deleting
  a talk unlinks what points at it without scanning either table.
- `person.left_at`: when an import deactivated someone (retention erases leavers after a
  grace period); for people already inactive it starts as their last update.

Downgrade decrypts every value back (it needs the key too) and drops what was added.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 05:00:00
"""

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.engine import Connection

from storage import sealing

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

RATINGS = (("review", False), ("self_assessment", True))  # table, nullable


def _count_filled(bind: Connection) -> int:
    total = 0
    for table, _, column in sealing.SEALED_COLUMNS:
        found = bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {column} IS NOT NULL"))
        total += found.scalar_one()
    return total


def _keyring_for(bind: Connection, doing: str) -> sealing.Keyring | None:
    keys = sealing.installed()
    if keys is None and _count_filled(bind):
        raise sealing.DataKeyError(
            f"{sealing.ENV} is not set: the private notes and review records already stored"
            f" must be {doing} with it. Set it (`python -m bot keygen` prints a new key) and run"
            " again; nothing was changed"
        )
    return keys


def _rewrite(bind: Connection, change: object) -> None:
    """Apply `change` (a str -> str function) to every filled sealed value."""
    for table, key, column in sealing.SEALED_COLUMNS:
        rows = bind.execute(
            sa.text(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL")
        ).all()
        for row_id, value in rows:
            bind.execute(
                sa.text(f"UPDATE {table} SET {column} = :value WHERE {key} = :id"),
                {"value": change(str(value)), "id": row_id},  # type: ignore[operator]
            )


def _retype_ratings(to: sa.types.TypeEngine[Any], was: sa.types.TypeEngine[Any]) -> None:
    bind = op.get_bind()
    for table, nullable in RATINGS:
        if bind.dialect.name == "postgresql":
            target = "text" if isinstance(to, sa.Text) else "integer"
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN rating TYPE {target} USING rating::{target}"
            )
            continue
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("rating", type_=to, existing_type=was, existing_nullable=nullable)


def upgrade() -> None:
    bind = op.get_bind()
    keys = _keyring_for(bind, "encrypted")
    op.add_column("person", sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE person SET left_at = updated_at WHERE active = false")
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reader", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("subject_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("what", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    )
    op.create_index("ix_access_log_subject_at", "access_log", ["subject_id", "at"])
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_table(
        "data_key_check",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # deleting a talk (retention, erasure) unlinks what points at it: by index, not a scan
    op.create_index("ix_action_item_completed_in_talk_id", "action_item", ["completed_in_talk_id"])
    op.create_index("ix_goal_clarified_in_talk_id", "goal", ["clarified_in_talk_id"])
    _retype_ratings(sa.Text(), sa.Integer())
    if keys is not None:
        _rewrite(bind, lambda v: v if v.startswith(sealing.PREFIX) else keys.seal(v))
        bind.execute(
            sa.text("INSERT INTO data_key_check (id, token, created_at) VALUES (1, :t, :at)"),
            {"t": keys.seal(sealing.CHECK_TEXT), "at": datetime.now(UTC)},
        )


def downgrade() -> None:
    bind = op.get_bind()
    keys = _keyring_for(bind, "decrypted")
    if keys is not None:
        _rewrite(bind, lambda v: keys.open(v) if v.startswith(sealing.PREFIX) else v)
    _retype_ratings(sa.Integer(), sa.Text())
    op.drop_index("ix_goal_clarified_in_talk_id", table_name="goal")
    op.drop_index("ix_action_item_completed_in_talk_id", table_name="action_item")
    op.drop_table("data_key_check")
    op.drop_index("ix_access_log_at", table_name="access_log")
    op.drop_index("ix_access_log_subject_at", table_name="access_log")
    op.drop_table("access_log")
    op.drop_column("person", "left_at")  # SQLite drops a column in place (3.35+)
