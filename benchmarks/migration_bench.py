"""Migration 0009 (person keys) benchmark: how long an organisation takes to move over.

Loads an organisation at revision 0008: managers with 8 reports each, every person's Slack
identity, TALKS talks per person (between a report and their manager) with an action for
every other talk, a goal and its notice per report, a year of sent check-ins and heads-ups
and a cycle's prep packs. Then times the upgrade to 0009 and the downgrade back, and checks
that a report's talks are still theirs after each.

    .venv/bin/python benchmarks/migration_bench.py [--people 10000] [--talks 10] \
        [--database-url sqlite | postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import create_database, drop_database, fresh_name, machine
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.db import make_engine
from storage.models import UtcDateTime

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REPORTS_PER_MANAGER = 8
CHUNK = 5_000


def slack_id(n: int) -> str:
    return f"U{n:08d}"


def organisation(people: int, talks: int) -> dict[str, list[dict[str, Any]]]:
    """Rows by table, as they stood at 0008."""
    rows: dict[str, list[dict[str, Any]]] = {}
    stamps = dict(created_at=AT, updated_at=AT)
    managers = {n: None if n % (REPORTS_PER_MANAGER + 1) == 0 else n - n % 9 for n in range(people)}
    rows["person"] = [
        dict(
            slack_id=slack_id(n),
            name=f"Person {n}",
            manager_id=None if manager is None else slack_id(manager),
            is_hr=False,
            active=True,
            **stamps,
        )
        for n, manager in managers.items()
    ]
    rows["chat_identity"] = [
        dict(person_id=slack_id(n), platform="slack", workspace="", user_id=slack_id(n), **stamps)
        for n in range(people)
    ]
    reports = [(slack_id(n), slack_id(m)) for n, m in managers.items() if m is not None]
    rows["talk"], rows["action_item"], rows["goal"], rows["nudge"] = [], [], [], []
    for talk_id in range(1, people * talks + 1):  # TALKS per person, between a report and manager
        employee, manager = reports[talk_id % len(reports)]
        rows["talk"].append(
            dict(
                id=talk_id,
                kind="checkin",
                family="dialogue",
                manager_id=manager,
                employee_id=employee,
                logged_by=manager,
                held_on=date(2026, 1, 5) + timedelta(days=talk_id % 300),
                duration_minutes=30,
                facts="facts",
                consensus="consensus",
                submission_key=f"k{talk_id}",
                created_at=AT,
            )
        )
        if talk_id % 2:
            rows["action_item"].append(
                dict(
                    talk_id=talk_id,
                    employee_id=employee,
                    owner_id=employee,
                    text="do it",
                    due_on=date(2026, 12, 1),
                    status="open",
                    created_at=AT,
                )
            )
    for employee, manager in reports:
        goal_id = len(rows["goal"]) + 1
        rows["goal"].append(
            dict(
                id=goal_id,
                employee_id=employee,
                set_by=manager,
                title="Ship",
                measure="shipped",
                due_on=date(2026, 12, 31),
                status="active",
                created_at=AT,
            )
        )
        nudges = [
            ("goal_set", employee, f"goal:{goal_id}", "once", {"by": manager, "goal_id": goal_id}),
            ("prep_pack", manager, f"cycle:1:{employee}", "2026", {"cycle_id": 1}),
        ]
        for month in range(1, 13):
            period = f"2026-{month:02d}"
            since = {"round": 0, "since": "2026-01-01"}
            nudges.append(("checkin", manager, employee, period, {"firm": False} | since))
            nudges.append(("checkin_heads_up", employee, employee, period, {"manager": manager}))
        rows["nudge"] += [
            dict(
                kind=kind,
                recipient_id=to,
                subject=subject,
                period=period,
                about_id=employee,
                role="manager",
                due_at=AT,
                state="sent",
                attempts=1,
                uncertain=False,
                payload=json.dumps(payload, sort_keys=True, default=str),
                **stamps,
            )
            for kind, to, subject, period, payload in nudges
        ]
    return rows


async def load(engine: AsyncEngine, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Rows into `table` by raw SQL (today's models no longer describe 0008's tables)."""
    columns = list(rows[0])
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            raw = (await conn.get_raw_connection()).driver_connection
            records = [tuple(row[c] for c in columns) for row in rows]
            await raw.copy_records_to_table(table, records=records, columns=columns)
            return
        timestamps = [c for c in columns if isinstance(rows[0][c], datetime)]
        statement = text(
            f"INSERT INTO {table} ({', '.join(columns)})"
            f" VALUES ({', '.join(':' + c for c in columns)})"
        ).bindparams(*(bindparam(c, type_=UtcDateTime()) for c in timestamps))
        for start in range(0, len(rows), CHUNK):
            await conn.execute(statement, list(rows[start : start + CHUNK]))


async def talks_of(engine: AsyncEngine, person_key: str, employee: str) -> int:
    """How many talks the person with Slack id `employee` has, read through their identity."""
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                f"SELECT count(*) FROM talk t JOIN person p ON p.{person_key} = t.employee_id"
                f" JOIN chat_identity i ON i.person_id = p.{person_key}"
                " WHERE i.platform = 'slack' AND i.user_id = :employee"
            ),
            {"employee": employee},
        )
        return int(result.scalar_one())


async def run(url: str, people: int, talks: int) -> None:
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine, "0008")
        rows = organisation(people, talks)
        for table, table_rows in rows.items():
            await load(engine, table, table_rows)
        print(", ".join(f"{table} {len(table_rows):,}" for table, table_rows in rows.items()))
        employee = slack_id(1)
        before = await talks_of(engine, "slack_id", employee)

        started = time.perf_counter()
        await migrate.upgrade(engine, "0009")
        upgraded = time.perf_counter() - started
        after = await talks_of(engine, "id", employee)

        started = time.perf_counter()
        await migrate.downgrade(engine, "0008")
        downgraded = time.perf_counter() - started
        back = await talks_of(engine, "slack_id", employee)
    finally:
        await engine.dispose()
    print(f"upgrade 0008 -> 0009: {upgraded:.2f} s; downgrade 0009 -> 0008: {downgraded:.2f} s")
    print(f"talks of {employee}: {before} before, {after} after the upgrade, {back} back")
    if not 0 < before == after == back:
        raise SystemExit("FAIL: a report's talks did not follow them")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--talks", type=int, default=10, help="talks per person")
    parser.add_argument("--database-url", default="sqlite", help="'sqlite' or a PostgreSQL URL")
    args = parser.parse_args()
    print(machine())
    if args.database_url == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            print("SQLite (a file)")
            await run(f"sqlite:///{Path(directory) / 'cadence.db'}", args.people, args.talks)
        return
    name = fresh_name("cadence_migration_bench")
    url = await create_database(args.database_url, name)
    try:
        print("PostgreSQL")
        await run(url, args.people, args.talks)
    finally:
        await drop_database(args.database_url, name)


if __name__ == "__main__":
    asyncio.run(main())
