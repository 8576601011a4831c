"""Prep pack benchmark: a manager with 20 reports and three years of weekly talks.

Target (issue 4): the packs are built in under 200 ms on PostgreSQL, with a fixed number of
queries whatever the history length; this script counts them.

    .venv/bin/python benchmarks/prep_pack_bench.py [--database-url URL] [--reports 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from _common import (
    DEFAULT_PG_URL,
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

from bot.review.prep_pack import build_packs
from storage.models import ActionItem, Cycle, Goal, Person, SelfAssessment, Talk

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
T0 = datetime(2023, 1, 1, tzinfo=UTC)
SHARES = ("under_quarter", "up_to_half", "half_or_more", None)


async def seed(engine, reports: int, years: int) -> None:  # type: ignore[no-untyped-def]
    people = [
        dict(
            id="UMGR",
            email=None,
            name="Manager",
            manager_id=None,
            timezone=None,
            locale="en",
            country="CN",
            is_hr=False,
            active=True,
            created_at=T0,
            updated_at=T0,
        )
    ]
    people += [
        dict(
            id=f"U{r:04d}",
            email=None,
            name=f"Report {r}",
            manager_id="UMGR",
            timezone="Asia/Shanghai",
            locale="zh",
            country="CN",
            is_hr=False,
            active=True,
            created_at=T0,
            updated_at=T0,
        )
        for r in range(reports)
    ]
    await bulk_insert(engine, Person.__table__, people)  # type: ignore[arg-type]
    await bulk_insert(
        engine,
        Cycle.__table__,
        [
            dict(  # type: ignore[arg-type]
                id=1,
                name="2026-Q3",
                starts_on=date(2026, 7, 1),
                ends_on=date(2026, 9, 30),
                review_from=date(2026, 12, 1),
                review_to=date(2026, 12, 14),
                created_at=T0,
            )
        ],
    )
    talks, actions, n = [], [], 0
    for r in range(reports):
        for week in range(52 * years):
            n += 1
            held = NOW.date() - timedelta(weeks=week)
            talks.append(
                dict(
                    id=n,
                    kind="checkin",
                    family="dialogue",
                    manager_id="UMGR",
                    employee_id=f"U{r:04d}",
                    logged_by="UMGR",
                    held_on=held,
                    duration_minutes=15,
                    facts=f"Week {week}: shipped things.",
                    consensus="Keep going.",
                    employee_talk_share=SHARES[week % 4],
                    private_note=None,
                    submission_key=f"k{n}",
                    created_at=T0,
                    acknowledged_at=None,
                )
            )
            actions.append(
                dict(
                    talk_id=n,
                    employee_id=f"U{r:04d}",
                    owner_id=f"U{r:04d}" if week % 3 else "UMGR",
                    text=f"Follow-up {week}",
                    due_on=held + timedelta(days=14),
                    status="done" if week > 2 else "open",
                    completed_at=None,
                    completed_in_talk_id=None,
                    created_at=T0,
                )
            )
    await bulk_insert(engine, Talk.__table__, talks)  # type: ignore[arg-type]
    await bulk_insert(engine, ActionItem.__table__, actions)  # type: ignore[arg-type]
    await bulk_insert(
        engine,
        Goal.__table__,
        [
            dict(  # type: ignore[arg-type]
                employee_id=f"U{r:04d}",
                set_by="UMGR",
                title=f"Goal {r}",
                measure="a number",
                due_on=date(2026, 12, 31),
                status="active",
                confirmed_at=T0,
                clarified_at=None,
                clarified_in_talk_id=None,
                created_at=T0,
            )
            for r in range(reports)
        ],
    )
    await bulk_insert(
        engine,
        SelfAssessment.__table__,
        [
            dict(  # type: ignore[arg-type]
                cycle_id=1,
                employee_id=f"U{r:04d}",
                rating=r % 5 + 1,
                proudest="x",
                redo="y",
                blockers="",
                support="",
                other="",
                submitted_at=T0,
                created_at=T0,
                updated_at=T0,
            )
            for r in range(0, reports, 2)
        ],
    )
    await analyze(engine)


async def measure(url: str, reports: int, years: int, runs: int) -> tuple[float, int, int]:
    """(median ms, queries per build, packs) for one history length."""
    engine = await migrated_engine(url)
    try:
        await seed(engine, reports, years)
        statements: list[str] = []
        event.listen(
            engine.sync_engine,
            "before_cursor_execute",
            lambda conn, cursor, sql, *a: statements.append(sql),
        )
        await build_packs(engine, manager_id="UMGR", policy=policy(), now=NOW)  # warm-up
        timings, queries, packs = [], 0, 0
        for _ in range(runs):
            statements.clear()
            started = time.perf_counter()
            built = await build_packs(engine, manager_id="UMGR", policy=policy(), now=NOW)
            timings.append((time.perf_counter() - started) * 1000)
            queries, packs = len(statements), len(built)
        return statistics.median(timings), queries, packs
    finally:
        await engine.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_PG_URL)
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows = []
    for years in (1, 3):
        name = fresh_name("cadence_prep_bench")
        url = await create_database(args.database_url, name)
        try:
            rows.append((years, *await measure(url, args.reports, years, args.runs)))
        finally:
            await drop_database(args.database_url, name)
    print(f"{'history':>8} {'talks':>7} {'median ms':>10} {'queries':>8} {'packs':>6}")
    for years, ms, queries, packs in rows:
        print(f"{years:>6} y {args.reports * 52 * years:>7} {ms:>10.1f} {queries:>8} {packs:>6}")
    three_years = rows[-1]
    fixed = len({q for _, _, q, _ in rows}) == 1
    fast = three_years[1] < 200
    print(
        f"{'PASS' if fast else 'FAIL'}: 3 years, {args.reports} reports built in"
        f" {three_years[1]:.1f} ms (target < 200 ms)"
    )
    print(f"{'PASS' if fixed else 'FAIL'}: {three_years[2]} queries whatever the history length")
    return 0 if fast and fixed else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
