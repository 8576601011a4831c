"""How close the dispatcher comes to Slack's rate limit, and whether it loses or doubles a nudge.

    .venv/bin/python benchmarks/dispatch_bench.py [--rate 50] [--count 1000] [--burst 1]
                                                  [--database-url URL]

Seeds COUNT due, pending check-in nudges for COUNT distinct managers (each with a report the
nudge is about; every recipient has a DM channel and a fresh Slack language and zone, so no
look-ups are made) through `bot.outbox.enqueue`, starts the Slack stand-in with a token bucket
on chat.postMessage (RATE per second, BURST tokens; over it: HTTP 429 with Retry-After: 1),
builds the real sender with `create_app` + `create_nudge_engine(sends_per_second=RATE)`, and
runs `engine.dispatch(now)` again and again with a clock that advances with real time (from
a Thursday 11:00 in Shanghai) until no row is pending. A 429'd row is put back `Retry-After`
seconds later and sent by a later pass.

Reports the wall time against the limit's minimum (COUNT / RATE), the 429s, and checks that
every nudge is `sent` exactly once: COUNT rows sent, COUNT successful chat.postMessage calls
to COUNT distinct channels, each row's channel its recipient's. Target: within 1.2× of the
minimum, none lost or doubled; exits 1 otherwise. The database is a temporary SQLite file
unless --database-url names a PostgreSQL server (a fresh database is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    bulk_insert,
    create_database,
    drop_database,
    fresh_name,
    machine,
    migrated_engine,
    policy,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app, create_nudge_engine
from bot.config import Settings
from bot.outbox import NudgeSpec, enqueue
from bot.periods import period_of
from bot.slack_standin import SlackStandIn
from storage.db import is_sqlite, session_scope
from storage.models import Nudge, Person

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # Thursday, 11:00 in Shanghai
TARGET_RATIO = 1.2
# Zones and countries where T0 falls inside working hours on a working day.
PLACES = [
    ("Asia/Shanghai", "CN", "zh"),
    ("Asia/Shanghai", "CN", "en"),
    ("Asia/Singapore", "SG", "en"),
    ("Asia/Tokyo", "JP", "en"),
    ("Asia/Hong_Kong", "HK", "zh"),
]


class RealTimeClock:
    """T0, then advancing with the wall clock, as the bot's clock would."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        return T0 + timedelta(seconds=time.monotonic() - self.started)


async def seed(engine: AsyncEngine, count: int) -> None:
    """COUNT managers each with one report, and a due check-in nudge to each manager."""
    people = []
    for i in range(count):
        zone, country, locale = PLACES[i % len(PLACES)]
        for prefix, manager in (("M", None), ("E", f"UM{i:06d}")):
            sid = f"U{prefix}{i:06d}"
            people.append(
                {
                    "slack_id": sid,
                    "email": f"{sid.lower()}@example.com",
                    "name": f"{'Manager' if manager is None else 'Employee'} {i}",
                    "manager_id": manager,
                    "timezone": zone,
                    "dm_channel_id": f"D{sid}",
                    "slack_locale": locale,
                    "slack_tz": zone,
                    "slack_checked_at": T0 - timedelta(days=1),
                    "locale": locale,
                    "country": country,
                    "is_hr": False,
                    "active": True,
                    "created_at": datetime(2025, 1, 6, tzinfo=UTC),
                    "updated_at": datetime(2025, 1, 6, tzinfo=UTC),
                }
            )
    people.sort(key=lambda p: p["manager_id"] is not None)  # managers first
    await bulk_insert(engine, Person.__table__, people)  # type: ignore[attr-defined]
    period = period_of(T0.date(), policy().cadence.checkin)
    specs = [
        NudgeSpec(
            "checkin",
            f"UM{i:06d}",
            f"UE{i:06d}",
            period.key,
            T0 - timedelta(minutes=30) + timedelta(milliseconds=i),
            f"UE{i:06d}",
            "manager",
            {"firm": False, "last": None, "since": period.start, "round": period.index},
        )
        for i in range(count)
    ]
    async with session_scope(engine) as session:
        created = await enqueue(session, specs, T0 - timedelta(hours=1))
        await session.commit()
    assert created == count, f"seeded {created} nudges, wanted {count}"


async def states(engine: AsyncEngine) -> Counter[str]:
    async with session_scope(engine) as session:
        rows = await session.execute(select(Nudge.state, func.count()).group_by(Nudge.state))
        return Counter({state: n for state, n in rows})


async def run(url: str, *, rate: float, count: int, burst: int, pace: float) -> bool:
    engine = await migrated_engine(url)
    try:
        await seed(engine, count)
        with SlackStandIn() as slack:
            slack.set_rate_limit("chat.postMessage", per_second=rate, burst=burst, retry_after=1)
            settings = Settings.from_env(
                {
                    "SLACK_BOT_TOKEN": slack.bot_token,
                    "SLACK_SIGNING_SECRET": "benchmark",
                    "SLACK_API_URL": slack.base_url,
                    "DATABASE_URL": url,
                }
            )
            clock = RealTimeClock()
            _app, deps = create_app(settings, policy(), engine=engine, clock=clock)
            nudges = create_nudge_engine(deps, settings, sends_per_second=pace)
            passes, claimed, retried, idle = 0, 0, 0, 0.0
            started = time.monotonic()
            while True:
                report = await nudges.dispatch(clock())
                passes += 1
                claimed += report.claimed
                retried += report.retried
                left = await states(engine)
                if not (left["pending"] or left["sending"]):
                    break
                if not report.claimed:  # only rows put back for later: wait for them
                    nap = time.monotonic()
                    await asyncio.sleep(0.02)
                    idle += time.monotonic() - nap
            elapsed = time.monotonic() - started
            posts = slack.calls_to("chat.postMessage")
        async with session_scope(engine) as session:
            sent = list(
                (await session.execute(select(Nudge).where(Nudge.state == "sent"))).scalars()
            )
        final = await states(engine)
    finally:
        await engine.dispose()

    ok_posts = [c for c in posts if c.status == 200]
    limited = [c for c in posts if c.status == 429]
    channels = Counter(c.params.get("channel") for c in ok_posts)
    gaps = [b.at - a.at for a, b in itertools.pairwise(ok_posts)]
    minimum = count / rate
    ratio = elapsed / minimum
    wrong_channel = [n.id for n in sent if n.channel != f"D{n.recipient_id}"]
    print(f"  passes {passes}, rows claimed {claimed}, put back after a 429 {retried}")
    print(f"  final states: {dict(final)}")
    print(
        f"  chat.postMessage: {len(ok_posts)} ok, {len(limited)} answered 429,"
        f" {len(channels)} distinct channels,"
        f" most to one channel {max(channels.values(), default=0)}"
    )
    if gaps:
        print(
            f"  gap between successful posts: median {statistics.median(gaps) * 1000:.1f} ms,"
            f" max {max(gaps) * 1000:.0f} ms (limit's spacing {1000 / rate:.1f} ms);"
            f" idle waiting for put-back rows {idle:.2f}s"
        )
    print(f"  wall time {elapsed:.2f}s vs minimum {minimum:.2f}s: ratio {ratio:.3f}")
    checks = [
        (f"every nudge sent (sent rows {final['sent']} == {count})", final["sent"] == count),
        (
            f"no other state ({sum(final.values()) - final['sent']} rows)",
            sum(final.values()) == count,
        ),
        (f"successful posts {len(ok_posts)} == {count}", len(ok_posts) == count),
        (f"distinct channels {len(channels)} == {count}", len(channels) == count),
        (f"each row's channel is its recipient's ({len(wrong_channel)} wrong)", not wrong_channel),
        (f"ratio {ratio:.3f} <= {TARGET_RATIO}", ratio <= TARGET_RATIO),
    ]
    for label, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'} {label}")
    return all(passed for _, passed in checks)


async def main_async(args: argparse.Namespace) -> bool:
    options = {
        "rate": args.rate,
        "count": args.count,
        "burst": args.burst,
        "pace": args.pace or args.rate,
    }
    if args.database_url and not is_sqlite(args.database_url):
        name = fresh_name("cadence_dispatch_bench")
        url = await create_database(args.database_url, name)
        try:
            return await run(url, **options)
        finally:
            await drop_database(args.database_url, name)
    if args.database_url:
        return await run(args.database_url, **options)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'dispatch_bench.db'}"
        return await run(url, **options)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="chat.postMessage per second")
    parser.add_argument("--count", type=int, default=1000, help="nudges to send")
    parser.add_argument(
        "--burst",
        type=int,
        default=2,
        help="the stand-in's bucket size (1 refuses any request a hair early: see README)",
    )
    parser.add_argument(
        "--pace", type=float, help="the dispatcher's sends_per_second (default: --rate)"
    )
    parser.add_argument(
        "--database-url",
        help="postgresql://… (a server: a fresh database is made) or sqlite:///file;"
        " default: a temporary SQLite file",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    kind = "SQLite (temp file)" if not args.database_url or is_sqlite(args.database_url) else "PG"
    print(f"machine: {machine()}")
    print(
        f"{args.count} nudges, limit {args.rate:g}/s (burst {args.burst}), dispatcher paced at"
        f" {args.pace or args.rate:g}/s, database {kind}:"
        f" minimum {args.count / args.rate:.2f}s"
    )
    return 0 if asyncio.run(main_async(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
