"""Migrations: they go down and up again, and together they match the models exactly."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import TextClause, bindparam, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from bot.engine.planner import plan
from bot.org.policy import Policy
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


# -- 0009: people keyed by Cadence's own key -----------------------------------------------

PERSON_KEY = re.compile(r"p[0-9a-f]{16}")
# (slack_id, name, manager, is_hr)
PEOPLE_AT_0008 = [
    ("U0HR", "Hana (HR)", None, True),
    ("U0MGR", "Mira (manager)", None, False),
    ("U0EMP", "Emil (report)", "U0MGR", False),
    ("U0NEW", "Nia (report)", "U0MGR", False),
]
SLACK_IDS = [person[0] for person in PEOPLE_AT_0008]
GONE = "U0GONE"  # recorded a talk, since removed from the org chart


def _outbox_payload(**fields: object) -> str:
    """A payload as the outbox writes it (bot/engine/outbox.py)."""
    return json.dumps(fields, sort_keys=True, default=str)


async def _insert(conn: AsyncConnection, table: str, *rows: dict[str, Any]) -> None:
    """Rows into `table` by raw SQL, timestamps bound as the app's UTC columns store them."""
    columns = list(rows[0])
    timestamps = [c for c in columns if isinstance(rows[0][c], datetime)]
    await conn.execute(
        _typed(
            f"INSERT INTO {table} ({', '.join(columns)})"
            f" VALUES ({', '.join(':' + c for c in columns)})",
            *timestamps,
        ),
        list(rows),
    )


def _identity(person: str, platform: str, user: str) -> dict[str, object]:
    return dict(
        person_id=person,
        platform=platform,
        workspace="",
        user_id=user,
        created_at=AT,
        updated_at=AT,
    )


def _nudge(
    nudge_id: int, kind: str, to: str, subject: str, period: str, about: str | None, payload: str
) -> dict[str, object]:
    return dict(
        id=nudge_id,
        kind=kind,
        recipient_id=to,
        subject=subject,
        period=period,
        about_id=about,
        role="manager",
        due_at=AT,
        state="pending",
        attempts=0,
        uncertain=False,
        payload=payload,
        created_at=AT,
        updated_at=AT,
    )


async def _fill_at_0008(engine: AsyncEngine) -> None:
    """An org (HR, a manager, two reports) and a record of every kind that names them."""
    day = date(2026, 11, 2)
    async with engine.begin() as conn:
        await _insert(
            conn,
            "person",
            *(
                dict(
                    slack_id=sid,
                    name=name,
                    manager_id=manager,
                    is_hr=hr,
                    active=True,
                    created_at=AT,
                    updated_at=AT,
                )
                for sid, name, manager, hr in PEOPLE_AT_0008
            ),
        )
        await _insert(
            conn,
            "chat_identity",
            *(_identity(sid, "slack", sid) for sid in SLACK_IDS),
            _identity("U0EMP", "teams", "29:emil"),
        )
        await _insert(
            conn,
            "cycle",
            dict(
                id=1,
                name="2026",
                starts_on=date(2026, 1, 1),
                ends_on=date(2026, 12, 31),
                review_from=date(2026, 12, 1),
                review_to=date(2026, 12, 31),
                created_at=AT,
            ),
        )
        await _insert(
            conn,
            "talk",
            *(
                dict(
                    id=talk_id,
                    kind="checkin",
                    family=family,
                    manager_id="U0MGR",
                    employee_id=employee,
                    logged_by=logged_by,
                    held_on=day,
                    duration_minutes=30,
                    facts="f",
                    consensus="c",
                    submission_key=f"k{talk_id}",
                    created_at=AT,
                )
                for talk_id, family, employee, logged_by in (
                    (1, "dialogue", "U0EMP", "U0MGR"),
                    (2, "review", "U0EMP", "U0HR"),
                    (3, "dialogue", "U0NEW", GONE),
                )
            ),
        )
        await _insert(
            conn,
            "action_item",
            *(
                dict(
                    id=action_id,
                    talk_id=talk_id,
                    employee_id=employee,
                    owner_id=owner,
                    text="do it",
                    due_on=date(2026, 12, 1),
                    status="open",
                    created_at=AT,
                )
                for action_id, talk_id, employee, owner in (
                    (1, 1, "U0EMP", "U0EMP"),
                    (2, 1, "U0EMP", "U0MGR"),
                    (3, 3, "U0NEW", "U0NEW"),
                )
            ),
        )
        await _insert(
            conn,
            "goal",
            *(
                dict(
                    id=goal_id,
                    employee_id=employee,
                    set_by=set_by,
                    title="Ship",
                    measure="shipped",
                    due_on=date(2026, 12, 31),
                    status=status,
                    created_at=AT,
                )
                for goal_id, employee, set_by, status in (
                    (1, "U0EMP", "U0MGR", "active"),
                    (2, "U0NEW", "U0NEW", "proposed"),
                )
            ),
        )
        await _insert(
            conn, "milestone", dict(id=1, name="Launch", created_by="U0MGR", created_at=AT)
        )
        await _insert(
            conn,
            "milestone_participant",
            dict(milestone_id=1, person_id="U0EMP"),
            dict(milestone_id=1, person_id="U0NEW"),
        )
        await _insert(
            conn,
            "leave",
            dict(
                id=1,
                person_id="U0NEW",
                starts_on=day,
                ends_on=day,
                reason="leave",
                pauses="all",
                created_at=AT,
            ),
        )
        await _insert(
            conn,
            "self_assessment",
            dict(
                id=1,
                cycle_id=1,
                employee_id="U0EMP",
                proudest="p",
                redo="r",
                blockers="b",
                support="s",
                other="o",
                created_at=AT,
                updated_at=AT,
            ),
        )
        await _insert(
            conn,
            "interview",
            dict(
                id=1,
                cycle_id=1,
                employee_id="U0EMP",
                scheduled_on=date(2026, 12, 3),
                set_by="U0MGR",
                created_at=AT,
                updated_at=AT,
            ),
        )
        await _insert(
            conn,
            "review",
            dict(
                id=1,
                cycle_id=1,
                talk_id=2,
                employee_id="U0EMP",
                manager_id="U0MGR",
                rating=4,
                evidence="e",
                gaps="",
                next_goals="",
                development="",
                decisions="[]",
                employee_view="",
                created_at=AT,
                updated_at=AT,
            ),
        )
        since = "2026-10-01"
        await _insert(
            conn,
            "nudge",
            _nudge(
                1,
                "checkin",
                "U0MGR",
                "U0EMP",
                "2026-11",
                "U0EMP",
                _outbox_payload(firm=False, last=None, round=0, since=since),
            ),
            _nudge(
                2,
                "checkin_heads_up",
                "U0EMP",
                "U0EMP",
                "2026-11",
                "U0EMP",
                _outbox_payload(manager="U0MGR", round=0, since=since),
            ),
            _nudge(3, "prep_pack", "U0MGR", "cycle:1:U0EMP", "2026", "U0EMP", '{"cycle_id": 1}'),
            _nudge(4, "action_due", "U0EMP", "action:1", "due", "U0EMP", '{"action_id": 1}'),
            _nudge(
                5,
                "goal_proposed",
                "U0MGR",
                "goal:2",
                "once",
                "U0NEW",
                _outbox_payload(by="U0NEW", goal_id=2),
            ),
            _nudge(
                6,
                "milestone_retro",
                "U0MGR",
                "milestone:1",
                "retro",
                "U0EMP",
                _outbox_payload(milestone_id=1, participants=["U0EMP", "U0NEW"]),
            ),
            # last month's, sent: the outbox's history moves too
            _nudge(7, "checkin", "U0MGR", "U0NEW", "2026-10", "U0NEW", "{}") | dict(state="sent"),
        )


def _records_query(person_key: str) -> dict[str, str]:
    """Every row that names a person, by table, with what it names them by."""
    return {
        "person": f"SELECT {person_key}, name, manager_id FROM person",
        "chat_identity": "SELECT id, person_id, platform, user_id FROM chat_identity",
        "talk": "SELECT id, manager_id, employee_id, logged_by FROM talk",
        "action_item": "SELECT id, talk_id, employee_id, owner_id FROM action_item",
        "goal": "SELECT id, employee_id, set_by FROM goal",
        "milestone": "SELECT id, created_by FROM milestone",
        "milestone_participant": "SELECT milestone_id, person_id FROM milestone_participant",
        "leave": "SELECT id, person_id FROM leave",
        "self_assessment": "SELECT id, cycle_id, employee_id FROM self_assessment",
        "interview": "SELECT id, employee_id, set_by FROM interview",
        "review": "SELECT id, talk_id, employee_id, manager_id FROM review",
        "nudge": "SELECT id, kind, recipient_id, subject, period, about_id, state, payload"
        " FROM nudge",
    }


Records = dict[str, list[tuple[object, ...]]]


async def _records(engine: AsyncEngine, person_key: str) -> Records:
    async with engine.connect() as conn:
        return {
            table: sorted((tuple(row) for row in (await conn.execute(text(sql))).all()), key=str)
            for table, sql in _records_query(person_key).items()
        }


async def _slack_id_by_key(engine: AsyncEngine) -> dict[str, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT person_id, user_id FROM chat_identity WHERE platform = 'slack'")
        )
        return {key: slack_id for key, slack_id in rows.all()}


def _named_by_slack_ids(records: Records, slack_id_of: dict[str, str]) -> Records:
    """`records` with every person key in them, wherever it is, read as its Slack id."""

    def read(value: object) -> object:
        if not isinstance(value, str):
            return value
        return PERSON_KEY.sub(lambda key: slack_id_of[key.group()], value)

    return {
        table: sorted((tuple(map(read, row)) for row in rows), key=str)
        for table, rows in records.items()
    }


async def _foreign_keys_to_person(
    engine: AsyncEngine,
) -> list[tuple[str, str | None, tuple[str, ...], tuple[str, ...]]]:
    """(table, name, columns, person's columns) of every foreign key to person."""

    def read(sync: Connection) -> list[tuple[str, str | None, tuple[str, ...], tuple[str, ...]]]:
        inspector = inspect(sync)
        return sorted(
            (table, fk["name"], tuple(fk["constrained_columns"]), tuple(fk["referred_columns"]))
            for table in inspector.get_table_names()
            for fk in inspector.get_foreign_keys(table)
            if fk["referred_table"] == "person"
        )

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def test_0009_keys_people_anew_with_every_record_still_theirs_and_back(
    db: AsyncEngine,
) -> None:
    await migrate.downgrade(db, "0008")
    await _fill_at_0008(db)
    before = await _records(db, person_key="slack_id")
    foreign_keys = await _foreign_keys_to_person(db)
    assert {referred for *_, referred in foreign_keys} == {("slack_id",)}

    await migrate.upgrade(db, "0009")

    slack_id_of = await _slack_id_by_key(db)
    assert sorted(slack_id_of.values()) == sorted(SLACK_IDS)
    assert all(PERSON_KEY.fullmatch(key) for key in slack_id_of)
    after = await _records(db, person_key="id")
    # read back through each person's Slack identity, every row names whom it named
    assert _named_by_slack_ids(after, slack_id_of) == before
    # and no row names anyone by their Slack id any more, their identities aside
    named_by_slack_id = [
        (table, row)
        for table, rows in after.items()
        for row in rows
        if table != "chat_identity" and any(sid in str(row) for sid in SLACK_IDS)
    ]
    assert named_by_slack_id == []
    key_of = {slack_id: key for key, slack_id in slack_id_of.items()}
    assert (3, key_of["U0MGR"], key_of["U0NEW"], GONE) in after["talk"]
    subjects = {nudge_id: subject for nudge_id, _, _, subject, *_ in after["nudge"]}
    assert subjects[3] == f"cycle:1:{key_of['U0EMP']}"
    payloads = {row[0]: json.loads(str(row[-1])) for row in after["nudge"]}
    assert payloads[5]["by"] == key_of["U0NEW"]
    assert await _foreign_keys_to_person(db) == [
        (table, name, columns, ("id",)) for table, name, columns, _ in foreign_keys
    ]

    await migrate.downgrade(db, "0008")

    assert await _records(db, person_key="slack_id") == before
    assert await _foreign_keys_to_person(db) == foreign_keys


async def test_0009_rewrites_a_payload_spelt_otherwise_than_the_outbox_spells_it(
    db: AsyncEngine,
) -> None:
    await migrate.downgrade(db, "0008")
    compact = '{"by":"U0MGR","goal_id":1}'
    async with db.begin() as conn:
        await _insert(
            conn,
            "person",
            dict(
                slack_id="U0MGR",
                name="Mira",
                is_hr=False,
                active=True,
                created_at=AT,
                updated_at=AT,
            ),
        )
        await _insert(conn, "chat_identity", _identity("U0MGR", "slack", "U0MGR"))
        await _insert(
            conn, "nudge", _nudge(1, "goal_set", "U0MGR", "goal:1", "once", None, compact)
        )

    await migrate.upgrade(db, "0009")

    key = next(iter(await _slack_id_by_key(db)))
    async with db.connect() as conn:
        payload = (await conn.execute(text("SELECT payload FROM nudge"))).scalar_one()
    assert json.loads(payload) == {"by": key, "goal_id": 1}

    await migrate.downgrade(db, "0008")

    async with db.connect() as conn:
        payload = (await conn.execute(text("SELECT payload FROM nudge"))).scalar_one()
    assert json.loads(payload) == json.loads(compact)


async def test_0009_downgrade_refuses_while_someone_has_no_slack_identity(
    db: AsyncEngine,
) -> None:
    async with db.begin() as conn:
        for key, name in (("p00000000000000a1", "Tomás"), ("p00000000000000a2", "Tina")):
            await _insert(
                conn,
                "person",
                dict(id=key, name=name, is_hr=False, active=True, created_at=AT, updated_at=AT),
            )
            await _insert(conn, "chat_identity", _identity(key, "teams", f"29:{name}"))
        sam = "p00000000000000b1"
        await _insert(
            conn,
            "person",
            dict(id=sam, name="Sam", is_hr=False, active=True, created_at=AT, updated_at=AT),
        )
        await _insert(conn, "chat_identity", _identity(sam, "slack", "U0SAM"))

    with pytest.raises(RuntimeError, match="2 people have no Slack identity"):
        await migrate.downgrade(db, "0008")

    assert await _current(db) == {_script().get_current_head()}  # the whole downgrade undone
    async with db.connect() as conn:
        people = (await conn.execute(text("SELECT id FROM person ORDER BY id"))).scalars().all()
    assert people == ["p00000000000000a1", "p00000000000000a2", "p00000000000000b1"]


async def test_0009_downgrade_refuses_two_people_with_one_slack_user_id(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        for key, workspace in (("p00000000000000c1", "T0ONE"), ("p00000000000000c2", "T0TWO")):
            await _insert(
                conn,
                "person",
                dict(id=key, name=key, is_hr=False, active=True, created_at=AT, updated_at=AT),
            )
            await _insert(
                conn, "chat_identity", _identity(key, "slack", "U0SAM") | dict(workspace=workspace)
            )

    with pytest.raises(RuntimeError, match="2 people share a Slack user id"):
        await migrate.downgrade(db, "0008")

    assert await _current(db) == {_script().get_current_head()}


async def test_after_0009_planning_again_plans_none_of_the_nudges_planned_before_it(
    db: AsyncEngine, policy: Policy
) -> None:
    """The outbox's keys embed people: a check-in and its heads-up planned under Slack ids
    must be the very keys the planner makes under person keys, or everyone would be nudged
    a second time after the upgrade."""
    thursday = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai: November's due
    joined = datetime(2026, 1, 5, tzinfo=UTC)
    await migrate.downgrade(db, "0008")
    async with db.begin() as conn:
        await _insert(
            conn,
            "person",
            *(
                dict(
                    slack_id=sid,
                    name=name,
                    manager_id=manager,
                    is_hr=False,
                    active=True,
                    created_at=joined,
                    updated_at=joined,
                )
                for sid, name, manager in (
                    ("U0MGR", "Mira", None),
                    ("U0EMP", "Emil", "U0MGR"),
                    ("U0NEW", "Nia", "U0MGR"),
                )
            ),
        )
        await _insert(conn, "chat_identity", *(_identity(s, "slack", s) for s in SLACK_IDS[1:]))
        since = "2026-11-01"
        await _insert(
            conn,
            "nudge",  # Emil's check-in and heads-up, planned before the upgrade
            *(
                # ids from the sequence, as the planner's next rows take theirs (PostgreSQL)
                {k: v for k, v in row.items() if k != "id"}
                for row in (
                    _nudge(1, "checkin", "U0MGR", "U0EMP", "2026-11", "U0EMP", "{}"),
                    _nudge(2, "checkin_heads_up", "U0EMP", "U0EMP", "2026-11", "U0EMP", "{}")
                    | dict(role="employee", payload=_outbox_payload(manager="U0MGR", since=since)),
                )
            ),
        )

    await migrate.upgrade(db)
    await plan(db, policy=policy, now=thursday)

    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    # a subject that names nobody by key is counted as it is spelt
                    "SELECT n.kind, COALESCE(i.user_id, n.subject) FROM nudge n"
                    " LEFT JOIN chat_identity i"
                    " ON i.person_id = n.subject AND i.platform = 'slack' ORDER BY n.id"
                )
            )
        ).all()
    about = Counter((kind, slack_id) for kind, slack_id in rows)
    # Nia's were planned now (so the pass did plan check-ins); Emil's were not planned again
    assert about == {
        ("checkin", "U0EMP"): 1,
        ("checkin_heads_up", "U0EMP"): 1,
        ("checkin", "U0NEW"): 1,
        ("checkin_heads_up", "U0NEW"): 1,
    }


# -- 0010: where a message was sent ---------------------------------------------------------
def _sent_row(n: int, **where: object) -> dict[str, object]:
    return dict(
        kind="talk_record",
        recipient_id="p00000000000000d1",
        subject=f"talk:{n}",
        period="v1",
        role="notice",
        due_at=AT,
        state="sent",
        attempts=1,
        uncertain=False,
        payload="{}",
        created_at=AT,
        updated_at=AT,
        **where,
    )


async def test_0010_keeps_sent_rows_as_slacks_and_takes_teams_long_ids(db: AsyncEngine) -> None:
    await migrate.downgrade(db, "0009")
    async with db.begin() as conn:
        await _insert(conn, "nudge", _sent_row(1, channel="D0EMP", ts="1700000000.000100"))
    await migrate.upgrade(db)

    chat = "a:1" + "x" * 150  # a Teams personal chat's id is long
    async with db.begin() as conn:
        await _insert(conn, "nudge", _sent_row(2, channel=chat, ts="1:1f2e3d", platform="teams"))
        rows = (
            await conn.execute(text("SELECT subject, platform, channel FROM nudge ORDER BY id"))
        ).all()
    assert [(r[0], r[1]) for r in rows] == [("talk:1", None), ("talk:2", "teams")]  # NULL: Slack
    assert rows[1][2] == chat


async def test_0010_downgrade_refuses_while_messages_were_sent_on_teams(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await _insert(conn, "nudge", _sent_row(3, channel="a:1", ts="1:1", platform="teams"))

    with pytest.raises(RuntimeError, match="sent on Teams"):
        await migrate.downgrade(db, "0009")

    assert await _current(db) == {_script().get_current_head()}


async def test_replicas_migrating_one_database_at_once_take_turns(db: AsyncEngine) -> None:
    """Two `serve` replicas (or a replica and an operator command) starting together on an
    empty database: both upgrades succeed, and the schema is built once."""
    import asyncio

    await migrate.downgrade(db, "base")
    others = [make_engine(str(db.url)) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate.upgrade(engine) for engine in others))
    finally:
        for engine in others:
            await engine.dispose()

    assert await migrate.pending(db) == []
    assert await _tables(db) >= APP_TABLES
