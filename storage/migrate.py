"""Apply Alembic migrations from code, on the async engine, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our scripts; `connection` is reused by env.py."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


# The PostgreSQL advisory lock every upgrade holds for its transaction. Replicas starting at
# once (and operator commands, which migrate first) take turns, and the later ones find the
# schema at head; without it, two upgrades of one database collide ("already exists").
MIGRATION_LOCK = 0x43414445  # "CADE"


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (default: the newest), one process at a time."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        else:  # SQLite: the write lock first, so a second process waits (busy timeout) and
            # then reads the version the first one committed
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Take the schema down to `revision`."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def pending(engine: AsyncEngine) -> list[str]:
    """The revisions not yet applied to this database, oldest first."""

    def _pending(sync: Connection) -> list[str]:
        current = set(MigrationContext.configure(sync).get_current_heads())
        script = ScriptDirectory.from_config(alembic_config())
        todo = []
        for rev in script.walk_revisions():
            if rev.revision in current:
                break
            todo.append(rev.revision)
        return list(reversed(todo)) if current or todo else []

    async with engine.connect() as conn:
        return await conn.run_sync(_pending)
