"""Retention benchmark: years of records past their time, deleted in batches.

Target (issue 13): retention deletes in batches that never hold long locks: no transaction
over LONGEST_MS (250 ms) with batches of 500, whatever the size. This script loads
N dialogues past their time (each with an action) and N/2 recent ones whose private notes
are past theirs, runs `retention` with apply, and prints the total time, the rows a second,
and the longest single transaction (the longest any lock is held).

    .venv/bin/python benchmarks/retention_bench.py [--database-url URL] [--talks 100000]
        [--batch 500]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, date, datetime, timedelta

from _common import (
    analyze,
    bulk_insert,
    create_database,
    drop_database,
    fresh_name,
    machine,
    migrated_engine,
    policy,
)
from sqlalchemy import event

from bot.privacy.retention import retention
from storage import sealing
from storage.models import ActionItem, Person, Talk

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
LONGEST_MS = 250


async def load(engine, talks: int) -> None:
    postgres = engine.dialect.name == "postgresql"
    keys = sealing.keyring()
    # COPY bypasses the column types: on PostgreSQL the note goes in sealed already
    note = keys.seal("a working note") if postgres else "a working note"
    people = [
        dict(
            id=f"p{n:016x}",
            name=f"Person {n}",
            manager_id=None if n == 0 else "p" + "0" * 16,
            is_hr=False,
            active=True,
            created_at=NOW,
            updated_at=NOW,
        )
        for n in range(21)
    ]
    await bulk_insert(engine, Person.__table__, people)  # type: ignore[attr-defined]
    # past three years (dialogues go) / within them but past a year (only the note goes)
    old_day, recent_day = date(2021, 1, 4), date(2025, 1, 6)
    rows = []
    for n in range(talks + talks // 2):
        old = n < talks
        rows.append(
            dict(
                id=n + 1,
                kind="checkin",
                family="dialogue",
                manager_id=people[0]["id"],
                employee_id=people[1 + n % 20]["id"],
                logged_by=people[0]["id"],
                held_on=(old_day if old else recent_day) + timedelta(days=n % 300),
                duration_minutes=15,
                facts="What happened.",
                consensus="What we agreed.",
                private_note=None if old else note,
                submission_key=f"k{n}",
                created_at=NOW,
            )
        )
    await bulk_insert(engine, Talk.__table__, rows)  # type: ignore[attr-defined]
    actions = [
        dict(
            talk_id=r["id"],
            employee_id=r["employee_id"],
            owner_id=r["employee_id"],
            text="A commitment.",
            due_on=r["held_on"],
            status="open",
            created_at=NOW,
        )
        for r in rows[:talks]
    ]
    await bulk_insert(engine, ActionItem.__table__, actions)  # type: ignore[attr-defined]
    await analyze(engine)


async def run(url: str, talks: int, batch: int) -> bool:
    engine = await migrated_engine(url)
    try:
        await load(engine, talks)
        longest, opened = 0.0, {}

        def began(conn) -> None:  # type: ignore[no-untyped-def]
            opened[id(conn)] = time.perf_counter()

        def ended(conn) -> None:  # type: ignore[no-untyped-def]
            nonlocal longest
            start = opened.pop(id(conn), None)
            if start is not None:
                longest = max(longest, time.perf_counter() - start)

        event.listen(engine.sync_engine, "begin", began)
        event.listen(engine.sync_engine, "commit", ended)
        rules = policy()
        rules = rules.model_copy(
            update={"retention": rules.retention.model_copy(update={"batch_size": batch})}
        )
        started = time.perf_counter()
        report = await retention(
            engine, policy=rules, now=NOW, apply=True, reader="bench", platform="cli"
        )
        took = time.perf_counter() - started
    finally:
        await engine.dispose()
    rows = report.counts["dialogues"] + report.counts["their actions"]
    rows += report.counts["private notes"]
    print(
        f"  {engine.dialect.name}: {report.counts['dialogues']} dialogues, "
        f"{report.counts['their actions']} actions, {report.counts['private notes']} notes"
    )
    print(
        f"  total {took:.2f}s, {rows / took:,.0f} rows/s;"
        f" longest transaction {longest * 1000:.0f} ms (batches of {batch})"
    )
    ok = report.counts["dialogues"] == talks and report.counts["private notes"] == talks // 2
    short = longest * 1000 <= LONGEST_MS
    print(("PASS" if ok else "FAIL") + " every row past its time went, nothing else")
    print(("PASS" if short else "FAIL") + f" no transaction over {LONGEST_MS} ms")
    return ok and short


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL admin URL (default: SQLite)"
    )
    parser.add_argument("--talks", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    sealing.install(sealing.Keyring.parse(sealing.new_key()))
    print(machine())
    if args.database_url:
        name = fresh_name("retention_bench")
        url = await create_database(args.database_url, name)
        try:
            passed = await run(url, args.talks, args.batch)
        finally:
            await drop_database(args.database_url, name)
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            passed = await run(f"sqlite:///{folder}/bench.db", args.talks, args.batch)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
