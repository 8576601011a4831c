"""Migrations: they go down and up again, and together they match the models exactly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import TextClause, bindparam, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage import migrate
from storage.db import make_engine
from storage.models import UtcDateTime

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


AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
CHECKED = datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
# (slack_id, manager, dm_channel_id, slack_locale, slack_tz, slack_checked_at)
PEOPLE_AT_0007 = [
    ("U0MGR", None, "DMGR", "en-US", "Europe/Berlin", CHECKED),
    ("U0EMP", "U0MGR", "DEMP", "zh-CN", "Asia/Shanghai", CHECKED),
    ("U0NEW", "U0MGR", None, None, None, None),  # never messaged nor looked up
]


def _typed(sql: str, *timestamps: str) -> TextClause:
    """A statement whose named timestamps are bound as the app's UTC columns store them."""
    return text(sql).bindparams(*(bindparam(name, type_=UtcDateTime()) for name in timestamps))


async def _fill_at_0007(engine: AsyncEngine) -> None:
    """People with and without Slack data, and records of every kind that point at them."""
    async with engine.begin() as conn:
        for sid, manager, dm, locale, tz, checked in PEOPLE_AT_0007:
            await conn.execute(
                _typed(
                    "INSERT INTO person (slack_id, name, manager_id, dm_channel_id, slack_locale,"
                    " slack_tz, slack_checked_at, is_hr, active, created_at, updated_at)"
                    " VALUES (:sid, :sid, :manager, :dm, :locale, :tz, :checked, false, true,"
                    " :at, :at)",
                    "checked",
                    "at",
                ),
                dict(sid=sid, manager=manager, dm=dm, locale=locale, tz=tz, checked=checked, at=AT),
            )
        await conn.execute(
            _typed(
                "INSERT INTO cycle (id, name, starts_on, ends_on, review_from, review_to,"
                " created_at) VALUES (1, '2026', :start, :end, :end, :end, :at)",
                "at",
            ),
            dict(start=date(2026, 1, 1), end=date(2026, 12, 31), at=AT),
        )
        for talk_id, employee, family in ((1, "U0EMP", "dialogue"), (2, "U0EMP", "review")):
            await conn.execute(
                _typed(
                    "INSERT INTO talk (id, kind, family, manager_id, employee_id, logged_by,"
                    " held_on, duration_minutes, facts, consensus, submission_key, created_at)"
                    " VALUES (:id, 'checkin', :family, 'U0MGR', :emp, 'U0MGR', :day, 30, 'f',"
                    " 'c', :key, :at)",
                    "at",
                ),
                dict(
                    id=talk_id,
                    family=family,
                    emp=employee,
                    day=date(2026, 11, 2),
                    at=AT,
                    key=f"k{talk_id}",
                ),
            )
        await conn.execute(
            _typed(
                "INSERT INTO action_item (id, talk_id, employee_id, owner_id, text, due_on,"
                " status, created_at) VALUES (1, 1, 'U0EMP', 'U0NEW', 'do it', :day, 'open',"
                " :at)",
                "at",
            ),
            dict(day=date(2026, 12, 1), at=AT),
        )
        await conn.execute(
            _typed(
                "INSERT INTO goal (id, employee_id, set_by, title, measure, due_on, status,"
                " created_at) VALUES (1, 'U0EMP', 'U0MGR', 'Ship', 'shipped', :day, 'active',"
                " :at)",
                "at",
            ),
            dict(day=date(2026, 12, 31), at=AT),
        )
        await conn.execute(
            _typed(
                "INSERT INTO review (id, cycle_id, talk_id, employee_id, manager_id, rating,"
                " evidence, gaps, next_goals, development, decisions, employee_view,"
                " created_at, updated_at) VALUES (1, 1, 2, 'U0EMP', 'U0MGR', 4, 'e', '', '',"
                " '', '[]', '', :at, :at)",
                "at",
            ),
            dict(at=AT),
        )
        for nudge_id, recipient in ((1, "U0MGR"), (2, "U0NEW")):
            await conn.execute(
                _typed(
                    "INSERT INTO nudge (id, kind, recipient_id, subject, period, role, due_at,"
                    " state, attempts, uncertain, payload, created_at, updated_at) VALUES"
                    " (:id, 'checkin', :to, 'U0EMP', '2026-11', 'manager', :at, 'pending', 0,"
                    " false, '{}', :at, :at)",
                    "at",
                ),
                dict(id=nudge_id, to=recipient, at=AT),
            )


async def _owners(engine: AsyncEngine) -> dict[str, list[tuple[object, ...]]]:
    """Who every record belongs to."""
    queries = {
        "person": "SELECT slack_id, manager_id FROM person ORDER BY slack_id",
        "talk": "SELECT id, manager_id, employee_id FROM talk ORDER BY id",
        "action_item": "SELECT id, employee_id, owner_id FROM action_item ORDER BY id",
        "goal": "SELECT id, employee_id FROM goal ORDER BY id",
        "review": "SELECT id, employee_id, manager_id FROM review ORDER BY id",
        "nudge": "SELECT id, recipient_id, state FROM nudge ORDER BY id",
    }
    async with engine.connect() as conn:
        return {
            table: [tuple(row) for row in (await conn.execute(text(sql))).all()]
            for table, sql in queries.items()
        }


async def test_0008_moves_each_persons_slack_data_to_their_identity_and_back(
    db: AsyncEngine,
) -> None:
    await migrate.downgrade(db, "0007")
    await _fill_at_0007(db)
    owners = await _owners(db)

    await migrate.upgrade(db, "0008")

    assert await _owners(db) == owners
    async with db.connect() as conn:
        identities = (
            await conn.execute(
                _typed(
                    "SELECT person_id, platform, workspace, user_id, conversation, locale,"
                    " timezone, refreshed_at FROM chat_identity ORDER BY person_id"
                ).columns(refreshed_at=UtcDateTime())
            )
        ).all()
        columns = await conn.run_sync(
            lambda s: {c["name"] for c in inspect(s).get_columns("person")}
        )
    assert [tuple(row) for row in identities] == sorted(
        (sid, "slack", "", sid, dm, locale, tz, checked)
        for sid, _, dm, locale, tz, checked in PEOPLE_AT_0007
    )
    assert "employee_number" in columns
    assert columns.isdisjoint({"dm_channel_id", "slack_locale", "slack_tz", "slack_checked_at"})

    await migrate.downgrade(db, "0007")

    assert await _owners(db) == owners
    async with db.connect() as conn:
        people = (
            await conn.execute(
                text(
                    "SELECT slack_id, manager_id, dm_channel_id, slack_locale, slack_tz,"
                    " slack_checked_at FROM person ORDER BY slack_id"
                ).columns(slack_checked_at=UtcDateTime())
            )
        ).all()
    assert [tuple(row) for row in people] == sorted(PEOPLE_AT_0007)
    assert "chat_identity" not in await _tables(db)
