"""Migrations: they go down and up again, and together they match the models exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage import migrate
from storage.db import make_engine

APP_TABLES = frozenset(SQLModel.metadata.tables)
VERSION_TABLE = "alembic_version"


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrate.alembic_config())


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of our own on the test database, left at head whatever the test did."""
    engine = make_engine(database_url)
    try:
        yield engine
    finally:
        await migrate.upgrade(engine)  # the PostgreSQL database is shared with later tests
        await engine.dispose()


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def _current(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(
            await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
        )


def test_migration_history_has_a_single_head() -> None:
    assert len(_script().get_heads()) == 1


async def test_test_database_starts_at_head_with_every_app_table(db: AsyncEngine) -> None:
    assert await _current(db) == {_script().get_current_head()}
    assert await _tables(db) >= APP_TABLES
    assert await migrate.pending(db) == []


async def test_downgrade_to_base_drops_every_app_table_and_upgrade_recreates_them(
    db: AsyncEngine,
) -> None:
    await migrate.downgrade(db, "base")

    assert await _tables(db) & APP_TABLES == set()
    assert await _current(db) == set()
    assert await migrate.pending(db) == [rev.revision for rev in _script().walk_revisions()][::-1]

    await migrate.upgrade(db)

    assert await _tables(db) >= APP_TABLES
    assert await _current(db) == {_script().get_current_head()}
    assert await migrate.pending(db) == []


async def test_each_migration_steps_down_and_up_again(db: AsyncEngine) -> None:
    revisions = list(reversed(list(_script().walk_revisions())))  # oldest first

    for rev in reversed(revisions):
        before = await _tables(db)
        await migrate.downgrade(db, rev.down_revision or "base")
        assert await _current(db) == ({rev.down_revision} if rev.down_revision else set())
        await migrate.upgrade(db, rev.revision)
        assert await _current(db) == {rev.revision}
        assert await _tables(db) == before
        await migrate.downgrade(db, rev.down_revision or "base")

    assert await _tables(db) & APP_TABLES == set()


def _not_alembic_version(name: str | None, type_: str, parent_names: dict[str, object]) -> bool:
    return not (type_ == "table" and name == VERSION_TABLE)


def _differences(sync: Connection) -> list[object]:
    context = MigrationContext.configure(
        sync, opts={"compare_type": True, "include_name": _not_alembic_version}
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def test_migrated_schema_matches_the_models_exactly(db: AsyncEngine) -> None:
    async with db.connect() as conn:
        differences = await conn.run_sync(_differences)

    assert differences == [], "a model changed without a migration:\n" + "\n".join(
        map(repr, differences)
    )


async def test_schema_comparison_notices_a_model_change(db: AsyncEngine) -> None:
    """Guard against the comparison above passing vacuously."""
    await migrate.downgrade(db, "base")

    async with db.connect() as conn:
        differences = await conn.run_sync(_differences)

    added = {
        diff[1].name for diff in differences if isinstance(diff, tuple) and diff[0] == "add_table"
    }
    assert added == APP_TABLES


async def test_leave_recorded_before_0005_keeps_pausing_everything(db: AsyncEngine) -> None:
    await migrate.downgrade(db, "0004")
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO person (slack_id, name, is_hr, active, created_at, updated_at)"
                " VALUES ('U0ELI', 'Eli', false, true, :at, :at)"
            ),
            {"at": datetime(2026, 11, 1, tzinfo=UTC)},
        )
        await conn.execute(
            text(
                "INSERT INTO leave (person_id, starts_on, ends_on, reason, created_at)"
                " VALUES ('U0ELI', :day, :day, 'leave', :at)"
            ),
            {"day": date(2026, 11, 2), "at": datetime(2026, 11, 1, tzinfo=UTC)},
        )

    await migrate.upgrade(db, "0005")
    async with db.connect() as conn:
        rows = (await conn.execute(text("SELECT person_id, pauses FROM leave"))).all()
    assert [tuple(r) for r in rows] == [("U0ELI", "all")]

    await migrate.downgrade(db, "0004")
    async with db.connect() as conn:
        kept = (await conn.execute(text("SELECT person_id, reason FROM leave"))).all()
        columns = await conn.run_sync(
            lambda s: [c["name"] for c in inspect(s).get_columns("leave")]
        )
    assert [tuple(r) for r in kept] == [("U0ELI", "leave")] and "pauses" not in columns
